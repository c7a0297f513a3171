"""An example scalinglaws plugin: a data source for experiment trackers' run folders, registered
through the `scalinglaws` entry point declared in this package's pyproject.toml."""

from scalinglaws.hookspecs import hookimpl

from .run_folders import RunFolders

__all__ = ["RunFolders", "register_data_sources"]


@hookimpl
def register_data_sources(register):
    register("run_folders", RunFolders)
