"""Built-in analysis tasks beyond `fit`: compare, evaluate, sensitivity."""

from ..hookspecs import hookimpl


@hookimpl
def register_tasks(register):
    from ..tasks.compare import CompareTask

    register("compare", CompareTask)
    try:
        from ..tasks.evaluate import EvaluateTask
    except ImportError:  # pragma: no cover - while the module is being written
        pass
    else:
        register("evaluate", EvaluateTask)
    try:
        from ..tasks.sensitivity import SensitivityTask
    except ImportError:  # pragma: no cover
        pass
    else:
        register("sensitivity", SensitivityTask)
