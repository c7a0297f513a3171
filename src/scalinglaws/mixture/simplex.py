"""Euclidean projection onto the capped simplex {r : sum_j r_j = 1, l_j <= r_j <= u_j}.

The projection of v is r_j = clip(v_j - tau, l_j, u_j) for the shift tau at which the clipped
values sum to one (the KKT conditions of min ||r - v||^2 / 2 on the set: tau is the multiplier of
the sum constraint). The sum is a continuous, nonincreasing, piecewise-linear function of tau, equal
to sum u >= 1 at tau = min(v - u) and to sum l <= 1 at tau = max(v - l), so bisection on that
bracket finds it. ``BISECTION_STEPS`` (100) halvings shrink the bracket below the spacing of
float64 numbers around tau as long as it is narrower than ~1e13 (its width is the range of v plus
one; the optimiser's steps keep v within a few thousand); a last step then recomputes tau in closed
form on the set of coordinates the bisection left strictly between their bounds,

    tau = (sum_{free} v_j - (1 - sum_{at lower} l_j - sum_{at upper} u_j)) / |free|,

so the result sums to one to rounding (not merely to the bisection's tolerance) and coordinates at
a bound equal the bound exactly: zeros are exact zeros, caps exact caps. (A coordinate within
``ACTIVE_ULPS`` ulps of (1 + max|v|) of a bound counts as at it: the rounding error of tau.)

Everything here is a pure function of arrays with a fixed number of steps: it jits, vmaps over
points (starts, bootstrap draws) and costs O(S * BISECTION_STEPS). The host-side
:func:`check_feasible` says, in words, why a set of bounds admits no mixture.

With a spending limit, {sum r = 1, l <= r <= u, c . r <= s} (c_j: money per unit of proportion),
:func:`project_spend_kkt` solves the two-multiplier dual: r = clip(v - tau - mu c, l, u), tau for
each mu without iterating (:func:`shift`, the piecewise-linear sum evaluated at its 2S kinks),
mu >= 0 by a safeguarded Newton iteration on the spending, which is piecewise linear and
nonincreasing in mu (see there), then both multipliers in closed form on the face found. The
cheapest mixture (:func:`min_cost`, a fractional knapsack) brackets mu, and :func:`check_spend`
says when even it is over the limit.
"""

from __future__ import annotations

from typing import NamedTuple, Optional, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import ScalingLawsError

BISECTION_STEPS = 100
SPEND_STEPS = 64
ACTIVE_ULPS = 64


class InfeasibleMixture(ScalingLawsError, ValueError):
    """No mixture satisfies the bounds (and availability caps) asked for."""


def project(v, lower, upper):
    """The point of {sum r = 1, lower <= r <= upper} nearest to ``v`` (all (S,) arrays).

    Assumes the set is not empty (see :func:`check_feasible`); vmap it over rows of ``v`` (and of
    the bounds, if they differ per row).
    """
    lo_tau = jnp.min(v - upper)
    hi_tau = jnp.max(v - lower)

    def total(tau):
        return jnp.sum(jnp.clip(v - tau, lower, upper))

    def halve(_, bracket):
        lo, hi = bracket
        mid = 0.5 * (lo + hi)
        above = total(mid) > 1.0  # sum too large: tau must grow
        return jnp.where(above, mid, lo), jnp.where(above, hi, mid)

    lo, hi = jax.lax.fori_loop(0, BISECTION_STEPS, halve, (lo_tau, hi_tau))
    return _exact(v, 0.5 * (lo + hi), lower, upper)


def _exact(v, tau, lower, upper):
    """clip(v - tau, lower, upper) with tau recomputed in closed form on the free coordinates."""
    shifted = v - tau
    # Rounding in the sums puts tau a few ulps off; a coordinate within that of its bound is at
    # the bound (else a point already on a face would come back with 1e-16 on its zeros).
    tol = ACTIVE_ULPS * jnp.finfo(v.dtype).eps * (1.0 + jnp.max(jnp.abs(v)))
    at_lower = shifted <= lower + tol
    at_upper = (shifted >= upper - tol) & ~at_lower
    free = ~(at_lower | at_upper)
    n_free = jnp.sum(free)
    fixed_mass = jnp.sum(jnp.where(at_lower, lower, 0.0)) + jnp.sum(jnp.where(at_upper, upper, 0.0))
    exact = (jnp.sum(jnp.where(free, v, 0.0)) - (1.0 - fixed_mass)) / jnp.maximum(n_free, 1)
    tau = jnp.where(n_free > 0, exact, tau)
    inner = jnp.clip(v - tau, lower, upper)
    r = jnp.where(at_lower, lower, jnp.where(at_upper, upper, inner))
    # v - tau carries the rounding of |v| (1e-14 when a long gradient step made |v| ~ 100): one
    # correction in the scale of r itself brings the sum to one within a few ulps of 1.
    gap = (1.0 - jnp.sum(r)) / jnp.maximum(n_free, 1)
    return jnp.where(free, jnp.clip(r + gap, lower, upper), r)


