"""Built-in task `select_sources`: projektor data-source selection (see scalinglaws.mixture.projektor)."""

from ..hookspecs import hookimpl


@hookimpl
def register_tasks(register):
    from ..mixture.projektor_task import SelectSourcesTask

    register("select_sources", SelectSourcesTask)
