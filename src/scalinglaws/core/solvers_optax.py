"""First-order multi-start solvers from optax (L-BFGS, Adam), vmapped over starts.

Same contract as :func:`scalinglaws.core.multistart.fit`: pure functions of arrays and static
configuration, every start in one batch (no Python loop over starts), float64 throughout, and a
:class:`~scalinglaws.core.multistart.MultiStartResult` back (best theta and value, the polished
survivors best first, their iterations, converged flags and ``n_at_best``). The same
:class:`~scalinglaws.core.multistart.Schedule` prunes starts: every start runs the screening
stages (a fixed number of iterations each; ``keep`` best go on), then the ``polish`` best run
until each has converged or reached ``max_iter``. The loop runs while any start is still going
(a ``lax.while_loop`` *outside* the ``vmap``): it exits as soon as every start has stopped.

When to use them. Levenberg-Marquardt (``lm``, the default) exploits the least-squares structure
(Gauss-Newton curvature from the Jacobian) and is much faster on small laws like Chinchilla.

* ``lbfgs``: ``optax.lbfgs`` with its zoom line search (strong Wolfe); needs only the gradient
  (reverse mode: cheap for laws with many parameters, where LM's P x P normal equations and
  forward-mode Jacobians grow as P^2 per point). Under ``vmap`` every start waits for the slowest
  line search, so keep the polished set small.
* ``adam``: ``optax.adam`` with a fixed learning rate in the fitting space; no line search, robust
  on awkward (non-smooth, badly scaled, very many parameters) objectives, but slow to reach a
  tight tolerance: pair it with a looser ``ftol`` or polish the result with ``lm``.

Stopping (per start; a stopped start keeps its state while the others go on). L-BFGS: two
consecutive iterations whose relative decrease |f_prev - f| / f is at most ``ftol``, or a gradient
norm at most ``gtol`` (absolute, the objective is a sum), or a non-finite objective. Adam: no
improvement of the best objective by more than ``ftol`` (relative) for ``patience`` iterations;
it returns the best point seen. Relative tests divide by the objective floored at 1e-300, never
at 1 (see ``objectives``).

x64: optax keeps some scalars of its state (line-search step sizes, counters) in the dtype of
the inputs it sees; a ``lax.while_loop``/``fori_loop`` carry must keep its dtypes, which optax
issue #1210 reports breaking under x64 in ``lax.scan``. The state is initialised from float64
parameters and every carry leaf is cast back to its initial dtype after each step
(``_same_dtypes``), so the loops are type-stable; ``tests/core/test_solvers.py`` checks the
result is float64.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from ._jit import jit
from .model import Model
from .multistart import DEFAULT_SCHEDULE, MultiStartResult, Schedule, as_float64, best_first, keep_best
from .objectives import Loss, objective

SOLVERS = ("lbfgs", "adam")
_TINY = 1e-300

# Reasons a start stopped (see ``diagnostics.Reason`` for the human messages).
REASON_RUNNING = 0
REASON_FTOL = 1
REASON_GTOL = 2
REASON_MAX_ITER = 3
REASON_NONFINITE = 4
REASON_STALLED = 5


class OptaxConfig(NamedTuple):
    """Static settings of the optax solvers (hashable: part of the compilation key)."""

    solver: str = "lbfgs"
    memory_size: int = 10  # L-BFGS history
    max_linesearch_steps: int = 20
    learning_rate: float = 5e-2  # Adam, initial step in the fitting space
    lr_half_life: int = 200  # Adam: iterations per halving of the step
    patience: int = 200  # Adam: iterations without a relative improvement above ftol
    gtol: float = 0.0  # absolute gradient-norm stop (0: off)


class OptaxState(NamedTuple):
    theta: jax.Array  # (P,) current point
    opt_state: Any  # optax state
    value: jax.Array  # objective at theta
    best_theta: jax.Array  # best point seen (Adam returns it)
    best_value: jax.Array
    iterations: jax.Array  # int32
    small_steps: jax.Array  # int32: consecutive negligible decreases (L-BFGS) or stalls (Adam)
    done: jax.Array  # bool
    reason: jax.Array  # int32, REASON_*


def _value_fn(model: Model, x, target, weights, loss: Loss):
    live = weights > 0

    def fn(theta):
        r = jnp.where(live, model.f(theta, x) - target, 0.0)
        v = objective(loss, r, weights)
        return jnp.where(jnp.isfinite(v), v, jnp.inf)

    return fn


def _optimizer(config: OptaxConfig):
    import optax

    if config.solver == "lbfgs":
        return optax.lbfgs(memory_size=config.memory_size,
                           linesearch=optax.scale_by_zoom_linesearch(
                               max_linesearch_steps=config.max_linesearch_steps))
    if config.solver == "adam":
        # Halve the step every ``lr_half_life`` iterations (down to 1e-3 of the start): a fixed
        # step leaves Adam oscillating at a distance of ~learning_rate from the optimum.
        lr = optax.exponential_decay(config.learning_rate, config.lr_half_life, 0.5,
                                     end_value=1e-3 * config.learning_rate)
        return optax.adam(lr)
    raise ValueError(f"solver must be one of {SOLVERS}, got {config.solver!r}")


def _same_dtypes(new, old):
    return jax.tree_util.tree_map(lambda a, b: jnp.asarray(a, b.dtype), new, old)


def _init(model, theta, x, target, weights, loss, config) -> OptaxState:
    fn = _value_fn(model, x, target, weights, loss)
    opt_state = _optimizer(config).init(theta)
    value = fn(theta)
    return OptaxState(theta=theta, opt_state=opt_state, value=value, best_theta=theta,
                      best_value=value, iterations=jnp.asarray(0, jnp.int32),
                      small_steps=jnp.asarray(0, jnp.int32), done=~jnp.isfinite(value),
                      reason=jnp.where(jnp.isfinite(value), REASON_RUNNING,
                                       REASON_NONFINITE).astype(jnp.int32))


def _step(model, state: OptaxState, x, target, weights, loss, ftol, config) -> OptaxState:
    import optax

    fn = _value_fn(model, x, target, weights, loss)
    opt = _optimizer(config)
    if config.solver == "lbfgs":
        value, grad = optax.value_and_grad_from_state(fn)(state.theta, state=state.opt_state)
        updates, opt_state = opt.update(grad, state.opt_state, state.theta, value=value,
                                        grad=grad, value_fn=fn)
    else:
        value, grad = jax.value_and_grad(fn)(state.theta)
        updates, opt_state = opt.update(grad, state.opt_state, state.theta)
    theta = optax.apply_updates(state.theta, updates)
    new_value = fn(theta)
    finite = jnp.isfinite(new_value) & jnp.all(jnp.isfinite(theta))
    f = jnp.maximum(state.best_value, _TINY)
    improved = finite & (new_value < state.best_value - ftol * f)
    best_theta = jnp.where(finite & (new_value < state.best_value), theta, state.best_theta)
    best_value = jnp.where(finite & (new_value < state.best_value), new_value, state.best_value)
    gnorm = jnp.sqrt(jnp.sum(grad * grad))
    if config.solver == "lbfgs":
        negligible = finite & (jnp.abs(state.value - new_value) <= ftol * jnp.maximum(
            jnp.abs(new_value), _TINY))
        small_steps = jnp.where(negligible, state.small_steps + 1, 0)
        ftol_met = small_steps >= 2
    else:
        small_steps = jnp.where(improved, 0, state.small_steps + 1)
        ftol_met = small_steps >= config.patience
    gtol_met = finite & (gnorm <= config.gtol)
    reason = jnp.where(~finite, REASON_NONFINITE,
                       jnp.where(gtol_met, REASON_GTOL,
                                 jnp.where(ftol_met, REASON_FTOL, REASON_RUNNING)))
    new = OptaxState(theta=jnp.where(finite, theta, state.best_theta), opt_state=opt_state,
                     value=jnp.where(finite, new_value, state.best_value), best_theta=best_theta,
                     best_value=best_value, iterations=state.iterations + 1,
                     small_steps=small_steps, done=reason != REASON_RUNNING,
                     reason=reason.astype(jnp.int32))
    return _same_dtypes(new, state)


def optax_multistart(model: Model, starts, x, target, weights, *, loss: Loss, schedule: Schedule,
                     max_iter: int, ftol: float,
                     config: OptaxConfig) -> tuple[MultiStartResult, jax.Array]:
    """Multi-start fit with an optax solver, and each survivor's stop reason; pure and
    jit-compatible (see module doc)."""
    init = jax.vmap(lambda th: _init(model, th, x, target, weights, loss, config))
    vstep = jax.vmap(lambda s: _step(model, s, x, target, weights, loss, ftol, config))

    def masked(s, run):
        new = vstep(s)
        return jax.tree_util.tree_map(
            lambda a, b: jnp.where(jnp.reshape(run, run.shape + (1,) * (a.ndim - 1)), a, b),
            new, s)

    states = init(starts)
    for keep, iters in schedule.stages:
        states = keep_best(states, keep, states.best_value)
        states = jax.lax.fori_loop(0, iters, lambda _, s: masked(s, ~s.done), states)
    states = keep_best(states, schedule.polish, states.best_value)

    going = lambda s: (~s.done) & (s.iterations < max_iter)  # noqa: E731
    states = jax.lax.while_loop(lambda s: jnp.any(going(s)), lambda s: masked(s, going(s)),
                                states)
    reason = jnp.where(states.done, states.reason, REASON_MAX_ITER).astype(jnp.int32)
    converged = (reason == REASON_FTOL) | (reason == REASON_GTOL)
    return (best_first(states.best_theta, states.best_value, states.iterations, converged),
            reason[jnp.argsort(states.best_value)])


_optax_jit = jit(optax_multistart,
                 static_argnames=("model", "loss", "schedule", "max_iter", "ftol", "config"))


def fit_optax(model: Model, starts, x, target, weights=None, *, solver: str = "lbfgs",
              loss: Loss = Loss(), schedule: Schedule = DEFAULT_SCHEDULE,
              max_iter: int = 1000, ftol: float = 1e-12,
              config: OptaxConfig | None = None, return_reasons: bool = False):
    """Multi-start robust fit with optax's L-BFGS or Adam; jit-compiled once per model and shape.

    Args: as :func:`scalinglaws.core.fit`, plus ``solver`` (``lbfgs`` or ``adam``) and ``config``
    (:class:`OptaxConfig`: L-BFGS memory, line-search steps, Adam learning rate and patience,
    gradient tolerance). ``schedule.polish_curvature`` is ignored (no curvature here).

    Returns a :class:`MultiStartResult`; with ``return_reasons`` also the (K,) stop reasons
    (``REASON_*`` codes; ``diagnostics.Reason`` has their messages).
    """
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {SOLVERS}, got {solver!r}")
    config = (config or OptaxConfig())._replace(solver=solver)
    starts, x, target, weights = as_float64(target, weights, starts=starts, x=x)
    result, reasons = _optax_jit(model, starts, x, target, weights, loss=loss,
                                 schedule=schedule, max_iter=max_iter, ftol=ftol, config=config)
    return (result, reasons) if return_reasons else result
