"""Projection onto the capped simplex: exact against references, exact bounds, clear errors."""

import jax
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.optimize import minimize

from scalinglaws.mixture.simplex import (
    InfeasibleMixture,
    check_feasible,
    check_spend,
    min_cost,
    project,
    project_spend_kkt,
)

S = 6
project_jit = jax.jit(project)


def sort_projection(v):
    """Held & Wolfe / Duchi et al. 2008: projection onto {r >= 0, sum r = 1} by sorting."""
    u = np.sort(v)[::-1]
    css = np.cumsum(u)
    k = np.nonzero(u * np.arange(1, len(v) + 1) > (css - 1))[0][-1]
    tau = (css[k] - 1) / (k + 1.0)
    return np.maximum(v - tau, 0.0)


vectors = st.lists(st.floats(-3, 3, allow_nan=False), min_size=S, max_size=S).map(np.array)


@given(vectors)
def test_uncapped_matches_sort_based_projection(v):
    r = np.asarray(project_jit(v, np.zeros(S), np.ones(S)))
    np.testing.assert_allclose(r, sort_projection(v), atol=1e-14)
    assert abs(r.sum() - 1.0) <= 4e-16 * S
    expected_zero = sort_projection(v) == 0.0
    assert np.all(r[expected_zero] == 0.0)  # exact zeros, not 1e-17


@st.composite
def capped_problems(draw):
    v = draw(vectors)
    lower = np.array(draw(st.lists(st.floats(0, 0.12), min_size=S, max_size=S)))
    width = np.array(draw(st.lists(st.floats(0.05, 0.6), min_size=S, max_size=S)))
    upper = np.minimum(lower + width, 1.0)
    if upper.sum() < 1.0:  # make it feasible: stretch the largest cap
        upper[np.argmax(width)] = 1.0
    return v, lower, upper


@given(capped_problems())
def test_capped_matches_quadratic_programme(problem):
    v, lower, upper = problem
    r = np.asarray(project_jit(v, lower, upper))
    ref = minimize(lambda x: 0.5 * np.sum((x - v) ** 2), np.clip(np.full(S, 1 / S), lower, upper),
                   jac=lambda x: x - v, bounds=list(zip(lower, upper)), method="SLSQP",
                   constraints=[{"type": "eq", "fun": lambda x: x.sum() - 1.0,
                                 "jac": lambda x: np.ones(S)}], options={"ftol": 1e-15,
                                                                          "maxiter": 500})
    np.testing.assert_allclose(r, ref.x, atol=1e-7)
    assert abs(r.sum() - 1.0) <= 1e-15
    assert np.all(r >= lower) and np.all(r <= upper)
    # Coordinates at a bound sit on it exactly.
    near = np.isclose(ref.x, lower, atol=1e-9) | np.isclose(ref.x, upper, atol=1e-9)
    assert np.all((r[near] == lower[near]) | (r[near] == upper[near]))
    # Optimality: r is its own projection, and v - r is normal to the set at r (KKT: the free
    # coordinates share one shift).
    np.testing.assert_allclose(np.asarray(project_jit(r, lower, upper)), r, rtol=0, atol=1e-15)
    free = (r > lower) & (r < upper)
    if free.sum() > 1:
        shift = (v - r)[free]
        assert np.ptp(shift) < 1e-12


def test_vmaps_over_rows():
    rng = np.random.default_rng(0)
    v = rng.normal(size=(50, S))
    rows = np.asarray(jax.jit(jax.vmap(project, in_axes=(0, None, None)))(v, np.zeros(S), np.ones(S)))
    np.testing.assert_allclose(rows, np.stack([sort_projection(x) for x in v]), atol=1e-14)


def test_infeasible_bounds_are_named():
    names = ["web", "code", "books"]
    with pytest.raises(InfeasibleMixture, match=r"lower bounds sum to 1\.2 > 1"):
        check_feasible([0.5, 0.4, 0.3], [1, 1, 1], names)
    with pytest.raises(InfeasibleMixture, match=r"upper bounds sum to 0\.6 < 1"):
        check_feasible([0, 0, 0], [0.2, 0.2, 0.2], names)
    with pytest.raises(InfeasibleMixture, match=r"code: lower 0\.5 > upper 0\.3"):
        check_feasible([0, 0.5, 0], [1, 0.3, 1], names)
    check_feasible([0.2, 0.3, 0.5], [0.2, 0.3, 0.5], names)  # a single point is feasible