project_rows = jax.vmap(project, in_axes=(0, None, None))


# --- with a spending limit ------------------------------------------------------------------------


def shift(w, lower, upper):
    """The tau at which sum_j clip(w_j - tau, l_j, u_j) = 1, without iterating.

    The sum is continuous, nonincreasing and piecewise linear in tau with kinks at w - u and
    w - l: evaluate it at all 2S kinks (an (2S, S) array, no sequential loop) and interpolate on
    the piece that crosses one. Assumes sum l <= 1 <= sum u.
    """
    kinks = jnp.concatenate([w - upper, w - lower])
    sums = jnp.sum(jnp.clip(w[None, :] - kinks[:, None], lower, upper), axis=1)
    above = sums >= 1.0
    t_lo = jnp.max(jnp.where(above, kinks, -jnp.inf))  # finite: the smallest kink sums to sum u
    t_hi = jnp.min(jnp.where(above, jnp.inf, kinks))  # inf only when sum l = 1
    s_lo = jnp.sum(jnp.clip(w - t_lo, lower, upper))
    s_hi = jnp.sum(jnp.clip(w - jnp.where(jnp.isfinite(t_hi), t_hi, t_lo), lower, upper))
    step = jnp.where(s_lo > s_hi, (s_lo - 1.0) / (s_lo - s_hi), 0.0)
    return jnp.where(jnp.isfinite(t_hi), t_lo + step * (t_hi - t_lo), t_lo)


def min_cost(cost, lower, upper):
    """min cost . r over {sum r = 1, l <= r <= u}: a fractional knapsack, so fill the cheapest
    sources first (jnp or numpy arrays)."""
    xp = jnp if isinstance(cost, jax.Array) else np
    order = xp.argsort(cost)
    room = (upper - lower)[order]
    before = xp.cumsum(room) - room
    take = xp.clip(1.0 - xp.sum(lower) - before, 0.0, room)
    return cost @ lower + cost[order] @ take


def project_spend(v, lower, upper, cost, limit):
    """The point of {sum r = 1, l <= r <= u, cost . r <= limit} nearest to ``v``.

    See :func:`project_spend_kkt` (which also returns the two multipliers).
    """
    return project_spend_kkt(v, lower, upper, cost, limit)[0]


