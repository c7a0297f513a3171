"""Choose a mixture: minimise the predicted target loss over the capped simplex.

Problem. With a fitted law L(r) (losses per validation domain), target weights s over domains and
optional per-source costs c (in loss units per unit of proportion):

    minimise  F(r) = sum_i s_i L_i(r) + sum_j c_j r_j
    over      sum_j r_j = 1,   l_j <= r_j <= u_j,   u_j = min(upper_j, E_max,j U_j / T)

where the availability cap says that source j (U_j unique tokens) may be seen at most E_max,j times
within a budget of T tokens (RegMix's cap of 15 epochs per domain; LAWS.md section 5).

Method. Projected gradient, r <- P(r - eta grad F(r)), with P the exact projection onto the capped
simplex (:mod:`.simplex`), vmapped over many starts (projected Dirichlet(1) draws), then the best
start is polished. The step size follows Beck & Teboulle's (2009) backtracking rule, spread over
iterations instead of nested inside them: a candidate is accepted when the quadratic upper bound
holds,

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

KKT multipliers at the optimum r*: with g = grad F(r*) and the simplex multiplier nu (g_j + nu = 0
on free coordinates; nu = -mean of g over them), the multiplier of source j's active bound is
g_j + nu >= 0 at a lower bound and -(g_j + nu) >= 0 at an upper bound. ``marginal_value`` reports
-(g_j + nu) for every source: how much F would drop per unit of proportion moved into source j
from the free sources (zero for free sources; positive for a binding cap: the value of relaxing
it). For a source capped by availability, u_j = E_max U_j / T, so one more unique token is worth
``marginal_value`` * E_max / T of target loss.

Uncertainty: the same pipeline vmapped over bootstrap draws of the law's parameters (one
compilation), from the point optimum and a few Dirichlet draws per draw; the spread of the optimal
mixture and of its predicted loss across draws.
"""

from __future__ import annotations

from typing import Any, Dict, List, NamedTuple, Optional, Sequence

import attrs
import jax
import jax.numpy as jnp
import numpy as np

from .. import core  # noqa: F401  (float64)
from ..core._jit import jit
from .simplex import InfeasibleMixture, check_feasible, project

GROW = 1.5
SHRINK = 0.5
ETA0 = 1e-2
# The step never grows past this: at a vertex every candidate is accepted (it equals r), and an
# unbounded step would make r - eta g so large that the projection's bisection bracket, whose width
# grows with it, loses the precision the active set needs.
ETA_MAX = 1e3
ACTIVE_TOL = 1e-12


class Problem(NamedTuple):
    """Arrays of one optimisation problem (a pytree: vmappable over draws)."""

    params: Any
    weights: jax.Array  # (D,) target weights over domains
    costs: jax.Array  # (S,)
    lower: jax.Array  # (S,)
    upper: jax.Array  # (S,) including availability caps
    context: jax.Array  # (k,)


def _objective(predict, prob: Problem, r):
    return prob.weights @ predict(prob.params, r, prob.context) + prob.costs @ r


def _pg_step(predict, prob: Problem, state):
    r, f, g, eta = state
    cand = project(r - eta * g, prob.lower, prob.upper)
    f_c, g_c = jax.value_and_grad(lambda x: _objective(predict, prob, x))(cand)
    d = cand - r
    bound = f + g @ d + (d @ d) / (2.0 * eta)
    ok = jnp.isfinite(f_c) & (f_c <= bound + 1e-15 * jnp.abs(f))
    return (jnp.where(ok, cand, r), jnp.where(ok, f_c, f), jnp.where(ok, g_c, g),
            jnp.where(ok, jnp.minimum(eta * GROW, ETA_MAX), eta * SHRINK))


def _init(predict, prob: Problem, r):
    f, g = jax.value_and_grad(lambda x: _objective(predict, prob, x))(r)
    return r, f, g, jnp.asarray(ETA0, r.dtype)


def _free(r, prob: Problem):
    return (r > prob.lower + ACTIVE_TOL) & (r < prob.upper - ACTIVE_TOL)


