"""Variable projection as a source of starts, for laws linear in some of their parameters.

Chinchilla's L = E + A N^-alpha + B D^-beta is linear in (E, A, B) once (alpha, beta) are fixed.
Golub & Pereyra's variable projection eliminates the linear parameters exactly when the
objective is least squares *in the space where the law is linear*. Ours is not: it is the Huber
loss of log residuals, and log(E + A N^-alpha + B D^-beta) is not linear in anything. So this
module does the honest, approximate version and lets the true objective decide:

1. a grid over the nonlinear parameters (the structure's ``axes``; Chinchilla's: alpha, beta each
   on 0.05, 0.075, ..., 1.5: 59 x 59 = 3481 pairs);
2. for each pair, the linear parameters from a weighted *nonnegative* least squares in linear
   space with weights w / y^2: log y - log f ~ (y - f) / y to first order, so this is the squared
   error of log residuals linearised at the data. Positivity is required (E, A, B are fitted as
   logs): the NNLS is solved exactly by enumerating the 2^L - 1 supports (L = 3: seven small
   solves, batched) and keeping the feasible one of least error; a coefficient at zero is floored
   (its log at ``LOG_FLOOR``), which is a legitimate start;
3. the true objective (Huber on log residuals, summed) at each of those points, and the best
   ``n_seeds`` (default 32) become the starts of the Levenberg-Marquardt polish (hybrid
   curvature, every seed to convergence).

Step 2 ignores the Huber loss (outliers weigh fully) and linearises the log, so the grid point
with the least linear error need not be the best start: hence ranking by the true objective and
polishing several seeds. The exponent grid only has to land in the right basin, not to resolve
the optimum (the polish does that), which is why a coarse grid suffices where a pure grid method
needs 0.001 resolution (see ../shared/PERFORMANCE-NOTES.md).

The core knows no law: a law family declares its :class:`LinearStructure`
(``LawFamily.linear_structure``: which parameters are nonlinear, the basis columns as a function of
those and of the prepared inputs, how basis coefficients map to the fitting space, and the grid
over the nonlinear parameters), and the caller passes it in.
"""

from __future__ import annotations

import itertools
from typing import Callable, NamedTuple, Sequence, Tuple

import jax
import jax.numpy as jnp
import numpy as np

from ._jit import jit
from .lm import solve_spd
from .model import Model
from .multistart import FULL_SCHEDULE, MultiStartResult, as_float64, fit
from .objectives import Loss, objective

LOG_FLOOR = -30.0  # log of a coefficient that the NNLS put at zero


class LinearStructure(NamedTuple):
    """A law's split into nonlinear parameters and a linear combination of basis columns.

    ``nonlinear`` names the nonlinear parameters, in the order of ``nl``; ``basis(nl, z)`` -> (n, L)
    columns in linear (natural target) space given the nonlinear parameters ``nl`` (Q,) and
    prepared inputs ``z``; ``to_theta(nl, coef)`` -> (P,) fitting-space parameters from nonnegative
    coefficients (L,) (a coefficient at zero may be floored at ``exp(LOG_FLOOR)``); ``axes`` are
    the default grid values of each nonlinear parameter.
    """

    nonlinear: Tuple[str, ...]
    basis: Callable
    to_theta: Callable
    axes: Tuple[Tuple[float, ...], ...]


