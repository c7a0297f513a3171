"""Built-in tasks."""

from ..hookspecs import hookimpl
from ..tasks.fit import FitTask


@hookimpl
def register_tasks(register):
    register("fit", FitTask)
