"""An example scalinglaws plugin: one law family from a paper, registered through the
`scalinglaws` entry point declared in this package's pyproject.toml."""

from scalinglaws.hookspecs import hookimpl

from .rosenfeld import rosenfeld_envelope

__all__ = ["rosenfeld_envelope", "register_laws"]


@hookimpl
def register_laws(register):
    register(rosenfeld_envelope)