def nnls_small(m, v, yy):
    """Exact nonnegative least squares for small L from the normal equations.

    Minimises c^T m c - 2 c^T v + yy over c >= 0 by enumerating all nonempty supports: the NNLS
    solution is the unconstrained solution on its support, and every feasible support's solution
    is a feasible point, so the least error among feasible supports is the optimum. Columns are
    scaled to unit diagonal first (N^-alpha is ~1e-3, the constant 1). Returns (c, error).
    """
    ell = m.shape[0]
    d = jnp.sqrt(jnp.maximum(jnp.diagonal(m), 1e-300))
    ms = m / (d[:, None] * d[None, :])
    vs = v / d
    best_c = jnp.zeros(ell)
    best_err = jnp.asarray(yy)  # the empty support: c = 0
    for support in itertools.product((False, True), repeat=ell):
        if not any(support):
            continue
        mask = jnp.asarray(support)
        both = mask[:, None] & mask[None, :]
        a = jnp.where(both, ms, jnp.eye(ell))
        b = jnp.where(mask, vs, 0.0)
        cs = solve_spd(a, b)  # unrolled Cholesky: cheap to compile and to vmap
        err = yy - 2.0 * cs @ vs + cs @ (ms @ cs)
        ok = jnp.all(jnp.isfinite(cs)) & jnp.all(cs >= 0.0) & (err < best_err)
        best_c = jnp.where(ok, cs, best_c)
        best_err = jnp.where(ok, err, best_err)
    return best_c / d, best_err


def _seeds(model: Model, structure: LinearStructure, grid, z, target, weights, *, loss: Loss,
           space: str, n_seeds: int):
    """(thetas (G, P), true objectives (G,), top seeds (n_seeds, P)); pure and jit-compatible."""
    live = weights > 0
    y = jnp.exp(target) if space == "log" else target
    y = jnp.where(live, y, 1.0)
    lw = jnp.where(live, weights / (y * y) if space == "log" else weights, 0.0)
    yy = jnp.sum(lw * y * y)

    def one(nl):
        phi = structure.basis(nl, z)
        phi = jnp.where(live[:, None], phi, 0.0)
        m = phi.T @ (lw[:, None] * phi)
        v = phi.T @ (lw * y)
        coef, _ = nnls_small(m, v, yy)
        theta = structure.to_theta(nl, coef)
        r = jnp.where(live, model.f(theta, z) - target, 0.0)
        val = objective(loss, r, weights)
        return theta, jnp.where(jnp.isfinite(val), val, jnp.inf)

    thetas, values = jax.vmap(one)(grid)
    k = min(n_seeds, grid.shape[0])
    _, idx = jax.lax.top_k(-values, k)
    return thetas, values, thetas[idx]


_seeds_jit = jit(_seeds, static_argnames=("model", "structure", "loss", "space", "n_seeds"))


def varpro_grid(structure: LinearStructure, axes: Sequence[Sequence[float]] | None = None):
    """The grid over the nonlinear parameters (Cartesian product of ``axes``)."""
    axes = structure.axes if axes is None else axes
    return np.array(list(itertools.product(*axes)), dtype=np.float64)


def varpro_starts(model: Model, structure: LinearStructure, z, target, weights=None, *,
                  loss: Loss = Loss(), space: str = "log", n_seeds: int = 32,
                  axes=None) -> np.ndarray:
    """The best ``n_seeds`` variable-projection points (by the true objective), as starts."""
    z, target, weights = as_float64(target, weights, z=z)
    grid = jnp.asarray(varpro_grid(structure, axes))
    _, _, seeds = _seeds_jit(model, structure, grid, z, target, weights, loss=loss, space=space,
                             n_seeds=n_seeds)
    return np.asarray(seeds)


def fit_varpro(model: Model, structure: LinearStructure, z, target, weights=None, *,
               loss: Loss = Loss(), space: str = "log", n_seeds: int = 32, axes=None,
               extra_starts=None, max_iter: int = 500, ftol: float = 1e-12) -> MultiStartResult:
    """Variable-projection seeds, then every seed polished by LM on the true objective.

    ``extra_starts`` (S, P), e.g. user-given points, are polished alongside the seeds.
    """
    seeds = varpro_starts(model, structure, z, target, weights, loss=loss, space=space,
                          n_seeds=n_seeds, axes=axes)
    if extra_starts is not None and len(extra_starts):
        seeds = np.vstack([seeds, np.asarray(extra_starts, dtype=np.float64)])
    return fit(model, seeds, z, target, weights, loss=loss, schedule=FULL_SCHEDULE,
               max_iter=max_iter, ftol=ftol)
