"""Built-in law families: every ``FAMILIES`` tuple in the modules of :mod:`scalinglaws.laws`.

Discovery keeps each family in its own module (one per family or paper) without a central list
to edit; the order is the modules' alphabetical order.
"""

import importlib
import pkgutil

from ..hookspecs import hookimpl


def builtin_families() -> list:
    from .. import laws

    found: list = []
    for info in sorted(pkgutil.iter_modules(laws.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{laws.__name__}.{info.name}")
        found.extend(getattr(module, "FAMILIES", ()))
    return found


@hookimpl
def register_laws(register):
    for family in builtin_families():
        register(family)