def project_spend_kkt(v, lower, upper, cost, limit):
    """(r, tau, mu): the projection onto the capped simplex with a spending limit, and its KKT
    multipliers (tau of sum r = 1, mu >= 0 of cost . r <= limit).

    KKT of min ||r - v||^2 / 2: r = clip(v - tau - mu cost, l, u), sum r = 1, mu >= 0 and
    mu (cost . r - limit) = 0. For a fixed mu, r(mu) is the capped-simplex projection of
    v - mu cost (tau by :func:`shift`); the spending h(mu) = cost . r(mu) - limit is continuous,
    piecewise linear and nonincreasing (dh/dmu = -cost' J cost, J the projection's symmetric
    positive semidefinite Jacobian). So mu = 0 when h(0) <= 0, else the root of h, bracketed by

        mu_max = sum_j max(v_j^2, (1 - v_j)^2) / (2 (limit - min_cost)),

    since r(mu) minimises ||r - v||^2 / 2 + mu cost . r, hence cost . r(mu) - min_cost <=
    ||r_min - v||^2 / (2 mu) (r_min: the cheapest mixture). The root is found by Newton's method
    on h, safeguarded by the bracket: on one linear piece, h' = -(sum_F c^2 - (sum_F c)^2 / |F|)
    over the free coordinates F is exact, so a Newton step from a point of the root's piece lands
    on the root; a step leaving the bracket, and every fourth step, halves it instead
    (geometrically while it spans orders of magnitude), so at most ``SPEND_STEPS`` evaluations
    are made, and in practice a handful (the loop stops when every row has its root). As in
    :func:`project`, (tau, mu) are then recomputed in closed form on the face found (a 2 x 2
    system: the sum and the spending), so zeros and caps are exact and the limit is met to
    rounding. Assumes the set is not empty (:func:`check_spend`). Pure, jit-able, vmaps.
    """
    c_max = jnp.max(jnp.abs(cost))

    def met(mu):
        # Spending within rounding of the limit counts as met; the rounding grows with mu, as
        # r(mu) = v - tau - mu cost carries eps (|v| + mu |cost|).
        return ACTIVE_ULPS * jnp.finfo(v.dtype).eps * (
            jnp.abs(limit) + c_max * (1.0 + jnp.max(jnp.abs(v)) + mu * c_max))

    def excess(mu):
        """h(mu) and its slope on the piece at mu."""
        w = v - mu * cost
        shifted = w - shift(w, lower, upper)
        free = (shifted > lower) & (shifted < upper)
        n = jnp.maximum(jnp.sum(free), 1)
        cf = jnp.where(free, cost, 0.0)
        slope = -(cf @ cf - jnp.sum(cf) ** 2 / n)
        return cost @ jnp.clip(shifted, lower, upper) - limit, slope

    h0, s0 = excess(0.0)
    far = jnp.sum(jnp.maximum(v ** 2, (1.0 - v) ** 2))
    slack = limit - min_cost(cost, lower, upper)
    mu_max = far / (2.0 * jnp.maximum(slack, 1e-12 * (jnp.abs(limit) + c_max)))
    floor = 1e-12 * mu_max

    class _State(NamedTuple):
        i: jax.Array
        lo: jax.Array
        hi: jax.Array
        mu: jax.Array  # the last point evaluated
        h: jax.Array
        slope: jax.Array

    def going(st):
        return (st.i < SPEND_STEPS) & (jnp.abs(st.h) > met(st.mu)) & (st.hi > st.lo)

    def step(st):
        newton = st.mu - st.h / jnp.where(st.slope < 0.0, st.slope, -jnp.inf)
        base = jnp.maximum(st.lo, floor)
        mid = jnp.where(st.hi > 4.0 * base, jnp.sqrt(base * st.hi), 0.5 * (st.lo + st.hi))
        use_newton = (st.i % 4 != 3) & (newton > st.lo) & (newton < st.hi)
        mu = jnp.where(use_newton, newton, mid)
        h, slope = excess(mu)
        over = h > met(mu)
        return _State(st.i + 1, jnp.where(over, mu, st.lo), jnp.where(over, st.hi, mu), mu, h,
                      slope)

    zero = jnp.zeros_like(h0)
    first = _State(jnp.asarray(0), zero, mu_max, zero, jnp.where(h0 > met(0.0), h0, 0.0), s0)
    last = jax.lax.while_loop(going, step, first)
    # Not converged (SPEND_STEPS reached): the bracket's upper end is affordable.
    mu = jnp.where(jnp.abs(last.h) <= met(last.mu), last.mu, last.hi)
    return _exact_spend(v, lower, upper, cost, limit, jnp.where(h0 > met(0.0), mu, 0.0))


def _exact_spend(v, lower, upper, cost, limit, mu):
    """r, tau, mu with (tau, mu) solved exactly on the face the approximate mu identifies."""
    w = v - mu * cost
    tau = shift(w, lower, upper)
    shifted = w - tau
    tol = ACTIVE_ULPS * jnp.finfo(v.dtype).eps * (1.0 + jnp.max(jnp.abs(v))
                                                  + mu * jnp.max(jnp.abs(cost)))
    at_lower = shifted <= lower + tol
    at_upper = (shifted >= upper - tol) & ~at_lower
    # At a vertex of a tight limit the one fractional source may lie within the (mu-scaled)
    # tolerance of a bound; the most interior source then stays free to absorb the sum.
    inside = jnp.minimum(shifted - lower, upper - shifted)
    none_free = jnp.all(at_lower | at_upper)
    loosen = none_free & (jnp.arange(v.shape[0]) == jnp.argmax(inside))
    at_lower, at_upper = at_lower & ~loosen, at_upper & ~loosen
    free = ~(at_lower | at_upper)
    fixed = jnp.where(at_lower, lower, jnp.where(at_upper, upper, 0.0))
    n = jnp.sum(free)
    a1 = jnp.sum(jnp.where(free, cost, 0.0))
    a2 = jnp.sum(jnp.where(free, cost ** 2, 0.0))
    b0 = jnp.sum(jnp.where(free, v, 0.0)) - (1.0 - jnp.sum(fixed))
    b1 = jnp.sum(jnp.where(free, cost * v, 0.0)) - (limit - cost @ fixed)
    det = n * a2 - a1 ** 2
    # Both multipliers are determined by the face when the spending binds and the free sources
    # differ in cost; otherwise mu stays as found and only the sum fixes tau.
    solvable = (mu > 0.0) & (det > 1e-12 * jnp.maximum(n * a2, 1e-300))
    safe = jnp.where(solvable, det, 1.0)
    tau2, mu2 = (a2 * b0 - a1 * b1) / safe, (n * b1 - a1 * b0) / safe
    use2 = solvable & (mu2 >= 0.0)
    tau1 = (b0 - mu * a1) / jnp.maximum(n, 1)
    tau = jnp.where(use2, tau2, jnp.where(n > 0, tau1, tau))
    mu = jnp.where(use2, mu2, mu)
    inner = jnp.clip(v - tau - mu * cost, lower, upper)
    r = jnp.where(free, inner, fixed)
    for _ in range(2):  # the second pass spreads what the first clipped off at a bound
        gap = (1.0 - jnp.sum(r)) / jnp.maximum(n, 1)
        r = jnp.where(free, jnp.clip(r + gap, lower, upper), r)
        free = free & (r > lower) & (r < upper)
        n = jnp.sum(free)
    return r, tau, mu


