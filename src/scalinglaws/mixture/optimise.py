"""Choose a mixture: minimise the predicted target loss over the capped simplex.

Problem. With a fitted law L(r) (losses per validation domain), a target G of the losses (weights
s over domains, G = sum_i s_i L_i, or any function: a formula of the spec's grammar such as
max(L_code, L_web) + 0.5 L_math, compiled to JAX by :func:`target_function`), an optional penalty
p_j (loss units per unit of proportion), and optional prices c_j (money per training token of
source j) with a spending limit s:

    minimise  F(r) = G(L(r)) + sum_j p_j r_j
    over      sum_j r_j = 1,   l_j <= r_j <= u_j,   u_j = min(upper_j, E_max,j U_j / T),
              sum_j c_j r_j T <= s

where the availability cap says that source j (U_j unique tokens) may be seen at most E_max,j times
within a budget of T tokens (RegMix's cap of 15 epochs per domain; LAWS.md section 5), and the
spending limit is data selection under a budget (each token drawn from source j costs c_j; the
limit is normalised to c_j T / s . r <= 1 so that its tolerances do not depend on the currency).

Method. Projected gradient, r <- P(r - eta grad F(r)), with P the exact projection onto the capped
simplex, or onto the capped simplex with the spending limit (:mod:`.simplex`), vmapped over many
starts (projected Dirichlet(1) draws), then the best start is polished. The step size follows
Beck & Teboulle's (2009) backtracking rule, spread over iterations instead of nested inside them:
a candidate is accepted when the quadratic upper bound holds,

    F(r+) <= F(r) + grad F(r).(r+ - r) + ||r+ - r||^2 / (2 eta),

and eta then grows by 1.5 (so it tracks the local curvature, which varies by orders of magnitude
between the flat interior and the steep exponentials near a corner); a rejected candidate keeps r
and halves eta. Every iteration therefore costs exactly one evaluation of F and its gradient for
every start: under ``vmap`` an inner line search would run as long as the slowest start's search,
and a fixed step 1/Lipschitz is unknown in advance and too small almost everywhere for exponential
laws. Accepted steps satisfy the sufficient-decrease condition of the backtracking rule, so F never
increases and the iterates converge like projected gradient with backtracking (O(1/k) for convex F;
every law of :mod:`.laws` is convex in r for nonnegative target weights).

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
-(g_j + nu + mu c_j) >= 0 at an upper bound. ``marginal_value`` reports -(g_j + nu + mu c_j) for
every source: how much F would drop per unit of proportion moved into source j from the free
sources at unchanged spending (zero for free sources; positive for a binding cap: the value of
relaxing it). For a source capped by availability, u_j = E_max U_j / T, so one more unique token
is worth ``marginal_value`` * E_max / T of target loss; one more unit of money is worth
``value_of_money`` = mu / s (dF*/ds = -mu / s for the normalised limit).

Frontier: :func:`mixture_frontier` re-solves the problem at several budgets T in one compiled call
vmapped over T (the caps, the normalised prices and the law's context move with T).

A target with max or min is convex for convex losses but not differentiable where its arguments
tie; the optimum often sits there, and then gradients (and the KKT check) are one-sided: prefer a
smooth maximum, t logsumexp(a / t, b / t), which is within t log 2 of max(a, b).

Uncertainty: the same pipeline vmapped over bootstrap draws of the law's parameters (one
compilation), from the point optimum and a few Dirichlet draws per draw; the spread of the optimal
mixture and of its predicted loss across draws.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Sequence

import attrs
import jax
import jax.numpy as jnp
import numpy as np

from .. import core  # noqa: F401  (float64)
from ..core import sharding as sh
from ..core._jit import jit
from .simplex import InfeasibleMixture, check_feasible, check_spend, project, project_spend_kkt

GROW = 1.5
SHRINK = 0.5
ETA0 = 1e-2
# The step never grows past this: at a vertex every candidate is accepted (it equals r), and an
# unbounded step would make r - eta g so large that the projection's bisection bracket, whose width
# grows with it, loses the precision the active set needs.
ETA_MAX = 1e3
ACTIVE_TOL = 1e-12
SPEND_REACH = 10.0


class Problem(NamedTuple):
    """Arrays of one optimisation problem (a pytree: vmappable over draws and budgets)."""

    params: Any
    weights: jax.Array  # (D,) target weights over domains (unused with an objective function)
    penalty: jax.Array  # (S,) loss units per unit of proportion, added to the objective
    lower: jax.Array  # (S,)
    upper: jax.Array  # (S,) including availability caps
    cost: jax.Array  # (S,) spending per unit of proportion over the limit: c_j T / spend
    limit: jax.Array  # () the spending limit in those units (1; 0-d so it vmaps like the rest)
    context: jax.Array  # (k,)


class Setup(NamedTuple):
    """The static (compile-time) part of a problem: hashable, one compilation per value."""

    predict: Callable  # predict(params, r, context) -> (D,)
    target: Optional[Callable] = None  # target(losses (D,)) -> scalar; None: weights @ losses
    spend: bool = False  # the spending constraint is present


def _objective(setup: Setup, prob: Problem, r):
    losses = setup.predict(prob.params, r, prob.context)
    value = prob.weights @ losses if setup.target is None else setup.target(losses)
    return value + prob.penalty @ r


def _project(setup: Setup, prob: Problem, v):
    if setup.spend:
        return project_spend_kkt(v, prob.lower, prob.upper, prob.cost, prob.limit)[0]
    return project(v, prob.lower, prob.upper)


def _pg_step(setup: Setup, prob: Problem, state):
    r, f, g, eta = state
    cand = _project(setup, prob, r - eta * g)
    f_c, g_c = jax.value_and_grad(lambda x: _objective(setup, prob, x))(cand)
    d = cand - r
    bound = f + g @ d + (d @ d) / (2.0 * eta)
    ok = jnp.isfinite(f_c) & (f_c <= bound + 1e-15 * jnp.abs(f))
    g_new = jnp.where(ok, g_c, g)
    grown = jnp.minimum(eta * GROW, ETA_MAX)
    if setup.spend:
        # The spending projection computes r = v - tau - mu c, with the rounding of |v|: keeping
        # the step eta |g| within SPEND_REACH (a few simplex diameters, enough to jump to any
        # vertex) keeps the limit met to ~1e-15, where a long step would leave it 1e-12 off,
        # and the polish would then reject every step that lands back on it.
        grown = jnp.minimum(grown, SPEND_REACH / jnp.maximum(jnp.max(jnp.abs(g_new)), 1e-300))
    return (jnp.where(ok, cand, r), jnp.where(ok, f_c, f), g_new,
            jnp.where(ok, grown, eta * SHRINK))


def _init(setup: Setup, prob: Problem, r):
    f, g = jax.value_and_grad(lambda x: _objective(setup, prob, x))(r)
    return r, f, g, jnp.asarray(ETA0, r.dtype)


def _free(r, prob: Problem):
    return (r > prob.lower + ACTIVE_TOL) & (r < prob.upper - ACTIVE_TOL)


def _spend_binds(setup: Setup, prob: Problem, r):
    if not setup.spend:
        return jnp.asarray(False)
    return prob.cost @ r >= prob.limit - ACTIVE_TOL * jnp.maximum(jnp.abs(prob.limit), 1.0)


def _newton_step(setup: Setup, prob: Problem, state, lam):
    """Damped Newton on the face of the current free coordinates (its equalities kept).

    With A = H_FF + lam s I (H the Hessian on the free coordinates, s its scale) and the face's
    equality constraints C' d = 0 (C = [1], or [1, cost] when the spending limit binds), the step
    of the equality-constrained quadratic model is d = -A^-1 (g + C y), y = -(C' A^-1 C)^-1
    C' A^-1 g: one Cholesky factorisation, three right-hand sides (cheaper to compile than the LU
    of the indefinite KKT matrix). A Hessian that is not positive definite (a nonconvex law) gives
    a non-finite step, which is rejected and raises the damping.
    """
    r, f, g, eta = state
    free = _free(r, prob)
    hess = jax.hessian(lambda x: _objective(setup, prob, x))(r)
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
    cand = _project(setup, prob, r + d)
    f_c, g_c = jax.value_and_grad(lambda x: _objective(setup, prob, x))(cand)
    # A step that changes F by rounding only is taken (a strict test would reject it and ratchet
    # the damping up, turning Newton into a crawl exactly when it has converged).
    ok = (jnp.isfinite(f_c) & (f_c <= f + 4.0 * jnp.finfo(f.dtype).eps * jnp.abs(f)) & jnp.any(free)
          & jnp.all(jnp.isfinite(d)))
    new = (jnp.where(ok, cand, r), jnp.where(ok, f_c, f), jnp.where(ok, g_c, g), eta)
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
    at_lower = r <= prob.lower + ACTIVE_TOL
    at_upper = (r >= prob.upper - ACTIVE_TOL) & ~at_lower
    free = ~(at_lower | at_upper)
    n_free = jnp.sum(free)
    binds = _spend_binds(setup, prob, r)
    if setup.spend:
        nu_s, mu_s = _spend_multiplier(prob, r, g, free)
        mu = jnp.where(binds, mu_s, 0.0)
    else:
        nu_s, mu = jnp.asarray(0.0), jnp.asarray(0.0)
    ge = g + mu * prob.cost  # the gradient of the Lagrangian of the spending limit
    nu_free = -jnp.sum(jnp.where(free, ge, 0.0)) / jnp.maximum(n_free, 1)
    # No free coordinate: any nu in [max_lower(-g), min_upper(-g)] satisfies the sign conditions.
    lo = jnp.max(jnp.where(at_lower, -ge, -jnp.inf))
    hi = jnp.min(jnp.where(at_upper, -ge, jnp.inf))
    mid = jnp.where(jnp.isfinite(lo) & jnp.isfinite(hi), 0.5 * (lo + hi),
                    jnp.where(jnp.isfinite(lo), lo, hi))
    nu = jnp.where(n_free > 0, nu_free, jnp.where(binds, nu_s, mid))
    marginal = -(ge + nu)
    violation = jnp.max(jnp.concatenate([
        jnp.where(free, jnp.abs(marginal), 0.0),
        jnp.where(at_lower, jnp.maximum(marginal, 0.0), 0.0),
        jnp.where(at_upper, jnp.maximum(-marginal, 0.0), 0.0)]))
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


def _screen(setup: Setup, prob: Problem, starts, iterations: int):
    """``iterations`` projected-gradient steps from every row of ``starts``; rows independent."""
    starts = jax.vmap(lambda v: _project(setup, prob, v))(starts)
    states = jax.vmap(lambda r: _init(setup, prob, r))(starts)
    step = jax.vmap(lambda s: _pg_step(setup, prob, s))
    return jax.lax.fori_loop(0, iterations, lambda _, s: step(s), states)


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
    values = states[1]
    best = jnp.argmin(jnp.where(jnp.isfinite(values), values, jnp.inf))
    state = jax.tree_util.tree_map(lambda a: a[best], states)

    def body(_, carry):
        st, lam = carry
        st = _pg_step(setup, prob, st)
        return _newton_step(setup, prob, st, lam)

    state, _ = jax.lax.fori_loop(0, polish, body, (state, jnp.asarray(1e-6, starts.dtype)))
    r, f, g, _ = state
    nu, mu, marginal, at_lower, at_upper, violation = _multipliers(setup, prob, r, g)
    return Solution(r, f, g, nu, mu, marginal, at_lower, at_upper, violation, values)


def _axes(**moving) -> Problem:
    """A vmap in_axes spec: the pytree of Problem with axis 0 on the named fields, None on the rest."""
    return Problem(**{f: (0 if f in moving else None)  # type: ignore[arg-type]
                      for f in Problem._fields})


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


def _solve_budgets(setup: Setup, prob: Problem, starts, *, iterations: int, polish: int) -> Solution:
    """``solve`` vmapped over token budgets: the caps, the normalised costs and the context move
    with T (leading axis P); the starts are shared. Budgets split over the devices like draws."""
    def run(prob: Problem, starts) -> Solution:
        return jax.vmap(lambda p: solve(setup, p, starts, iterations=iterations, polish=polish),
                        in_axes=(_axes(upper=0, cost=0, limit=0, context=0),))(prob)

    if jax.device_count() > 1:  # fixed when traced, as in _solve_point
        moving = ("upper", "cost", "limit", "context")
        rest = prob._replace(**{f: None for f in moving})  # type: ignore[arg-type]  # passed apart
        return sh.map_rows(
            lambda up, co, li, cx, rest, st: run(
                rest._replace(upper=up, cost=co, limit=li, context=cx), st),
            tuple(getattr(prob, f) for f in moving), (rest, starts))
    return run(prob, starts)


_STATIC = ("setup", "iterations", "polish")
_solve_jit = jit(_solve_point, static_argnames=_STATIC)
_solve_draws_jit = jit(_solve_draws, static_argnames=_STATIC)
_solve_budgets_jit = jit(_solve_budgets, static_argnames=_STATIC)


def availability_caps(n: int, *, budget: Optional[float], unique_tokens=None, max_epochs=None):
    """u_j = E_max,j U_j / T (inf where a source's availability is not given)."""
    if unique_tokens is None:
        return np.full(n, np.inf)
    if budget is None or not budget > 0:
        raise InfeasibleMixture("availability caps need a token budget T > 0 (`budget`)")
    u = np.asarray(unique_tokens, dtype=np.float64)
    e = _epochs(n, max_epochs)
    return np.where(np.isfinite(u), e * u / budget, np.inf)


def _epochs(n: int, max_epochs) -> np.ndarray:
    return np.broadcast_to(np.asarray(4.0 if max_epochs is None else max_epochs,
                                      dtype=np.float64), (n,))


# --- targets written as formulas --------------------------------------------------------------


def target_function(text: str, domains: Sequence[str], column_pattern: str = "loss_{}") -> Callable:
    """The target ``text`` (the spec's restricted formula grammar, :mod:`..formula`; parsed
    with ``ast``, never evaluated) as a pure JAX function of the (D,) predicted losses.

    Names are validation domains (``code``) or their loss columns (``loss_code`` for the default
    ``column_pattern``): ``max(loss_code, loss_web) + 0.5 * loss_math``. Raises
    :class:`~scalinglaws.errors.ExpressionError` at the offending token (an unknown name, a
    construct outside the grammar). Cached: one text gives one function object, so the jitted
    optimiser, which takes it as a static argument, compiles once per target.
    """
    return _target_function(text, tuple(domains), column_pattern)


@functools.lru_cache(maxsize=64)
def _target_function(text: str, domains: tuple, column_pattern: str) -> Callable:
    from ..errors import ExpressionError, closest
    from ..formula import parse_formula

    formula = parse_formula(text)
    index: Dict[str, int] = {}
    for i, d in enumerate(domains):
        index[d] = i
        index[column_pattern.format(d)] = i
    for name, offset in formula.names.items():
        if name not in index:
            raise ExpressionError(
                f"{name!r} is not a validation domain{closest(name, list(index))}; the names are "
                f"the domains ({', '.join(domains)}) or their loss columns ("
                f"{', '.join(column_pattern.format(d) for d in domains)})", text=text, offset=offset)
    if not formula.names:
        raise ExpressionError("the target uses no validation domain; write e.g. "
                              f"0.5 * {domains[0]} + ...", text=text, offset=0)
    evaluate = formula.compile(jnp)
    used = {name: index[name] for name in formula.names}

    def target(losses):
        return evaluate({name: losses[i] for name, i in used.items()})

    target.expression = text  # type: ignore[attr-defined]  # reported as the target's text
    return target


# --- the host side: checks, problems, results ---------------------------------------------------


class _Built(NamedTuple):
    setup: Setup
    prob: Problem
    lower: np.ndarray
    upper: np.ndarray  # effective caps
    by_availability: np.ndarray  # bool (S,)
    cost: Optional[np.ndarray]  # cost per token (S,), or None


def _build(predict, params, *, s: int, names: List[str], weights, target, lower, upper, budget,
           unique_tokens, max_epochs, penalty, cost_per_token, spend, context) -> _Built:
    """Check the constraints (raising :class:`InfeasibleMixture` with the numbers) and build the
    arrays of one problem."""
    lo = np.zeros(s) if lower is None else np.asarray(lower, dtype=np.float64)
    up = np.ones(s) if upper is None else np.asarray(upper, dtype=np.float64)
    caps = availability_caps(s, budget=budget, unique_tokens=unique_tokens, max_epochs=max_epochs)
    up_eff = np.minimum(np.minimum(up, caps), 1.0)
    by_avail = caps < np.minimum(up, 1.0)
    e = _epochs(s, max_epochs)
    if unique_tokens is not None and np.sum(np.minimum(caps, 1.0)) < 1.0 - 1e-12:
        avail = float(np.sum(np.where(np.isfinite(unique_tokens), e * np.asarray(unique_tokens), 0)))
        raise InfeasibleMixture(
            f"the budget T = {budget:.6g} tokens exceeds the available data times the maximum epochs "
            f"(sum_j E_max U_j = {avail:.6g}); lower the budget, allow more epochs or add data")
    reasons = [f"availability: {e[j]:g} epochs x {float(np.asarray(unique_tokens)[j]):.4g}"
               f" unique tokens / budget {budget:.4g}" if by_avail[j] else "" for j in range(s)]
    check_feasible(lo, up_eff, names, cap_reason=reasons)
    cost = None
    norm = np.zeros(s)
    if cost_per_token is not None or spend is not None:
        if cost_per_token is None or spend is None or budget is None:
            raise InfeasibleMixture("a spending limit needs `cost_per_token` (per source), `spend` "
                                    "(the limit) and `budget` (T, the tokens the costs apply to)")
        cost = np.asarray(cost_per_token, dtype=np.float64)
        check_spend(cost, float(spend), float(budget), lo, up_eff, names)
        # In units of the limit: c_j T / spend, so the constraint reads cost . r <= 1 at any scale.
        norm = cost * budget / spend
    ctx = np.asarray([budget if budget is not None else 0.0] if context is None else context,
                     dtype=np.float64)
    pen = np.zeros(s) if penalty is None else np.asarray(penalty, dtype=np.float64)
    prob = Problem(params=jax.tree_util.tree_map(jnp.asarray, params),
                   weights=jnp.asarray(weights), penalty=jnp.asarray(pen), lower=jnp.asarray(lo),
                   upper=jnp.asarray(up_eff), cost=jnp.asarray(norm),
                   limit=jnp.asarray(1.0), context=jnp.asarray(ctx))
    setup = Setup(predict=predict, target=target, spend=cost is not None)
    return _Built(setup, prob, lo, up_eff, by_avail, cost)


def _objective_rows(setup: Setup, prob: Problem, r):
    return jax.vmap(lambda x: _objective(setup, prob, x))(r)


_objective_rows_jit = jit(_objective_rows, static_argnames=("setup",))


@attrs.frozen(kw_only=True, eq=False)
class MixtureOptimum:
    """The chosen mixture, why it is where it is, and how sure we are of it."""

    sources: tuple
    domains: tuple
    proportions: np.ndarray  # (S,)
    objective: float  # F(r*): target loss (+ penalty . r)
    predicted: np.ndarray  # (D,) predicted loss per domain at r*
    lower: np.ndarray
    upper: np.ndarray  # effective caps, availability included
    at_lower: np.ndarray  # bool (S,)
    at_upper: np.ndarray
    capped_by_availability: np.ndarray  # bool (S,): the active upper bound is the availability cap
    marginal_value: np.ndarray  # (S,) -(g_j + nu + mu cost_j)
    simplex_multiplier: float
    kkt_violation: float
    epochs: Optional[np.ndarray]  # (S,) r_j T / U_j, or None without availability
    value_per_unique_token: Optional[np.ndarray]  # (S,) for availability-capped sources, else 0
    n_starts: int
    n_at_best: int  # starts within 1e-9 (relative) of the best after screening
    weights: np.ndarray  # (D,) (zeros with an expression target)
    budget: Optional[float] = None
    draws: Optional[Dict[str, np.ndarray]] = None  # proportions (B, S), objective (B,)
    expression: Optional[str] = None  # the target as written, when a formula
    penalty: Optional[np.ndarray] = None  # (S,) loss units per unit of proportion
    cost_per_token: Optional[np.ndarray] = None  # (S,) money per training token of the source
    spend: Optional[float] = None  # the spending limit
    spent: Optional[float] = None  # sum_j cost_per_token_j r_j T at the optimum
    spend_binds: bool = False
    value_of_money: Optional[float] = None  # target loss gained per extra unit of `spend`
    evaluate: Optional[Callable] = attrs.field(default=None, repr=False)  # (n, S) -> (n,)

    @property
    def target_text(self) -> str:
        """The target in words: the formula, or the weighted sum."""
        if self.expression is not None:
            return self.expression
        return " + ".join(f"{w:g} x {d}" for d, w in zip(self.domains, self.weights) if w > 0)

    def feasible(self, rows, tol: float = 1e-12) -> np.ndarray:
        """Which mixtures (rows (n, S) summing to one) satisfy the bounds, caps and spending
        limit of this problem."""
        rows = np.atleast_2d(np.asarray(rows, dtype=np.float64))
        ok = np.all((rows >= self.lower - tol) & (rows <= self.upper + tol), axis=1)
        if self.cost_per_token is not None and self.budget is not None and self.spend is not None:
            ok &= rows @ self.cost_per_token * self.budget <= self.spend * (1.0 + tol)
        return ok

    def interval(self, level: float = 0.9) -> Optional[Dict[str, np.ndarray]]:
        """Percentile intervals over bootstrap draws of the optimal mixture and its loss."""
        if self.draws is None:
            return None
        q = [(1 - level) / 2 * 100, (1 + level) / 2 * 100]
        lo, hi = np.percentile(self.draws["proportions"], q, axis=0)
        flo, fhi = np.percentile(self.draws["objective"], q)
        return {"proportions_lower": lo, "proportions_upper": hi,
                "objective_lower": float(flo), "objective_upper": float(fhi)}

    def to_json(self) -> Dict[str, Any]:
        from ..results import jsonable

        out: Dict[str, Any] = {
            "proportions": dict(zip(self.sources, self.proportions)),
            "objective": self.objective,
            "predicted_loss": dict(zip(self.domains, self.predicted)),
            "target_weights": dict(zip(self.domains, self.weights)),
            "target_expression": self.expression,
            "lower": dict(zip(self.sources, self.lower)),
            "upper": dict(zip(self.sources, self.upper)),
            "active_lower": [s for s, a in zip(self.sources, self.at_lower) if a],
            "active_upper": [s for s, a in zip(self.sources, self.at_upper) if a],
            "capped_by_availability": [s for s, a in zip(self.sources, self.capped_by_availability)
                                       if a],
            "marginal_value": dict(zip(self.sources, self.marginal_value)),
            "simplex_multiplier": self.simplex_multiplier,
            "kkt_violation": self.kkt_violation,
            "n_starts": self.n_starts,
            "n_at_best": self.n_at_best,
            "budget": self.budget,
        }
        if self.penalty is not None:
            out["penalty"] = dict(zip(self.sources, self.penalty))
        if self.cost_per_token is not None:
            out["spending"] = {"cost_per_token": dict(zip(self.sources, self.cost_per_token)),
                               "limit": self.spend, "spent": self.spent,
                               "binds": self.spend_binds, "value_of_money": self.value_of_money}
        if self.epochs is not None:
            out["epochs"] = dict(zip(self.sources, self.epochs))
        if self.value_per_unique_token is not None:
            out["value_per_unique_token"] = dict(zip(self.sources, self.value_per_unique_token))
        iv = self.interval()
        if iv is not None and self.draws is not None:
            out["bootstrap"] = {
                "n_draws": int(self.draws["objective"].shape[0]),
                "level": 0.9,
                "proportions_lower": dict(zip(self.sources, iv["proportions_lower"])),
                "proportions_upper": dict(zip(self.sources, iv["proportions_upper"])),
                "proportions_std": dict(zip(self.sources, self.draws["proportions"].std(axis=0))),
                "objective_lower": iv["objective_lower"],
                "objective_upper": iv["objective_upper"],
                "objective_std": float(self.draws["objective"].std()),
            }
        return jsonable(out)


def _resolve(predict, params, sources, domains, context, draws):
    """A :class:`.laws.FittedMixture` in place of (predict, params) supplies the rest."""
    if hasattr(predict, "law") and hasattr(predict, "params"):
        fit = predict
        return (fit.law.predict, fit.params if params is None else params,
                sources if sources is not None else fit.sources,
                domains if domains is not None else fit.domains,
                context, fit.draws if draws is True else draws)
    if params is None:
        raise TypeError("give the law's `params` (or pass a fitted mixture as the first argument)")
    if draws is True:
        raise TypeError("draws=True takes the bootstrap draws of a fitted mixture; pass one as the "
                        "first argument, or pass the draws themselves")
    return predict, params, sources, domains, context, draws


def _n_sources(sources, lower, upper, unique_tokens, cost_per_token) -> int:
    for x in (sources, lower, upper, unique_tokens, cost_per_token):
        if x is not None:
            return len(np.asarray(x)) if not isinstance(x, (list, tuple)) else len(x)
    raise ValueError("give `sources` (or per-source bounds) so the number of sources is known")


def _n_domains(w, domains, predict, params, s: int) -> int:
    """D: from the weights, the domain names, or the shape of the law's prediction."""
    if w is not None:
        return len(w)
    if domains is not None:
        return len(domains)
    return int(jax.eval_shape(lambda p: predict(p, jnp.ones(s) / s, jnp.zeros(1)),
                              jax.tree_util.tree_map(jnp.asarray, params)).shape[0])


def _target(weights, objective, domains):
    """(weights (D,) or None, static target function or None, expression text or None)."""
    if objective is None:
        if weights is None:
            raise ValueError("give the target: `weights` (one per validation domain) or "
                             "`objective` (a function of the (D,) losses, or a formula)")
        w = np.asarray(weights, dtype=np.float64).ravel()
        if np.any(w < 0) or not np.any(w > 0):
            raise ValueError("target weights must be >= 0 with at least one > 0")
        return w, None, None
    if weights is not None:
        raise ValueError("give `weights` or `objective`, not both")
    if isinstance(objective, str):
        if domains is None:
            raise ValueError("a target formula names validation domains: give `domains`")
        return None, target_function(objective, tuple(domains)), objective
    if not callable(objective):
        raise TypeError(f"`objective` is a function of the (D,) losses or a formula, got {objective!r}")
    return None, objective, getattr(objective, "expression", None) or getattr(
        objective, "__name__", "objective")


def optimise_mixture(predict, params=None, *, weights=None, objective=None, lower=None, upper=None,
                     budget=None, unique_tokens=None, max_epochs=None, penalty=None,
                     cost_per_token=None, spend=None, context=None, n_starts: int = 256,
                     seed: int = 0, iterations: int = 300, polish: int = 30, draws=None,
                     n_starts_draw: int = 4, draw_iterations: int = 100, draw_polish: int = 15,
                     sources: Optional[Sequence[str]] = None,
                     domains: Optional[Sequence[str]] = None) -> MixtureOptimum:
    """Minimise the predicted target loss over the capped simplex (with a spending limit).

    Args:
      predict: pure ``predict(params, r (S,), context) -> (D,)`` (a :class:`.laws.MixtureLaw`'s),
        or a fitted mixture (:class:`.laws.FittedMixture`), which supplies ``params``,
        ``sources``, ``domains`` and, with ``draws=True``, its bootstrap draws.
      params: the law's parameters (a pytree of arrays).
      weights: (D,) target weights over validation domains (nonnegative): F = weights . L(r).
      objective: instead of weights, the target as a pure JAX function of the (D,) losses
        (hashable: it is a static argument of the compiled solver), or a formula over the domain
        names (``"max(code, web) + 0.5 * math"``; :func:`target_function`).
      lower, upper: (S,) bounds on the proportions (default 0 and 1).
      budget: T, the token budget; unique_tokens (S,) U_j (``inf`` or nan for unlimited) and
        max_epochs E_max (scalar or (S,)) give the availability caps u_j = E_max U_j / T.
      penalty: (S,) loss units per unit of proportion, added to the objective (a soft price).
      cost_per_token, spend: (S,) money per training token drawn from each source and the
        spending limit: sum_j cost_per_token_j r_j T <= spend (data acquisition under a budget).
      context: the law's context (e.g. [T] for the repetition law); default [budget or 0].
      n_starts: projected Dirichlet(1) starts; seed: their seed.
      iterations: projected-gradient iterations for every start; polish: Newton/PG iterations
        for the best.
      draws: optional bootstrap draws of ``params`` (leading axis B): the problem is re-solved
        for each (vmapped), from the point optimum and ``n_starts_draw`` - 1 Dirichlet draws.

    Raises :class:`.simplex.InfeasibleMixture` when no mixture satisfies the constraints.
    """
    predict, params, sources, domains, context, draws = _resolve(predict, params, sources, domains,
                                                                 context, draws)
    s = _n_sources(sources, lower, upper, unique_tokens, cost_per_token)
    names = list(sources) if sources is not None else [f"source {j}" for j in range(s)]
    w, target, expression = _target(weights, objective, domains)
    n_dom = _n_domains(w, domains, predict, params, s)
    w = np.zeros(n_dom) if w is None else w
    built = _build(predict, params, s=s, names=names, weights=w, target=target, lower=lower,
                   upper=upper, budget=budget, unique_tokens=unique_tokens, max_epochs=max_epochs,
                   penalty=penalty, cost_per_token=cost_per_token, spend=spend, context=context)
    setup, prob = built.setup, built.prob
    k1, k2 = jax.random.split(jax.random.key(seed))
    starts = jax.random.dirichlet(k1, jnp.ones(s), (n_starts,), dtype=jnp.float64)
    sol = _solve_jit(setup, prob, starts, iterations=iterations, polish=polish)
    r = np.asarray(sol.r)
    values = np.asarray(sol.start_values)
    best = float(np.min(values))
    n_at_best = int(np.sum(values <= best + 1e-9 * max(abs(best), 1e-300)))
    predicted = np.asarray(predict(prob.params, jnp.asarray(r), prob.context))
    epochs = value_token = None
    if unique_tokens is not None and budget is not None:
        u = np.asarray(unique_tokens, dtype=np.float64)
        epochs = np.where(np.isfinite(u), r * budget / u, np.nan)  # nan: unlimited
        at_up = np.asarray(sol.at_upper)
        value_token = np.where(at_up & built.by_availability,
                               np.asarray(sol.marginal) * _epochs(s, max_epochs) / budget, 0.0)
    draw_out = None
    if draws is not None:
        b = int(jax.tree_util.tree_leaves(draws)[0].shape[0])
        extra = jax.random.dirichlet(k2, jnp.ones(s), (b, max(n_starts_draw - 1, 0)),
                                     dtype=jnp.float64)
        dstarts = jnp.concatenate([jnp.broadcast_to(jnp.asarray(r), (b, 1, s)), extra], axis=1)
        dprob = prob._replace(params=jax.tree_util.tree_map(jnp.asarray, draws))
        dsol = _solve_draws_jit(setup, dprob, dstarts, iterations=draw_iterations,
                                polish=draw_polish)
        draw_out = {"proportions": np.asarray(dsol.r), "objective": np.asarray(dsol.value),
                    "kkt_violation": np.asarray(dsol.kkt_violation)}
    spending: Dict[str, Any] = {}
    if built.cost is not None:
        mu = float(sol.spend_mu)
        spending = dict(cost_per_token=built.cost, spend=float(spend),
                        spent=float(built.cost @ r * budget), spend_binds=mu > 0,
                        # the limit is cost . r <= 1 in units of `spend`: dF*/dspend = -mu / spend
                        value_of_money=mu / float(spend))

    def evaluate(rows):
        return np.asarray(_objective_rows_jit(setup, prob, jnp.asarray(np.atleast_2d(rows),
                                                                        dtype=jnp.float64)))

    return MixtureOptimum(
        sources=tuple(names), domains=tuple(domains) if domains is not None else
        tuple(f"domain {i}" for i in range(n_dom)),
        proportions=r, objective=float(sol.value), predicted=predicted, lower=built.lower,
        upper=built.upper, at_lower=np.asarray(sol.at_lower), at_upper=np.asarray(sol.at_upper),
        capped_by_availability=np.asarray(sol.at_upper) & built.by_availability,
        marginal_value=np.asarray(sol.marginal), simplex_multiplier=float(sol.nu),
        kkt_violation=float(sol.kkt_violation), epochs=epochs, value_per_unique_token=value_token,
        n_starts=n_starts, n_at_best=n_at_best, weights=w, budget=budget, draws=draw_out,
        expression=expression, penalty=None if penalty is None else np.asarray(penalty, float),
        evaluate=evaluate, **spending)


# --- the frontier: the optimum against the token budget -------------------------------------------


@attrs.frozen(kw_only=True, eq=False)
class MixtureFrontier:
    """The optimum re-solved at every token budget T: the predicted target against T."""

    sources: tuple
    budgets: np.ndarray  # (P,)
    feasible: np.ndarray  # bool (P,)
    objective: np.ndarray  # (P,), nan where infeasible
    proportions: np.ndarray  # (P, S), nan where infeasible
    capped: List[List[str]]  # sources at an upper bound (availability or upper) per budget
    spend_binds: np.ndarray  # bool (P,)
    kkt_violation: np.ndarray  # (P,)
    reasons: List[str]  # why a budget is infeasible ("" where feasible)

    def rows(self) -> List[Dict[str, Any]]:
        out = []
        for p, t in enumerate(self.budgets):
            row: Dict[str, Any] = {"budget": float(t), "feasible": bool(self.feasible[p])}
            if self.feasible[p]:
                row.update(objective=float(self.objective[p]),
                           proportions=dict(zip(self.sources, map(float, self.proportions[p]))),
                           capped=self.capped[p], spend_binds=bool(self.spend_binds[p]),
                           kkt_violation=float(self.kkt_violation[p]))
            else:
                row["reason"] = self.reasons[p]
            out.append(row)
        return out


def mixture_frontier(predict, params=None, *, budgets, weights=None, objective=None, lower=None,
                     upper=None, unique_tokens=None, max_epochs=None, penalty=None,
                     cost_per_token=None, spend=None, context_of_budget: bool = True,
                     n_starts: int = 32, seed: int = 0, iterations: int = 300, polish: int = 30,
                     sources: Optional[Sequence[str]] = None,
                     domains: Optional[Sequence[str]] = None) -> MixtureFrontier:
    """The optimal mixture and its predicted target at every budget T of ``budgets``.

    The availability caps (E_max U_j / T) and the spending limit (sum_j c_j r_j T <= spend) change
    with T, and so does the law's context ([T], when ``context_of_budget``); everything else is
    fixed. Budgets whose constraints admit no mixture are reported with the reason; the others are
    solved in one jitted call vmapped over budgets (and, inside, over ``n_starts`` starts).
    """
    predict, params, sources, domains, _, _ = _resolve(predict, params, sources, domains, None,
                                                       None)
    s = _n_sources(sources, lower, upper, unique_tokens, cost_per_token)
    names = list(sources) if sources is not None else [f"source {j}" for j in range(s)]
    w, target, _ = _target(weights, objective, domains)
    w = np.zeros(_n_domains(w, domains, predict, params, s)) if w is None else w
    budgets = np.asarray(budgets, dtype=np.float64)
    built: List[Optional[_Built]] = []
    reasons = []
    for t in budgets:
        try:
            built.append(_build(predict, params, s=s, names=names, weights=w, target=target,
                                lower=lower, upper=upper, budget=float(t),
                                unique_tokens=unique_tokens, max_epochs=max_epochs,
                                penalty=penalty, cost_per_token=cost_per_token, spend=spend,
                                context=None if context_of_budget else [0.0]))
            reasons.append("")
        except InfeasibleMixture as exc:
            built.append(None)
            reasons.append(str(exc))
    ok = [b for b in built if b is not None]
    p_n, feasible = len(budgets), np.array([b is not None for b in built])
    obj = np.full(p_n, np.nan)
    props = np.full((p_n, s), np.nan)
    binds = np.zeros(p_n, bool)
    kkt = np.full(p_n, np.nan)
    capped: List[List[str]] = [[] for _ in range(p_n)]
    if ok:
        first = ok[0]
        stacked = first.prob._replace(**{f: jnp.stack([getattr(b.prob, f) for b in ok])
                                         for f in ("upper", "cost", "limit", "context")})
        starts = jax.random.dirichlet(jax.random.key(seed), jnp.ones(s), (n_starts,),
                                      dtype=jnp.float64)
        sol = _solve_budgets_jit(first.setup, stacked, starts, iterations=iterations, polish=polish)
        idx = np.flatnonzero(feasible)
        obj[idx] = np.asarray(sol.value)
        props[idx] = np.asarray(sol.r)
        binds[idx] = np.asarray(sol.spend_mu) > 0
        kkt[idx] = np.asarray(sol.kkt_violation)
        for k, p in enumerate(idx):
            capped[p] = [names[j] for j in np.flatnonzero(np.asarray(sol.at_upper)[k])]
    return MixtureFrontier(sources=tuple(names), budgets=budgets, feasible=feasible, objective=obj,
                           proportions=props, capped=capped, spend_binds=binds,
                           kkt_violation=kkt, reasons=reasons)


def solutions_table(opt: MixtureOptimum) -> List[Dict[str, Any]]:
    """One row per source: proportion, bounds, active constraint, epochs, marginal value."""
    iv = opt.interval()
    rows = []
    for j, s in enumerate(opt.sources):
        row: Dict[str, Any] = {"source": s, "proportion": float(opt.proportions[j]),
                               "lower": float(opt.lower[j]), "upper": float(opt.upper[j]),
                               "active": "lower" if opt.at_lower[j] else (
                                   ("availability cap" if opt.capped_by_availability[j] else "upper")
                                   if opt.at_upper[j] else ""),
                               "marginal_value": float(opt.marginal_value[j])}
        if opt.epochs is not None:
            row["epochs"] = float(opt.epochs[j])
        if opt.cost_per_token is not None and opt.budget is not None:
            row["spent"] = float(opt.cost_per_token[j] * opt.proportions[j] * opt.budget)
        if iv is not None:
            row["q05"] = float(iv["proportions_lower"][j])
            row["q95"] = float(iv["proportions_upper"][j])
        rows.append(row)
    return rows
