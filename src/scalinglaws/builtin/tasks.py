"""Built-in tasks: fit, and the analyses built on it (predict, allocate, compare, evaluate,
sensitivity). The mixture tasks register with the mixture laws, in :mod:`.mixture`."""

from ..hookspecs import hookimpl
from ..tasks.allocate import AllocateTask
from ..tasks.compare import CompareTask
from ..tasks.evaluate import EvaluateTask
from ..tasks.fit import FitTask
from ..tasks.predict import PredictTask
from ..tasks.sensitivity import SensitivityTask


@hookimpl
def register_tasks(register):
    register("fit", FitTask)
    register("predict", PredictTask)
    register("allocate", AllocateTask)
    register("compare", CompareTask)
    register("evaluate", EvaluateTask)
    register("sensitivity", SensitivityTask)