# --- with a spending limit -------------------------------------------------------------------

project_spend_jit = jax.jit(project_spend_kkt)


def qp_projection(v, lower, upper, cost, limit):
    cons = [{"type": "eq", "fun": lambda x: x.sum() - 1.0, "jac": lambda x: np.ones(S)},
            {"type": "ineq", "fun": lambda x: limit - cost @ x, "jac": lambda x: -cost}]
    return minimize(lambda x: 0.5 * np.sum((x - v) ** 2), np.clip(np.full(S, 1 / S), lower, upper),
                    jac=lambda x: x - v, bounds=list(zip(lower, upper)), method="SLSQP",
                    constraints=cons, options={"ftol": 1e-15, "maxiter": 1000})


@st.composite
def spend_problems(draw):
    v, lower, upper = draw(capped_problems())
    cost = np.array(draw(st.lists(st.floats(0, 3), min_size=S, max_size=S)))
    if draw(st.booleans()):
        cost[:3] = cost[0]  # ties in cost: the multiplier is then set by the other sources
    cheapest = float(min_cost(cost, lower, upper))
    free = float(cost @ np.asarray(project_jit(v, lower, upper)))
    # between the cheapest mixture and the unconstrained projection's spending (binding), or above
    limit = cheapest + draw(st.floats(0.01, 1.2)) * (free - cheapest) + 1e-9
    return v, lower, upper, cost, limit


@given(spend_problems())
def test_spend_projection_matches_quadratic_programme(problem):
    v, lower, upper, cost, limit = problem
    r, tau, mu = (np.asarray(a) for a in project_spend_jit(v, lower, upper, cost, limit))
    ref = qp_projection(v, lower, upper, cost, limit)
    np.testing.assert_allclose(r, ref.x, atol=1e-6)
    assert abs(r.sum() - 1.0) <= 1e-14
    assert cost @ r <= limit + 1e-13
    assert np.all(r >= lower) and np.all(r <= upper)
    # KKT: r = clip(v - tau - mu c, l, u) with mu >= 0, and mu > 0 only when the limit binds.
    np.testing.assert_allclose(r, np.clip(v - tau - mu * cost, lower, upper), atol=1e-12)
    assert mu >= 0 and (mu == 0 or abs(cost @ r - limit) < 1e-12)
    near = np.isclose(ref.x, lower, atol=1e-9) | np.isclose(ref.x, upper, atol=1e-9)
    assert np.all((r[near] == lower[near]) | (r[near] == upper[near]))


def test_spend_projection_at_a_tight_limit_is_the_cheapest_mixture():
    rng = np.random.default_rng(5)
    for _ in range(20):
        v, cost = rng.normal(0, 1.5, S), rng.uniform(0, 3, S)
        lower, upper = np.zeros(S), np.r_[1.0, rng.uniform(0.1, 0.8, S - 1)]
        limit = float(min_cost(cost, lower, upper))
        r = np.asarray(project_spend_jit(v, lower, upper, cost, limit)[0])
        assert abs(r.sum() - 1.0) < 1e-13 and cost @ r <= limit + 1e-12
        assert np.all(r >= lower) and np.all(r <= upper)


def test_unaffordable_mixture_is_named_with_the_numbers():
    names = ["web", "code", "books"]
    cost = np.array([1e-9, 2e-9, 4e-9])
    with pytest.raises(InfeasibleMixture, match=r"cheapest mixture within the bounds costs 190 \("
                       r".*T = 1e\+11 tokens\), more than the spending limit spend = 100; raise "
                       r"`spend` to at least 190"):
        check_spend(cost, 100.0, 1e11, [0, 0.3, 0.2], [0.5, 1, 1], names)
    check_spend(cost, 190.0 * (1 + 1e-13), 1e11, [0, 0.3, 0.2], [0.5, 1, 1], names)
