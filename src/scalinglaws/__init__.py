"""scalinglaws: fit, compare and act on neural scaling laws.

The public surface is small: :func:`load_spec`, :func:`run`, :func:`fit`, :func:`get_law`,
:class:`Table`, :class:`FitResult` and :class:`MultiStart` (the default estimator), and for data
mixtures :func:`fit_mixture` and :func:`optimise_mixture`. Names are imported on first use so that
the command line starts without loading JAX.
"""

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "load_spec": "scalinglaws.api",
    "run": "scalinglaws.api",
    "fit": "scalinglaws.api",
    "get_law": "scalinglaws.api",
    "Table": "scalinglaws.data.table",
    "FitResult": "scalinglaws.results",
    "MultiStart": "scalinglaws.estimators.multistart",
    "LawFamily": "scalinglaws.laws.base",
    "Parameter": "scalinglaws.laws.base",
    "ScalingLawsError": "scalinglaws.errors",
    "SpecError": "scalinglaws.errors",
    "DataError": "scalinglaws.errors",
    "FitError": "scalinglaws.errors",
    "fit_mixture": "scalinglaws.mixture.laws",
    "optimise_mixture": "scalinglaws.mixture.optimise",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'scalinglaws' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