def _newton_step(predict, prob: Problem, state, lam):
    """Damped Newton on the face of the current free coordinates (sum constraint kept).

    With A = H_FF + lam s I (H the Hessian on the free coordinates, s its scale), the step of the
    equality-constrained quadratic model is d = -A^-1 (g + nu 1), nu = -(1' A^-1 g) / (1' A^-1 1)
    so that sum d = 0: one Cholesky factorisation, two right-hand sides (cheaper to compile than
    the LU of the indefinite KKT matrix). A Hessian that is not positive definite (a nonconvex law)
    gives a non-finite step, which is rejected and raises the damping.
    """
    r, f, g, eta = state
    free = _free(r, prob)
    hess = jax.hessian(lambda x: _objective(predict, prob, x))(r)
    both = free[:, None] & free[None, :]
    scale = jnp.maximum(jnp.max(jnp.abs(jnp.diagonal(hess))), 1e-12)
    a = jnp.where(both, hess, 0.0) + jnp.diag(jnp.where(free, lam * scale, 1.0))
    ones = jnp.where(free, 1.0, 0.0)
    rhs = jnp.stack([jnp.where(free, g, 0.0), ones], axis=1)
    sol = jax.scipy.linalg.cho_solve(jax.scipy.linalg.cho_factor(a, lower=True), rhs)
    nu = -(ones @ sol[:, 0]) / (ones @ sol[:, 1])
    d = jnp.where(free, -(sol[:, 0] + nu * sol[:, 1]), 0.0)
    cand = project(r + d, prob.lower, prob.upper)
    f_c, g_c = jax.value_and_grad(lambda x: _objective(predict, prob, x))(cand)
    ok = jnp.isfinite(f_c) & (f_c <= f) & jnp.any(free) & jnp.all(jnp.isfinite(d))
    new = (jnp.where(ok, cand, r), jnp.where(ok, f_c, f), jnp.where(ok, g_c, g), eta)
    return new, jnp.where(ok, jnp.maximum(lam / 10.0, 1e-12), jnp.minimum(lam * 10.0, 1e8))


def _multipliers(prob: Problem, r, g):
    at_lower = r <= prob.lower + ACTIVE_TOL
    at_upper = (r >= prob.upper - ACTIVE_TOL) & ~at_lower
    free = ~(at_lower | at_upper)
    n_free = jnp.sum(free)
    nu_free = -jnp.sum(jnp.where(free, g, 0.0)) / jnp.maximum(n_free, 1)
    # No free coordinate: any nu in [max_lower(-g), min_upper(-g)] satisfies the sign conditions.
    lo = jnp.max(jnp.where(at_lower, -g, -jnp.inf))
    hi = jnp.min(jnp.where(at_upper, -g, jnp.inf))
    mid = jnp.where(jnp.isfinite(lo) & jnp.isfinite(hi), 0.5 * (lo + hi),
                    jnp.where(jnp.isfinite(lo), lo, hi))
    nu = jnp.where(n_free > 0, nu_free, mid)
    marginal = -(g + nu)
    violation = jnp.max(jnp.concatenate([
        jnp.where(free, jnp.abs(marginal), 0.0),
        jnp.where(at_lower, jnp.maximum(marginal, 0.0), 0.0),
        jnp.where(at_upper, jnp.maximum(-marginal, 0.0), 0.0)]))
    return nu, marginal, at_lower, at_upper, violation


class Solution(NamedTuple):
    r: jax.Array
    value: jax.Array
    grad: jax.Array
    nu: jax.Array
    marginal: jax.Array
    at_lower: jax.Array
    at_upper: jax.Array
    kkt_violation: jax.Array
    start_values: jax.Array  # (K,) objective of every start after the screening iterations


def solve(predict, prob: Problem, starts, *, iterations: int, polish: int) -> Solution:
    """Projected gradient from every row of ``starts`` (K, S), polish of the best; pure."""
    starts = jax.vmap(lambda v: project(v, prob.lower, prob.upper))(starts)
    states = jax.vmap(lambda r: _init(predict, prob, r))(starts)
    step = jax.vmap(lambda s: _pg_step(predict, prob, s))
    states = jax.lax.fori_loop(0, iterations, lambda _, s: step(s), states)
    values = states[1]
    best = jnp.argmin(jnp.where(jnp.isfinite(values), values, jnp.inf))
    state = jax.tree_util.tree_map(lambda a: a[best], states)

    def body(_, carry):
        st, lam = carry
        st = _pg_step(predict, prob, st)
        return _newton_step(predict, prob, st, lam)

    state, _ = jax.lax.fori_loop(0, polish, body, (state, jnp.asarray(1e-6, starts.dtype)))
    r, f, g, _ = state
    nu, marginal, at_lower, at_upper, violation = _multipliers(prob, r, g)
    return Solution(r, f, g, nu, marginal, at_lower, at_upper, violation, values)


def _solve_draws(predict, prob: Problem, starts, *, iterations: int, polish: int) -> Solution:
    """``solve`` vmapped over draws: prob.params and starts carry a leading B axis."""
    # A vmap in_axes spec: the pytree of Problem with an axis (or None) per field.
    axes = Problem(params=0, weights=None, costs=None, lower=None,  # type: ignore[arg-type]
                   upper=None, context=None)  # type: ignore[arg-type]
    return jax.vmap(lambda p, s: solve(predict, p, s, iterations=iterations, polish=polish),
                    in_axes=(axes, 0))(prob, starts)


