"""The mixture solver: minimise F(r) (:mod:`.target`) over the capped simplex, with KKT
multipliers at the optimum. Screening: the projected-gradient kernel (:mod:`.kernel`) from many
starts, vmapped; every law of :mod:`.laws` is convex in r for nonnegative target weights.

Polish: from the best start, alternate that projected-gradient step (which lets coordinates leave
or join their bounds) with a damped Newton step on the current face (coordinates strictly between
their bounds, the sum constraint kept through the KKT system of the equality-constrained quadratic
model, Levenberg damping grown on rejection): near the optimum the face is fixed and Newton
converges quadratically, so the result meets first-order conditions to rounding, not to the
tolerance of a first-order method.

KKT multipliers at the optimum r*: with g = grad F(r*), the simplex multiplier nu and the spending
multiplier mu >= 0 (g_j + nu + mu c_j = 0 on free coordinates; least squares over them when they
determine both, else the multipliers of the projection of r* - eta g, which has r* as its fixed
point), the multiplier of source j's active bound is g_j + nu + mu c_j >= 0 at a lower bound and
-(g_j + nu + mu c_j) >= 0 at an upper bound. ``marginal`` is -(g_j + nu + mu c_j) for every
source: how much F would drop per unit of proportion moved into source j from the free sources at
unchanged spending (zero for free sources; positive for a binding cap: the value of relaxing it).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from ..core import sharding as sh
from ..core._jit import jit
from . import kernel
from .simplex import project_spend_kkt
from .target import Problem, Setup, objective, project_onto

ACTIVE_TOL = 1e-12
SPEND_REACH = 10.0


def _evaluate(setup: Setup, prob: Problem):
    def evaluate(r, aux):
        f, g = jax.value_and_grad(lambda x: objective(setup, prob, x))(r)
        return f, g, aux
    return evaluate


def _pg_step(setup: Setup, prob: Problem, state: kernel.PGState) -> kernel.PGState:
    # The spending projection computes r = v - tau - mu c, with the rounding of |v|: keeping the
    # step eta |g| within SPEND_REACH (a few simplex diameters, enough to jump to any vertex)
    # keeps the limit met to ~1e-15, where a long step would leave it 1e-12 off, and the polish
    # would then reject every step that lands back on it.
    reach = ((lambda g: SPEND_REACH / jnp.maximum(jnp.max(jnp.abs(g)), 1e-300))
             if setup.spend else None)
    return kernel.pg_step(_evaluate(setup, prob), lambda v: project_onto(setup, prob, v), state,
                          slack=1e-15, max_eta=reach)


def _free(r, prob: Problem):
    return (r > prob.lower + ACTIVE_TOL) & (r < prob.upper - ACTIVE_TOL)


def _spend_binds(setup: Setup, prob: Problem, r):
    if not setup.spend:
        return jnp.asarray(False)
    return prob.cost @ r >= prob.limit - ACTIVE_TOL * jnp.maximum(jnp.abs(prob.limit), 1.0)


def _newton_step(setup: Setup, prob: Problem, state: kernel.PGState, lam):
    """Damped Newton on the face of the current free coordinates (its equalities kept).

    With A = H_FF + lam s I (H the Hessian on the free coordinates, s its scale) and the face's
    equality constraints C' d = 0 (C = [1], or [1, cost] when the spending limit binds), the step
    of the equality-constrained quadratic model is d = -A^-1 (g + C y), y = -(C' A^-1 C)^-1
    C' A^-1 g: one Cholesky factorisation, three right-hand sides (cheaper to compile than the LU
    of the indefinite KKT matrix). A Hessian that is not positive definite (a nonconvex law) gives
    a non-finite step, which is rejected and raises the damping.
    """
    r, f, g = state.x, state.value, state.grad
    free = _free(r, prob)
    hess = jax.hessian(lambda x: objective(setup, prob, x))(r)
    both = free[:, None] & free[None, :]
    scale = jnp.maximum(jnp.max(jnp.abs(jnp.diagonal(hess))), 1e-12)
    a = jnp.where(both, hess, 0.0) + jnp.diag(jnp.where(free, lam * scale, 1.0))
    ones = jnp.where(free, 1.0, 0.0)
    binds = _spend_binds(setup, prob, r)
    cost = jnp.where(free & binds, prob.cost, 0.0)
    rhs = jnp.stack([jnp.where(free, g, 0.0), ones, cost], axis=1)
    sol = jax.scipy.linalg.cho_solve(jax.scipy.linalg.cho_factor(a, lower=True), rhs)
    c = jnp.stack([ones, cost], axis=1)  # (S, 2)
    m = c.T @ sol[:, 1:]
    # Without a binding limit the cost column is zero: a unit pivot keeps m regular (y_1 = 0).
    m = m.at[1, 1].set(jnp.where(binds, m[1, 1], 1.0))
    y = -jnp.linalg.solve(m, c.T @ sol[:, 0])
    d = jnp.where(free, -(sol[:, 0] + sol[:, 1:] @ y), 0.0)
    cand = project_onto(setup, prob, r + d)
    f_c, g_c = jax.value_and_grad(lambda x: objective(setup, prob, x))(cand)
    # A step that changes F by rounding only is taken (a strict test would reject it and ratchet
    # the damping up, turning Newton into a crawl exactly when it has converged).
    ok = (jnp.isfinite(f_c) & (f_c <= f + 4.0 * jnp.finfo(f.dtype).eps * jnp.abs(f)) & jnp.any(free)
          & jnp.all(jnp.isfinite(d)))
    new = state._replace(x=jnp.where(ok, cand, r), value=jnp.where(ok, f_c, f),
                         grad=jnp.where(ok, g_c, g))
    return new, jnp.where(ok, jnp.maximum(lam / 10.0, 1e-12), jnp.minimum(lam * 10.0, 1e8))


def _spend_multiplier(prob: Problem, r, g, free):
    """(nu, mu) when the spending limit binds: least squares of g + nu + mu cost = 0 over the
    free coordinates when they determine both (two or more of different cost); otherwise the
    multipliers of the projection of r - eta g (r is its own projection at a KKT point, and
    -eta g = tau + mu' cost + bound terms, so nu = tau / eta, mu = mu' / eta)."""
    n = jnp.sum(free)
    cf = jnp.where(free, prob.cost, 0.0)
    gf = jnp.where(free, g, 0.0)
    a1, a2, g0, g1 = jnp.sum(cf), cf @ cf, jnp.sum(gf), cf @ gf
    det = n * a2 - a1 ** 2
    determined = det > 1e-12 * jnp.maximum(n * a2, 1e-300)
    safe = jnp.where(determined, det, 1.0)
    nu_ls, mu_ls = -(a2 * g0 - a1 * g1) / safe, -(n * g1 - a1 * g0) / safe
    eta = 1.0 / jnp.maximum(jnp.max(jnp.abs(g)), 1e-300)
    _, tau_p, mu_p = project_spend_kkt(r - eta * g, prob.lower, prob.upper, prob.cost, prob.limit)
    return (jnp.where(determined, nu_ls, tau_p / eta),
            jnp.maximum(jnp.where(determined, mu_ls, mu_p / eta), 0.0))


def _multipliers(setup: Setup, prob: Problem, r, g):
    if not setup.spend:
        nu, marginal, at_lower, at_upper, violation = kernel.kkt(r, g, prob.lower, prob.upper,
                                                                 ACTIVE_TOL)
        return nu, jnp.asarray(0.0), marginal, at_lower, at_upper, violation
    at_lower = r <= prob.lower + ACTIVE_TOL
    free = ~(at_lower | ((r >= prob.upper - ACTIVE_TOL) & ~at_lower))
    binds = _spend_binds(setup, prob, r)
    nu_s, mu_s = _spend_multiplier(prob, r, g, free)
    mu = jnp.where(binds, mu_s, 0.0)
    # g + mu cost: the gradient of the Lagrangian of the spending limit.
    nu, marginal, at_lower, at_upper, violation = kernel.kkt(
        r, g + mu * prob.cost, prob.lower, prob.upper, ACTIVE_TOL, nu_fallback=(binds, nu_s))
    return nu, mu, marginal, at_lower, at_upper, violation


class Solution(NamedTuple):
    r: jax.Array
    value: jax.Array
    grad: jax.Array
    nu: jax.Array
    spend_mu: jax.Array  # multiplier of the spending limit, per unit of its normalised limit
    marginal: jax.Array
    at_lower: jax.Array
    at_upper: jax.Array
    kkt_violation: jax.Array
    start_values: jax.Array  # (K,) objective of every start after the screening iterations


def _screen(setup: Setup, prob: Problem, starts, iterations: int) -> kernel.PGState:
    """``iterations`` projected-gradient steps from every row of ``starts``; rows independent."""
    starts = jax.vmap(lambda v: project_onto(setup, prob, v))(starts)
    return kernel.screen(lambda r: kernel.pg_init(_evaluate(setup, prob), r),
                         lambda s: _pg_step(setup, prob, s), starts, iterations)


def solve(setup: Setup, prob: Problem, starts, *, iterations: int, polish: int,
          shard_starts: bool = False) -> Solution:
    """Projected gradient from every row of ``starts`` (K, S), polish of the best; pure.

    ``shard_starts``: split the screening of the starts over all devices
    (``core.sharding.map_rows``; the rows are independent, so the result is the same); the
    polish of the single best start runs whole on every device.
    """
    if shard_starts:
        states = sh.map_rows(lambda st, p: _screen(setup, p, st, iterations), (starts,), (prob,))
    else:
        states = _screen(setup, prob, starts, iterations)

    def body(_, carry):
        st, lam = carry
        return _newton_step(setup, prob, _pg_step(setup, prob, st), lam)

    state, _ = jax.lax.fori_loop(0, polish, body,
                                 (kernel.best(states), jnp.asarray(1e-6, starts.dtype)))
    r, f, g = state.x, state.value, state.grad
    nu, mu, marginal, at_lower, at_upper, violation = _multipliers(setup, prob, r, g)
    return Solution(r, f, g, nu, mu, marginal, at_lower, at_upper, violation, states.value)


def _solve_point(setup: Setup, prob: Problem, starts, *, iterations: int, polish: int) -> Solution:
    """``solve`` of one problem, its starts split over the devices when there are several."""
    # The device count is fixed when this is traced: one device compiles the plain program.
    return solve(setup, prob, starts, iterations=iterations, polish=polish,
                 shard_starts=jax.device_count() > 1)


def _solve_draws(setup: Setup, prob: Problem, starts, *, iterations: int, polish: int) -> Solution:
    """``solve`` vmapped over draws: prob.params and starts carry a leading B axis.

    With several devices the draws are split over them (``core.sharding.map_rows``): each
    draw's solve reads only its own row, so every device solves its block with no communication
    and the result equals one device's.
    """
    def run(params, starts, rest: Problem) -> Solution:
        return jax.vmap(lambda p, s: solve(setup, rest._replace(params=p), s,
                                           iterations=iterations, polish=polish))(params, starts)

    rest = prob._replace(params=None)
    if jax.device_count() > 1:  # fixed when traced, as in _solve_point
        return sh.map_rows(run, (prob.params, starts), (rest,))
    return run(prob.params, starts, rest)


BUDGET_FIELDS = ("upper", "cost", "limit", "context")  # what moves with the token budget T


def _solve_budgets(setup: Setup, prob: Problem, starts, *, iterations: int, polish: int) -> Solution:
    """``solve`` vmapped over token budgets: the caps, the normalised costs and the context move
    with T (leading axis P); the starts are shared. Budgets split over the devices like draws."""
    def run(prob: Problem, starts) -> Solution:
        axes = Problem(**{f: (0 if f in BUDGET_FIELDS else None)  # type: ignore[arg-type]
                          for f in Problem._fields})
        return jax.vmap(lambda p: solve(setup, p, starts, iterations=iterations, polish=polish),
                        in_axes=(axes,))(prob)

    if jax.device_count() > 1:  # fixed when traced, as in _solve_point
        rest = prob._replace(**{f: None for f in BUDGET_FIELDS})  # type: ignore[arg-type]
        return sh.map_rows(
            lambda up, co, li, cx, rest, st: run(
                rest._replace(upper=up, cost=co, limit=li, context=cx), st),
            tuple(getattr(prob, f) for f in BUDGET_FIELDS), (rest, starts))
    return run(prob, starts)


def _objective_rows(setup: Setup, prob: Problem, r):
    return jax.vmap(lambda x: objective(setup, prob, x))(r)


_STATIC = ("setup", "iterations", "polish")
solve_point = jit(_solve_point, static_argnames=_STATIC)
solve_draws = jit(_solve_draws, static_argnames=_STATIC)
solve_budgets = jit(_solve_budgets, static_argnames=_STATIC)
objective_rows = jit(_objective_rows, static_argnames=("setup",))
