"""Data mixtures: mixing laws (loss per domain against proportions), the capped-simplex
optimiser that chooses a mixture, entropic optimal transport, and the tasks that use them.

:mod:`.laws` (the mixture laws, each a :class:`MixtureLaw` with its fit, registered through the
``register_mixture_laws`` hook), :mod:`.simplex` (exact projections), :mod:`.kernel` (the
projected-gradient step shared by the optimiser and projektor), :mod:`.target`, :mod:`.solve`,
:mod:`.result`, :mod:`.frontier` and :mod:`.optimise` (:func:`optimise_mixture`),
:mod:`.sinkhorn` and :mod:`.projektor` (Kang et al. 2023), :mod:`.pipeline` (Ye et al.'s nested
laws), and one module per task: :mod:`.fit_task`, :mod:`.optimise_task`, :mod:`.pipeline_task`,
:mod:`.projektor_task`. Names are imported on first use.
"""

from importlib import import_module
from typing import Any

_EXPORTS = {
    "MIXING_EXP": ".laws", "MIXING_MLP": ".laws", "FittedMixture": ".laws", "MixtureLaw": ".laws",
    "FitOptions": ".laws",
    "fit_mixing_exp": ".laws", "fit_mixing_mlp": ".laws", "fit_mixture": ".laws",
    "repetition_law": ".laws", "effective_proportions": ".laws",
    "MixtureOptimum": ".result", "optimise_mixture": ".optimise",
    "MixtureFrontier": ".frontier", "mixture_frontier": ".frontier",
    "target_function": ".target",
    "InfeasibleMixture": ".simplex", "check_feasible": ".simplex", "check_spend": ".simplex",
    "project": ".simplex", "project_spend": ".simplex",
    "sinkhorn": ".sinkhorn", "sinkhorn_cost": ".sinkhorn",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(import_module(_EXPORTS[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'scalinglaws.mixture' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