_solve_jit = jit(solve, static_argnames=("predict", "iterations", "polish"))
_solve_draws_jit = jit(_solve_draws, static_argnames=("predict", "iterations", "polish"))


def availability_caps(n: int, *, budget: Optional[float], unique_tokens=None, max_epochs=None):
    """u_j = E_max,j U_j / T (inf where a source's availability is not given)."""
    if unique_tokens is None:
        return np.full(n, np.inf)
    if budget is None or not budget > 0:
        raise InfeasibleMixture("availability caps need a token budget T > 0 (`budget`)")
    u = np.asarray(unique_tokens, dtype=np.float64)
    e = np.broadcast_to(np.asarray(4.0 if max_epochs is None else max_epochs, dtype=np.float64), (n,))
    caps = np.where(np.isfinite(u), e * u / budget, np.inf)
    return caps


@attrs.frozen(kw_only=True, eq=False)
class MixtureOptimum:
    """The chosen mixture, why it is where it is, and how sure we are of it."""

    sources: tuple
    domains: tuple
    proportions: np.ndarray  # (S,)
    objective: float  # F(r*): weighted target loss (+ costs)
    predicted: np.ndarray  # (D,) predicted loss per domain at r*
    lower: np.ndarray
    upper: np.ndarray  # effective caps, availability included
    at_lower: np.ndarray  # bool (S,)
    at_upper: np.ndarray
    capped_by_availability: np.ndarray  # bool (S,): the active upper bound is the availability cap
    marginal_value: np.ndarray  # (S,) -(g_j + nu)
    simplex_multiplier: float
    kkt_violation: float
    epochs: Optional[np.ndarray]  # (S,) r_j T / U_j, or None without availability
    value_per_unique_token: Optional[np.ndarray]  # (S,) for availability-capped sources, else 0
    n_starts: int
    n_at_best: int  # starts within 1e-9 (relative) of the best after screening
    weights: np.ndarray  # (D,)
    budget: Optional[float] = None
    draws: Optional[Dict[str, np.ndarray]] = None  # proportions (B, S), objective (B,)

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


