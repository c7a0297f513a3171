"""Multi-start fitting with successive halving: screen every start briefly, polish the best few.

Most starts of a wide grid either fall into the basin of the optimum within a few iterations or
wander in flat regions (zero exponents, huge scales) for a long time. Running all of them to
convergence costs as much as the slowest one under ``vmap``. Successive halving (Jamieson &
Talwalkar 2016) runs every start a few iterations, keeps the best ``keep`` by objective, runs those
a few more, and so on; the survivors are polished to a tight tolerance.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from . import lm
from .model import Model
from .objectives import Loss


class Schedule(NamedTuple):
    """Screening stages ``(keep, iterations)`` then polishing of ``polish`` survivors.

    ``keep = 0`` keeps every start; ``polish = 0`` polishes every remaining start. The default
    screens all starts for 6 iterations, then keeps 512, 64 and 16 for 12 iterations each, and
    polishes the best 8 to convergence. ``FULL`` runs every start to convergence, which also gives
    the honest count of starts that reach the optimum.
    """

    stages: tuple = ((0, 6), (512, 12), (64, 12), (16, 12))
    polish: int = 8


DEFAULT_SCHEDULE = Schedule()
FULL_SCHEDULE = Schedule(stages=(), polish=0)

AT_BEST_RTOL = 1e-6


class MultiStartResult(NamedTuple):
    theta: jax.Array  # (P,) best parameters in the fitting space
    value: jax.Array  # best objective
    thetas: jax.Array  # (K, P) polished survivors, best first
    values: jax.Array  # (K,)
    iterations: jax.Array  # (K,) total iterations of each survivor
    converged: jax.Array  # (K,) bool: met the tolerance before max_iter
    n_at_best: jax.Array  # survivors within AT_BEST_RTOL of the best objective


def _take(states: lm.LMState, idx) -> lm.LMState:
    return jax.tree_util.tree_map(lambda a: a[idx], states)


def _best(states: lm.LMState, keep: int) -> lm.LMState:
    n = states.value.shape[0]
    if keep <= 0 or keep >= n:
        return states
    _, idx = jax.lax.top_k(-states.value, keep)
    return _take(states, idx)


def multistart(model: Model, starts, x, target, weights, *, loss: Loss, schedule: Schedule,
               max_iter: int, ftol: float) -> MultiStartResult:
    """Fit from every row of ``starts`` (S, P) and return the best; pure and jit-compatible."""
    init = jax.vmap(lambda th: lm.init_state(model, th, x, target, weights, loss))
    states = init(starts)
    for keep, iters in schedule.stages:
        states = _best(states, keep)
        run = partial(lm.run_fixed, model, x=x, target=target, weights=weights, loss=loss,
                      ftol=ftol, iterations=iters)
        states = jax.vmap(lambda s: run(s))(states)
    states = _best(states, schedule.polish)
    polish = partial(lm.run_to_convergence, model, x=x, target=target, weights=weights,
                     loss=loss, ftol=ftol, max_iter=max_iter)
    states = jax.vmap(lambda s: polish(s))(states)
    order = jnp.argsort(states.value)
    states = _take(states, order)
    best = states.value[0]
    at_best = states.value <= best + AT_BEST_RTOL * jnp.abs(best)
    return MultiStartResult(
        theta=states.theta[0],
        value=best,
        thetas=states.theta,
        values=states.value,
        iterations=states.iterations,
        converged=states.done,
        n_at_best=jnp.sum(at_best),
    )


_multistart_jit = jax.jit(
    multistart, static_argnames=("model", "loss", "schedule", "max_iter", "ftol")
)


def require_float64(**arrays) -> None:
    """Solvers run in float64: single precision cannot resolve Huber deltas of 1e-3 on log losses."""
    for name, a in arrays.items():
        if a is None:
            continue
        dtype = getattr(a, "dtype", None)
        if dtype is None or dtype != np.float64:
            raise TypeError(
                f"{name} has dtype {dtype}; the fitting core works in float64. Pass "
                f"np.asarray({name}, dtype=np.float64) and make sure jax_enable_x64 is on "
                "(importing scalinglaws.core turns it on)."
            )


def fit(model: Model, starts, x, target, weights=None, *, loss: Loss = Loss(),
        schedule: Schedule = DEFAULT_SCHEDULE, max_iter: int = 500,
        ftol: float = 1e-12) -> MultiStartResult:
    """Multi-start robust fit of ``model`` to ``target``; jit-compiled once per model and shape.

    Args:
      model: the law's pure prediction functions (see :class:`Model`).
      starts: (S, P) initial parameter vectors in the fitting space.
      x: (n, k) inputs; target: (n,) observations in the residual space (log loss for log
        residuals); weights: optional (n,) per-point weights (0 drops a point).
      loss: Huber(delta) or squared error on residuals; the objective is the weighted sum.
      schedule: successive-halving schedule; ``FULL_SCHEDULE`` runs every start to convergence.
      max_iter: iteration cap per start; ftol: relative decrease below which a step is negligible.
    """
    starts = jnp.asarray(starts)
    x = jnp.asarray(x)
    target = jnp.asarray(target)
    weights = jnp.ones_like(target) if weights is None else jnp.asarray(weights)
    require_float64(starts=starts, x=x, target=target, weights=weights)
    return _multistart_jit(model, starts, x, target, weights, loss=loss, schedule=schedule,
                           max_iter=max_iter, ftol=ftol)
