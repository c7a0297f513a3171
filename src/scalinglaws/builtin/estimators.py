"""Built-in estimators."""

from ..estimators.multistart import MultiStart
from ..hookspecs import hookimpl


@hookimpl
def register_estimators(register):
    register("multistart", MultiStart)
