"""The projected-gradient kernel on the capped simplex, shared by the mixture optimiser
(:mod:`.solve`) and projektor's selection (:mod:`.projektor`).

One step, r <- P(r - eta grad F(r)), with Beck & Teboulle's (2009) backtracking rule spread over
iterations: a candidate is accepted when F(r+) <= F(r) + grad F(r).(r+ - r) + ||r+ - r||^2 /
(2 eta) (to a relative ``slack``), and eta then grows by ``GROW`` (tracking a curvature that varies
by orders of magnitude between a flat interior and steep corners); a rejected candidate keeps r
and multiplies eta by ``SHRINK``. Every iteration costs one evaluation of F and its gradient per
start (under ``vmap`` an inner line search would run as long as the slowest start's), F never
increases, and the iterates converge like projected gradient with backtracking (O(1/k), convex F).
The state's ``aux`` is a pytree the evaluation refreshes (projektor's warm-started potentials).
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Optional

import jax
import jax.numpy as jnp

GROW = 1.5
SHRINK = 0.5
ETA0 = 1e-2
# The step never grows past this: at a vertex every candidate is accepted (it equals r), and an
# unbounded step would make r - eta g so large that the projection's bisection bracket, whose width
# grows with it, loses the precision the active set needs.
ETA_MAX = 1e3


class PGState(NamedTuple):
    """One start's iterate (a pytree)."""

    x: jax.Array  # (S,) the mixture
    value: jax.Array  # F(x)
    grad: jax.Array  # grad F(x)
    eta: jax.Array  # the current step size
    aux: Any = ()  # whatever the evaluation carries from one point to the next


def pg_init(evaluate: Callable, x, aux: Any = ()) -> PGState:
    """The state at ``x``: ``evaluate(x, aux) -> (value, grad, aux)``."""
    f, g, aux = evaluate(x, aux)
    return PGState(x, f, g, jnp.asarray(ETA0, x.dtype), aux)


def pg_step(evaluate: Callable, project: Callable, state: PGState, *, slack: float,
            max_eta: Optional[Callable] = None) -> PGState:
    """One backtracking projected-gradient step (see the module docstring).

    ``project(v)`` is the projection onto the feasible set; ``max_eta(grad)``, when given, bounds
    the grown step further (the optimiser's spending projection loses precision on long steps).
    """
    x, f, g, eta, aux = state
    cand = project(x - eta * g)
    f_c, g_c, aux_c = evaluate(cand, aux)
    d = cand - x
    bound = f + g @ d + (d @ d) / (2.0 * eta)
    ok = jnp.isfinite(f_c) & (f_c <= bound + slack * jnp.abs(f))
    g_new = jnp.where(ok, g_c, g)
    grown = jnp.minimum(eta * GROW, ETA_MAX)
    if max_eta is not None:
        grown = jnp.minimum(grown, max_eta(g_new))
    pick = lambda new, old: jnp.where(ok, new, old)  # noqa: E731
    return PGState(pick(cand, x), pick(f_c, f), g_new, jnp.where(ok, grown, eta * SHRINK),
                   jax.tree_util.tree_map(pick, aux_c, aux))


def screen(init: Callable, step: Callable, starts, iterations: int) -> PGState:
    """``iterations`` steps from every row of ``starts`` (vmapped: the rows are independent)."""
    states = jax.vmap(init)(starts)
    vstep = jax.vmap(step)
    return jax.lax.fori_loop(0, iterations, lambda _, s: vstep(s), states)


def best(states: PGState) -> PGState:
    """The state of the start with the lowest finite value."""
    i = jnp.argmin(jnp.where(jnp.isfinite(states.value), states.value, jnp.inf))
    return jax.tree_util.tree_map(lambda a: a[i], states)


def kkt(x, g, lower, upper, tol: float, nu_fallback=None):
    """First-order conditions of min F over {sum x = 1, lower <= x <= upper} at ``x``, ``g`` =
    grad F (or of a Lagrangian): the simplex multiplier nu (the mean of -g over the free
    coordinates; with none free, the midpoint of the interval of valid nu, or ``nu_fallback`` =
    (use, value)), the marginal values -(g_j + nu), the active bounds and the largest violation.
    """
    at_lower = x <= lower + tol
    at_upper = (x >= upper - tol) & ~at_lower
    free = ~(at_lower | at_upper)
    n_free = jnp.sum(free)
    nu_free = -jnp.sum(jnp.where(free, g, 0.0)) / jnp.maximum(n_free, 1)
    lo = jnp.max(jnp.where(at_lower, -g, -jnp.inf))
    hi = jnp.min(jnp.where(at_upper, -g, jnp.inf))
    mid = jnp.where(jnp.isfinite(lo) & jnp.isfinite(hi), 0.5 * (lo + hi),
                    jnp.where(jnp.isfinite(lo), lo, hi))
    if nu_fallback is not None:
        mid = jnp.where(nu_fallback[0], nu_fallback[1], mid)
    nu = jnp.where(n_free > 0, nu_free, mid)
    marginal = -(g + nu)
    violation = jnp.max(jnp.concatenate([
        jnp.where(free, jnp.abs(marginal), 0.0),
        jnp.where(at_lower, jnp.maximum(marginal, 0.0), 0.0),
        jnp.where(at_upper, jnp.maximum(-marginal, 0.0), 0.0)]))
    return nu, marginal, at_lower, at_upper, violation