def bounds(n_sources: int, lower=None, upper=None):
    """(lower, upper) as float64 arrays, defaulting to 0 and 1."""
    lo = np.zeros(n_sources) if lower is None else np.asarray(lower, dtype=np.float64)
    hi = np.ones(n_sources) if upper is None else np.asarray(upper, dtype=np.float64)
    if lo.shape != (n_sources,) or hi.shape != (n_sources,):
        raise InfeasibleMixture(f"bounds must have one value per source ({n_sources}); got lower "
                                f"{lo.shape} and upper {hi.shape}")
    return lo, hi


def check_feasible(lower, upper, names: Optional[Sequence[str]] = None, *,
                   cap_reason: Optional[Sequence[str]] = None) -> None:
    """Raise :class:`InfeasibleMixture` with the reason when no mixture meets the bounds.

    ``cap_reason[j]``, when given, explains where an upper bound came from (e.g. "availability:
    15 epochs of 2e9 unique tokens over a budget of 1e11"), so the message can name it.
    """
    lower = np.asarray(lower, dtype=np.float64)
    upper = np.asarray(upper, dtype=np.float64)
    names = list(names) if names is not None else [f"source {j}" for j in range(len(lower))]
    tol = 1e-12
    if not (np.all(np.isfinite(lower)) and np.all(np.isfinite(upper))):
        raise InfeasibleMixture("bounds must be finite numbers")
    bad = [j for j in range(len(lower)) if lower[j] > upper[j] + tol]
    if bad:
        parts = []
        for j in bad:
            why = f" ({cap_reason[j]})" if cap_reason is not None and cap_reason[j] else ""
            parts.append(f"{names[j]}: lower {lower[j]:.6g} > upper {upper[j]:.6g}{why}")
        raise InfeasibleMixture("a lower bound exceeds its upper bound: " + "; ".join(parts))
    if np.any(lower < -tol):
        j = int(np.argmin(lower))
        raise InfeasibleMixture(f"{names[j]}: lower bound {lower[j]:.6g} < 0; proportions are >= 0")
    if lower.sum() > 1.0 + tol:
        raise InfeasibleMixture(f"the lower bounds sum to {lower.sum():.6g} > 1: no mixture can give "
                                "every source its minimum; lower some of them")
    if upper.sum() < 1.0 - tol:
        raise InfeasibleMixture(f"the upper bounds sum to {upper.sum():.6g} < 1: the sources cannot "
                                "fill the mixture; raise some upper bounds")


def check_spend(cost_per_token, spend: float, budget: float, lower, upper,
                names: Optional[Sequence[str]] = None) -> None:
    """Raise :class:`InfeasibleMixture`, with the numbers, when even the cheapest mixture within
    the bounds costs more than ``spend`` (money; cost_per_token_j r_j T summed over sources)."""
    cost = np.asarray(cost_per_token, dtype=np.float64)
    lower = np.asarray(lower, dtype=np.float64)
    upper = np.asarray(upper, dtype=np.float64)
    names = list(names) if names is not None else [f"source {j}" for j in range(len(cost))]
    if cost.shape != lower.shape:
        raise InfeasibleMixture(f"cost_per_token must have one value per source ({len(lower)}); "
                                f"got {cost.shape}")
    if not (np.all(np.isfinite(cost)) and np.all(cost >= 0)):
        raise InfeasibleMixture("cost_per_token must be finite numbers >= 0")
    if not (np.isfinite(spend) and spend > 0):
        raise InfeasibleMixture(f"the spending limit `spend` must be a number > 0, got {spend!r}")
    cheapest = float(min_cost(cost, lower, upper)) * budget
    if cheapest > spend * (1.0 + 1e-12):
        order = np.argsort(cost)
        cheap = ", ".join(f"{names[j]} ({cost[j]:.4g} per token, at most {upper[j]:.4g})"
                          for j in order[:3])
        raise InfeasibleMixture(
            f"the cheapest mixture within the bounds costs {cheapest:.6g} (sum_j cost_per_token_j "
            f"r_j T at T = {budget:.6g} tokens), more than the spending limit spend = {spend:.6g}; "
            f"raise `spend` to at least {cheapest:.6g}, lower `budget`, or loosen the upper bounds "
            f"of the cheapest sources: {cheap}")
