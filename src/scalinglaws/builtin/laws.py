"""Built-in law families."""

from ..hookspecs import hookimpl


@hookimpl
def register_laws(register):
    from ..laws.chinchilla import chinchilla
    from ..laws.power_law import power_law

    register(chinchilla)
    register(power_law)
