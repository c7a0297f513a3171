"""Built-in analysis tasks: predict and allocate."""

from ..hookspecs import hookimpl
from ..tasks.allocate import AllocateTask
from ..tasks.predict import PredictTask


@hookimpl
def register_tasks(register):
    register("predict", PredictTask)
    register("allocate", AllocateTask)
