"""Data mixtures: mixing laws (loss per domain against proportions), the capped-simplex
optimiser that chooses a mixture, and entropic optimal transport.

* :mod:`.simplex`: exact projection onto {sum r = 1, l <= r <= u} (and with a spending limit
  c . r <= s) and feasibility checks;
* :mod:`.laws`: ``mixing_exp`` (Ye et al. 2024), its repetition-aware variant (Muennighoff's
  effective data) and an exp-activation surrogate, fitted per domain, with a joint bootstrap;
* :mod:`.optimise`: :func:`optimise_mixture`, projected gradient over many starts, polished, with
  KKT multipliers and bootstrap intervals; targets as weights, functions or formulas; a spending
  limit on per-token costs; :func:`mixture_frontier`, the optimum against the token budget;
* :mod:`.sinkhorn`: log-domain Sinkhorn (OT cost and dual potentials);
* :mod:`.tasks`: the ``fit_mixture`` and ``optimise_mixture`` tasks.

Names are imported on first use, so registering the tasks does not load JAX.
"""

from importlib import import_module
from typing import Any

_EXPORTS = {
    "MIXING_EXP": ".laws", "MIXING_MLP": ".laws", "FittedMixture": ".laws", "MixtureLaw": ".laws",
    "fit_mixing_exp": ".laws", "fit_mixing_mlp": ".laws", "fit_mixture": ".laws",
    "repetition_law": ".laws", "effective_proportions": ".laws",
    "MixtureOptimum": ".optimise", "optimise_mixture": ".optimise",
    "MixtureFrontier": ".optimise", "mixture_frontier": ".optimise",
    "target_function": ".optimise",
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
