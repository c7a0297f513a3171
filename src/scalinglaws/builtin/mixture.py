"""Built-in mixture laws (`mixing_exp`, `mixing_exp_repetition`, `mixing_mlp`) and the tasks that
use them: `fit_mixture` and `optimise_mixture` (see scalinglaws.mixture), `mixture_pipeline`
(Ye et al. 2024's nested step, size and mixing laws, scalinglaws.mixture.pipeline) and
`select_sources` (projektor data-source selection, scalinglaws.mixture.projektor)."""

from ..hookspecs import hookimpl
from ..mixture.fit_task import FitMixtureTask
from ..mixture.laws import BUILTIN_LAWS
from ..mixture.optimise_task import OptimiseMixtureTask
from ..mixture.pipeline_task import MixturePipelineTask
from ..mixture.projektor_task import SelectSourcesTask


@hookimpl
def register_mixture_laws(register):
    for law in BUILTIN_LAWS:
        register(law)


@hookimpl
def register_tasks(register):
    register("fit_mixture", FitMixtureTask)
    register("optimise_mixture", OptimiseMixtureTask)
    register("mixture_pipeline", MixturePipelineTask)
    register("select_sources", SelectSourcesTask)