def optimise_mixture(predict, params, *, weights, lower=None, upper=None, budget=None,
                     unique_tokens=None, max_epochs=None, costs=None, context=None,
                     n_starts: int = 256, seed: int = 0, iterations: int = 300, polish: int = 30,
                     draws=None, n_starts_draw: int = 4, draw_iterations: int = 100,
                     draw_polish: int = 15, sources: Optional[Sequence[str]] = None,
                     domains: Optional[Sequence[str]] = None) -> MixtureOptimum:
    """Minimise sum_i weights_i L_i(r) (+ costs . r) over the capped simplex.

    Args:
      predict: pure ``predict(params, r (S,), context) -> (D,)`` (a :class:`.laws.MixtureLaw`'s).
      params: the law's parameters (a pytree of arrays).
      weights: (D,) target weights over validation domains (nonnegative).
      lower, upper: (S,) bounds on the proportions (default 0 and 1).
      budget: T, the token budget; unique_tokens (S,) U_j (``inf`` or nan for unlimited) and
        max_epochs E_max (scalar or (S,)) give the availability caps u_j = E_max U_j / T.
      costs: (S,) per-source cost in loss units per unit of proportion (data acquisition).
      context: the law's context (e.g. [T] for the repetition law); default [budget or 0].
      n_starts: projected Dirichlet(1) starts; seed: their seed.
      iterations: projected-gradient iterations for every start; polish: Newton/PG iterations
        for the best.
      draws: optional bootstrap draws of ``params`` (leading axis B): the problem is re-solved
        for each (vmapped), from the point optimum and ``n_starts_draw`` - 1 Dirichlet draws.

    Raises :class:`.simplex.InfeasibleMixture` when no mixture satisfies the constraints.
    """
    w = np.asarray(weights, dtype=np.float64).ravel()
    s = None
    if sources is not None:
        s = len(sources)
    elif lower is not None:
        s = len(np.asarray(lower))
    elif upper is not None:
        s = len(np.asarray(upper))
    elif unique_tokens is not None:
        s = len(np.asarray(unique_tokens))
    if s is None:
        raise ValueError("give `sources` (or per-source bounds) so the number of sources is known")
    names = list(sources) if sources is not None else [f"source {j}" for j in range(s)]
    lo = np.zeros(s) if lower is None else np.asarray(lower, dtype=np.float64)
    up = np.ones(s) if upper is None else np.asarray(upper, dtype=np.float64)
    caps = availability_caps(s, budget=budget, unique_tokens=unique_tokens, max_epochs=max_epochs)
    up_eff = np.minimum(np.minimum(up, caps), 1.0)
    by_avail = caps < np.minimum(up, 1.0)
    if unique_tokens is not None and np.sum(np.minimum(caps, 1.0)) < 1.0 - 1e-12:
        e = np.broadcast_to(np.asarray(4.0 if max_epochs is None else max_epochs, dtype=np.float64),
                            (s,))
        avail = float(np.sum(np.where(np.isfinite(unique_tokens), e * np.asarray(unique_tokens), 0)))
        raise InfeasibleMixture(
            f"the budget T = {budget:.6g} tokens exceeds the available data times the maximum epochs "
            f"(sum_j E_max U_j = {avail:.6g}); lower the budget, allow more epochs or add data")
    epochs_all = np.broadcast_to(np.asarray(4.0 if max_epochs is None else max_epochs,
                                            dtype=np.float64), (s,))
    reasons = [f"availability: {epochs_all[j]:g} epochs x {float(np.asarray(unique_tokens)[j]):.4g}"
               f" unique tokens / budget {budget:.4g}" if by_avail[j] else "" for j in range(s)]
    check_feasible(lo, up_eff, names, cap_reason=reasons)
    if np.any(w < 0) or not np.any(w > 0):
        raise ValueError("target weights must be >= 0 with at least one > 0")
    ctx = np.asarray([budget if budget is not None else 0.0] if context is None else context,
                     dtype=np.float64)
    c = np.zeros(s) if costs is None else np.asarray(costs, dtype=np.float64)
    prob = Problem(params=jax.tree_util.tree_map(jnp.asarray, params), weights=jnp.asarray(w),
                   costs=jnp.asarray(c), lower=jnp.asarray(lo), upper=jnp.asarray(up_eff),
                   context=jnp.asarray(ctx))
    key = jax.random.key(seed)
    k1, k2 = jax.random.split(key)
    starts = jax.random.dirichlet(k1, jnp.ones(s), (n_starts,), dtype=jnp.float64)
    sol = _solve_jit(predict, prob, starts, iterations=iterations, polish=polish)
    r = np.asarray(sol.r)
    values = np.asarray(sol.start_values)
    best = float(np.min(values))
    n_at_best = int(np.sum(values <= best + 1e-9 * max(abs(best), 1e-300)))
    predicted = np.asarray(predict(prob.params, jnp.asarray(r), prob.context))
    epochs = None
    value_token = None
    if unique_tokens is not None and budget is not None:
        u = np.asarray(unique_tokens, dtype=np.float64)
        epochs = np.where(np.isfinite(u), r * budget / u, np.nan)  # nan: unlimited
        e = np.broadcast_to(np.asarray(4.0 if max_epochs is None else max_epochs, dtype=np.float64),
                            (s,))
        at_up = np.asarray(sol.at_upper)
        value_token = np.where(at_up & by_avail, np.asarray(sol.marginal) * e / budget, 0.0)
    draw_out = None
    if draws is not None:
        b = int(jax.tree_util.tree_leaves(draws)[0].shape[0])
        extra = jax.random.dirichlet(k2, jnp.ones(s), (b, max(n_starts_draw - 1, 0)),
                                     dtype=jnp.float64)
        first = jnp.broadcast_to(jnp.asarray(r), (b, 1, s))
        dstarts = jnp.concatenate([first, extra], axis=1)
        dprob = prob._replace(params=jax.tree_util.tree_map(jnp.asarray, draws))
        dsol = _solve_draws_jit(predict, dprob, dstarts, iterations=draw_iterations,
                                polish=draw_polish)
        draw_out = {"proportions": np.asarray(dsol.r), "objective": np.asarray(dsol.value),
                    "kkt_violation": np.asarray(dsol.kkt_violation)}
    return MixtureOptimum(
        sources=tuple(names), domains=tuple(domains) if domains is not None else
        tuple(f"domain {i}" for i in range(len(w))),
        proportions=r, objective=float(sol.value), predicted=predicted, lower=lo, upper=up_eff,
        at_lower=np.asarray(sol.at_lower), at_upper=np.asarray(sol.at_upper),
        capped_by_availability=np.asarray(sol.at_upper) & by_avail,
        marginal_value=np.asarray(sol.marginal), simplex_multiplier=float(sol.nu),
        kkt_violation=float(sol.kkt_violation), epochs=epochs, value_per_unique_token=value_token,
        n_starts=n_starts, n_at_best=n_at_best, weights=w, budget=budget, draws=draw_out)


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
        if iv is not None:
            row["q05"] = float(iv["proportions_lower"][j])
            row["q95"] = float(iv["proportions_upper"][j])
        rows.append(row)
    return rows
