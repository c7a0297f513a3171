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
"""

from __future__ import annotations

from typing import Optional, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import ScalingLawsError

BISECTION_STEPS = 100
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
    tau = 0.5 * (lo + hi)
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
