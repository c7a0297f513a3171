"""Built-in mixture tasks: `fit_mixture` and `optimise_mixture` (see scalinglaws.mixture)."""

from ..hookspecs import hookimpl


@hookimpl
def register_tasks(register):
    from ..mixture.tasks import FitMixtureTask, OptimiseMixtureTask

    register("fit_mixture", FitMixtureTask)
    register("optimise_mixture", OptimiseMixtureTask)
