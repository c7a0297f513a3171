"""Multi-start fitting with successive halving: screen every start briefly, polish the best few.

Most starts of a wide grid either fall into the basin of the optimum within a few iterations or
wander in flat regions (zero exponents, huge scales) for a long time. Running all of them to
convergence costs as much as the slowest one under ``vmap``. Successive halving (Jamieson &
Talwalkar 2016) runs every start a few iterations, keeps the best ``keep`` by objective, runs those
a few more, and so on; the survivors are polished to a tight tolerance.

Where the time goes (Chinchilla, 240 points, 4500 starts, 2 cores): one LM iteration over all
4500 starts costs 15-20 ms, nearly all of it the model, its Jacobian and the sums of the normal
equations; an iteration over 32 starts costs 1/140 of that. And every stage is a separately
compiled copy of the LM step (its batch size differs), ~0.5 s of XLA compilation each. So the
default schedule is short: every start gets two IRLS steps, which is enough to separate the
starts heading for the optimum from those drifting into flat regions, and the best 32 are polished
with the hybrid (exact Gauss-Newton) curvature, which converges in 15-40 iterations where IRLS
needs ~80. On the Chinchilla data and 16 simulated data sets (4 truths, 2 noise levels, 240 and
36 points) it found the optimum of running all 4500 starts to convergence every time (to 5e-11
relative; that ``FULL`` run takes 10-30 s). Longer schedules remain available: ``stages=((0, 6),
(512, 12), (64, 12), (16, 12)), polish=8, polish_curvature="irls"`` is the previous default.

With several devices, :func:`fit` splits the starts over them (:func:`multistart_sharded`: the
same stages, with the pruning choices made on gathered objective values); with one it runs
:func:`multistart` unchanged.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

import jax
import jax.numpy as jnp
import numpy as np

from . import lm
from . import sharding as sh
from ._jit import jit
from .model import Model
from .objectives import Loss


class Schedule(NamedTuple):
    """Screening stages ``(keep, iterations)`` then polishing of ``polish`` survivors.

    ``keep = 0`` keeps every start; ``polish = 0`` polishes every remaining start. Screening
    steps use IRLS curvature (safe from anywhere); the polish uses ``polish_curvature``
    (``hybrid``: exact Gauss-Newton curvature of the robust loss once at least P points are in its
    quadratic region; ``irls`` gives the slower pure-IRLS polish). The default screens all starts
    for 2 iterations and polishes the best 32 to convergence. ``FULL`` runs every start to
    convergence, which also gives the honest count of starts that reach the optimum.
    """

    stages: tuple = ((0, 2),)
    polish: int = 32
    polish_curvature: str = "hybrid"


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


def keep_best(states, keep: int, values=None):
    """The ``keep`` rows of a batch of solver states of least ``values`` (default: the states'
    ``value``); all of them when ``keep`` is 0 or not below their count."""
    values = states.value if values is None else values
    if keep <= 0 or keep >= values.shape[0]:
        return states
    _, idx = jax.lax.top_k(-values, keep)
    return _take(states, idx)


def multistart(model: Model, starts, x, target, weights, *, loss: Loss, schedule: Schedule,
               max_iter: int, ftol: float) -> MultiStartResult:
    """Fit from every row of ``starts`` (S, P) and return the best; pure and jit-compatible."""
    states = jax.vmap(lambda th: lm.init_state(model, th, x, target, weights, loss))(starts)
    for keep, iters in schedule.stages:
        states = keep_best(states, keep)
        states = lm.run_fixed(model, states, x, target, weights, loss, ftol, iters, "irls")
    states = keep_best(states, schedule.polish)
    curvature = schedule.polish_curvature
    if curvature != "irls":
        # The states hold IRLS matrices (hess_exact = hess); with n_quadratic = 0 the first hybrid
        # step uses them, and every kept step brings the exact matrix of its new point. Cheaper
        # than re-evaluating the survivors, and one evaluation less to compile.
        states = states._replace(n_quadratic=jnp.zeros_like(states.n_quadratic))
    states = lm.run_to_convergence(model, states, x, target, weights, loss, ftol, max_iter,
                                   curvature)
    return best_first(states.theta, states.value, states.iterations, states.done)


_multistart_jit = jit(multistart, static_argnames=("model", "loss", "schedule", "max_iter", "ftol"))


class _Rows(NamedTuple):
    """Static layout of the states in :func:`multistart_sharded` (Python values, not traced)."""

    split: bool  # each device holds its block of rows (else every device holds all rows)
    total: int  # global row count, padding included
    valid: int  # the first ``valid`` global rows are real starts; the rest copy the last one


def _select_split(states: lm.LMState, rows: _Rows, keep: int, n_dev: int):
    """``keep_best`` over the global rows, inside the per-device program; (states, layout).

    The objective values are gathered (a few numbers per start), the top ``keep`` are chosen on
    every device alike, and only the chosen rows travel. Padding rows get +inf first: as copies
    of the last start they tie with it, and top_k would otherwise take a copy in place of a
    worse real start. top_k breaks ties by lower index, as on one device, so real starts with an
    infinite objective still come before the padding.
    """
    if keep <= 0 or keep >= rows.valid:
        return states, rows
    values = sh.all_rows(states.value) if rows.split else states.value
    if rows.total != rows.valid:
        values = jnp.where(jnp.arange(rows.total) < rows.valid, values, jnp.inf)
    _, idx = jax.lax.top_k(-values, keep)
    chosen = sh.take_rows(states, idx) if rows.split else _take(states, idx)
    if keep % n_dev == 0:
        # Survivors split again: each device steps keep / n_dev of them.
        return sh.local_block(chosen), _Rows(True, keep, keep)
    # A count the devices do not divide is small (a few polished survivors): every device steps
    # all of them, which costs no more wall time than a split with padding would.
    return chosen, _Rows(False, keep, keep)


def multistart_sharded(model: Model, starts, x, target, weights, *, mesh, loss: Loss,
                       schedule: Schedule, max_iter: int, ftol: float) -> MultiStartResult:
    """:func:`multistart` with the starts split over the devices of ``mesh``; pure, jittable.

    The same algorithm row for row: every row's steps read only that row (converged rows stay
    put), and the selections between stages are the same top_k over the same values, so the
    result equals one device's up to floating-point reassociation in the compiled code. Each
    device runs its own loops (``jax.shard_map``, no per-iteration communication); devices talk
    only at a selection (gather of the objective values, then of the chosen rows) and at the end
    (gather of the survivors, so every device returns the whole result).
    """
    n_dev = mesh.devices.size
    n_starts = starts.shape[0]
    total = sh.round_up(n_starts, n_dev)
    if total != n_starts:  # copies of the last start: valid problems, masked out of every choice
        starts = jnp.concatenate([starts, jnp.repeat(starts[-1:], total - n_starts, axis=0)])

    def program(local_starts, x, target, weights):
        states = jax.vmap(lambda th: lm.init_state(model, th, x, target, weights, loss))(
            local_starts)
        rows = _Rows(True, total, n_starts)
        for keep, iters in schedule.stages:
            states, rows = _select_split(states, rows, keep, n_dev)
            states = lm.run_fixed(model, states, x, target, weights, loss, ftol, iters, "irls")
        states, rows = _select_split(states, rows, schedule.polish, n_dev)
        curvature = schedule.polish_curvature
        if curvature != "irls":  # as in multistart
            states = states._replace(n_quadratic=jnp.zeros_like(states.n_quadratic))
        states = lm.run_to_convergence(model, states, x, target, weights, loss, ftol, max_iter,
                                       curvature)
        out = (states.theta, states.value, states.iterations, states.done)
        if rows.split:
            out = sh.all_rows(out)
        return best_first(*(a[:rows.valid] for a in out))

    spec = jax.sharding.PartitionSpec
    # check_vma off, as in sharding.sharded_batch_map; out_specs replicated: every device
    # returns the same gathered result.
    return jax.shard_map(program, mesh=mesh, in_specs=(spec(sh.BATCH_AXIS), spec(), spec(), spec()),
                         out_specs=spec(), check_vma=False)(starts, x, target, weights)


def best_first(theta, value, iterations, done) -> MultiStartResult:
    """The polished survivors best first (stable sort, as in :func:`multistart`)."""
    order = jnp.argsort(value)
    theta, value, iterations, done = theta[order], value[order], iterations[order], done[order]
    best = value[0]
    at_best = value <= best + AT_BEST_RTOL * jnp.abs(best)
    return MultiStartResult(theta=theta[0], value=best, thetas=theta, values=value,
                            iterations=iterations, converged=done, n_at_best=jnp.sum(at_best))


_multistart_sharded_jit = jit(multistart_sharded, static_argnames=(
    "mesh", "model", "loss", "schedule", "max_iter", "ftol"))


def enable_float64() -> None:
    """Switch JAX to float64 (``jax_enable_x64``) for the process, if it is not on yet.

    The core fits in float64 (:func:`require_float64`). Its fitting functions (:func:`fit`,
    ``fit_optax``, ``fit_varpro``, ``varpro_starts``, ``bootstrap``, ``hessian_se``,
    ``fit_many``) call this when they are called, never on import, so importing the core changes
    no global state; code that makes its own JAX arrays for the core (the pure ``multistart``
    inside a caller's ``jit``) calls it first.
    """
    if not jax.config.jax_enable_x64:
        jax.config.update("jax_enable_x64", True)


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
                "(scalinglaws.core.enable_float64() turns it on)."
            )


def as_float64(target, weights, **arrays) -> tuple:
    """``arrays`` (in keyword order), ``target`` and ``weights`` (default: ones) as JAX arrays, with
    float64 switched on (:func:`enable_float64`) and each checked to be float64
    (:func:`require_float64`): the inputs of every fitting function of the core."""
    enable_float64()
    arrays = {k: jnp.asarray(v) for k, v in arrays.items()}
    arrays["target"] = target = jnp.asarray(target)
    arrays["weights"] = jnp.ones_like(target) if weights is None else jnp.asarray(weights)
    require_float64(**arrays)
    return tuple(arrays.values())


def check_schedule(schedule: Schedule) -> None:
    if schedule.polish_curvature not in lm.CURVATURES:
        raise ValueError(f"Schedule.polish_curvature must be one of {lm.CURVATURES}, got "
                         f"{schedule.polish_curvature!r}")
    for stage in schedule.stages:
        if len(stage) != 2 or int(stage[0]) < 0 or int(stage[1]) < 0:
            raise ValueError(f"Schedule.stages holds (keep >= 0, iterations >= 0) pairs, got {stage!r}")


def fit(model: Model, starts, x, target, weights=None, *, loss: Loss = Loss(),
        schedule: Schedule = DEFAULT_SCHEDULE, max_iter: int = 500,
        ftol: float = 1e-12, mesh: Optional[jax.sharding.Mesh] = None) -> MultiStartResult:
    """Multi-start robust fit of ``model`` to ``target``; jit-compiled once per model and shape.

    Args:
      model: the law's pure prediction functions (see :class:`Model`).
      starts: (S, P) initial parameter vectors in the fitting space.
      x: (n, k) inputs; target: (n,) observations in the residual space (log loss for log
        residuals); weights: optional (n,) per-point weights (0 drops a point).
      loss: Huber(delta) or squared error on residuals; the objective is the weighted sum.
      schedule: successive-halving schedule; ``FULL_SCHEDULE`` runs every start to convergence.
      max_iter: iteration cap per start; ftol: relative decrease below which a step is negligible
        (a start stops when actual and predicted relative decreases are both below it, or after
        two kept steps below it; see ``lm``).
      mesh: a 1-D device mesh with axis ``"batch"`` (``sharding.batch_mesh``); default all of
        ``jax.devices()``. With several devices the starts are split over them
        (:func:`multistart_sharded`, same result); with one, the plain program runs.

    Returns the polished survivors best first; ``theta`` and ``value`` are the best of them.
    """
    starts, x, target, weights = as_float64(target, weights, starts=starts, x=x)
    check_schedule(schedule)
    # One device (the common case, checked without building a mesh): the unsharded program, so
    # sharding costs it nothing, not even a copy or a second compilation.
    if (jax.device_count() == 1 if mesh is None else mesh.devices.size == 1):
        return _multistart_jit(model, starts, x, target, weights, loss=loss, schedule=schedule,
                               max_iter=max_iter, ftol=ftol)
    return _multistart_sharded_jit(model, starts, x, target, weights,
                                   mesh=sh.batch_mesh() if mesh is None else mesh, loss=loss,
                                   schedule=schedule, max_iter=max_iter, ftol=ftol)
