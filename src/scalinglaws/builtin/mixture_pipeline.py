"""Built-in task `mixture_pipeline`: Ye et al. 2024's nested step, size and mixing laws
(see scalinglaws.mixture.pipeline)."""

from ..hookspecs import hookimpl


@hookimpl
def register_tasks(register):
    from ..mixture.pipeline_task import MixturePipelineTask

    register("mixture_pipeline", MixturePipelineTask)
