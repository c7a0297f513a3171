"""The mixture optimiser: known optima, agreement with SLSQP, exact bounds, KKT multipliers."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st
from scipy.optimize import minimize

from scalinglaws.mixture.laws import sum_exp_predict
from scalinglaws.mixture.optimise import optimise_mixture
from scalinglaws.mixture.simplex import InfeasibleMixture, min_cost

S, D = 6, 3


def quadratic(params, r, context):
    """F(r) = (r - r*)' A (r - r*) / 2 + g . (r - r*): a convex law with a chosen optimum."""
    d = r - params["rs"]
    return jnp.stack([0.5 * d @ params["A"] @ d + params["g"] @ d])


@st.composite
def known_optima(draw):
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    status = rng.permutation(["zero", "zero", "cap", "free", "free", "free"])
    rs = rng.dirichlet(np.ones(S))
    rs[status == "zero"] = 0.0
    rs /= rs.sum()
    upper = np.where(status == "cap", rs, 1.0)
    nu = rng.normal()
    a = rng.uniform(0.05, 1.0, S)  # multipliers of the active bounds, bounded away from zero
    g = -nu + np.where(status == "zero", a, 0.0) - np.where(status == "cap", a, 0.0)
    m = rng.normal(size=(S, S))
    params = {"A": m @ m.T / S + 0.1 * np.eye(S), "rs": rs, "g": g}
    return params, upper, status, a


@given(known_optima())
def test_reaches_known_optimum_with_exact_zeros_and_caps(problem):
    params, upper, status, a = problem
    opt = optimise_mixture(quadratic, params, weights=[1.0], upper=upper, n_starts=32, seed=1,
                           sources=[f"s{j}" for j in range(S)])
    note(f"r={opt.proportions}, truth={params['rs']}")
    np.testing.assert_allclose(opt.proportions, params["rs"], atol=1e-9)
    assert np.all(opt.proportions[status == "zero"] == 0.0)
    assert np.all(opt.proportions[status == "cap"] == upper[status == "cap"])
    assert np.array_equal(opt.at_lower, status == "zero")
    assert np.array_equal(opt.at_upper, status == "cap")
    # KKT multipliers: the value of relaxing a cap, minus the cost of a forced-in zero.
    np.testing.assert_allclose(opt.marginal_value[status == "cap"], a[status == "cap"], atol=1e-7)
    np.testing.assert_allclose(opt.marginal_value[status == "zero"], -a[status == "zero"], atol=1e-7)
    assert opt.kkt_violation < 1e-8


@st.composite
def mixing_problems(draw):
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    c = rng.uniform(1.5, 3.0, D)
    w = rng.normal(0.0, 1.5, (D, 1, S))
    weights = rng.dirichlet(np.ones(D))
    upper = rng.uniform(0.15, 0.8, S)
    lower = np.where(rng.random(S) < 0.3, rng.uniform(0.0, 0.08, S), 0.0)
    return {"c": c, "w": w}, weights, lower, upper


def slsqp(params, weights, lower, upper, starts=8, cost=None, limit=None):
    """scipy SLSQP from several starts: the reference optimum (with ``cost @ r <= limit`` when
    a spending limit is given)."""
    t = params["w"][:, 0, :]

    def f(r):
        return weights @ (params["c"] + np.exp(t @ r))

    def grad(r):
        return (weights * np.exp(t @ r)) @ t

    cons = [{"type": "eq", "fun": lambda r: r.sum() - 1.0, "jac": lambda r: np.ones(S)}]
    if cost is not None:
        cons.append({"type": "ineq", "fun": lambda r: limit - cost @ r, "jac": lambda r: -cost})
    rng = np.random.default_rng(0)
    best = None
    for _ in range(starts):
        x0 = np.clip(rng.dirichlet(np.ones(S)), lower, upper)
        res = minimize(f, x0, jac=grad, bounds=list(zip(lower, upper)), method="SLSQP",
                       constraints=cons, options={"ftol": 1e-14, "maxiter": 1000})
        if res.success and (best is None or res.fun < best.fun):
            best = res
    return best


@given(mixing_problems())
def test_matches_slsqp_on_mixing_laws(problem):
    params, weights, lower, upper = problem
    opt = optimise_mixture(sum_exp_predict, params, weights=weights, lower=lower, upper=upper,
                           n_starts=64, seed=0, sources=[f"s{j}" for j in range(S)])
    ref = slsqp(params, weights, lower, upper)
    assert ref is not None
    note(f"ours {opt.proportions} {opt.objective}; slsqp {ref.x} {ref.fun}")
    assert abs(opt.objective - ref.fun) <= 1e-6 * max(1.0, abs(ref.fun))
    assert opt.objective <= ref.fun + 1e-12 * abs(ref.fun)  # never worse than SLSQP
    # Where SLSQP sits on a bound (to its tolerance), ours sits on it exactly.
    on_lower = np.abs(ref.x - lower) < 1e-7
    on_upper = np.abs(ref.x - upper) < 1e-7
    assert np.all(opt.proportions[on_lower] == lower[on_lower])
    assert np.all(opt.proportions[on_upper] == upper[on_upper])
    assert abs(opt.proportions.sum() - 1.0) < 1e-14
    assert opt.kkt_violation < 1e-7


def test_availability_caps_epochs_and_value_of_data():
    # Three domains; the targets value the scarce source "books", capped by availability.
    w = np.zeros((D, 1, S))
    w[0, 0, :3] = [-3.0, 0.0, 0.0]
    w[1, 0, :3] = [0.0, -1.0, 0.5]
    w[2, 0, 3:] = [-0.5, 0.2, 0.1]
    params = {"c": np.full(D, 2.0), "w": w}
    unique = np.array([1e9, 50e9, np.inf, np.inf, np.inf, np.inf])
    names = ["books", "web", "code", "math", "wiki", "news"]
    opt = optimise_mixture(sum_exp_predict, params, weights=[0.7, 0.2, 0.1], budget=20e9,
                           unique_tokens=unique, max_epochs=4.0, sources=names,
                           domains=["books_val", "web_val", "math_val"], n_starts=64)
    assert opt.proportions[0] == pytest.approx(4 * 1e9 / 20e9, abs=0)  # exactly the cap 0.2
    assert opt.capped_by_availability[0] and opt.at_upper[0]
    assert opt.epochs[0] == pytest.approx(4.0)
    assert opt.marginal_value[0] > 0
    assert opt.value_per_unique_token[0] == pytest.approx(opt.marginal_value[0] * 4.0 / 20e9)
    js = opt.to_json()
    assert js["capped_by_availability"] == ["books"]


def test_infeasible_constraints_raise_clearly():
    params = {"c": np.array([2.0]), "w": np.zeros((1, 1, 3))}
    with pytest.raises(InfeasibleMixture, match="budget T = 1e\\+11 tokens exceeds the available "
                       "data times the maximum epochs"):
        optimise_mixture(sum_exp_predict, params, weights=[1.0], budget=1e11,
                         unique_tokens=[1e9, 2e9, 3e9], max_epochs=4.0, sources=["a", "b", "c"])
    with pytest.raises(InfeasibleMixture, match="lower bounds sum to 1.2"):
        optimise_mixture(sum_exp_predict, params, weights=[1.0], lower=[0.6, 0.6, 0.0],
                         sources=["a", "b", "c"])
    with pytest.raises(InfeasibleMixture, match=r"a: lower 0\.5 > upper 0\.2 \(availability"):
        optimise_mixture(sum_exp_predict, params, weights=[1.0], lower=[0.5, 0, 0], budget=10e9,
                         unique_tokens=[0.5e9, np.inf, np.inf], max_epochs=4.0,
                         sources=["a", "b", "c"])


def test_bootstrap_draws_give_spread_of_optimum():
    rng = np.random.default_rng(3)
    base = {"c": np.array([2.0, 2.5, 3.0]), "w": rng.normal(0, 1, (D, 1, S))}
    draws = {"c": base["c"] + 0.01 * rng.normal(size=(20, D)),
             "w": base["w"] + 0.2 * rng.normal(size=(20, D, 1, S))}
    opt = optimise_mixture(sum_exp_predict, base, weights=[0.5, 0.3, 0.2], upper=[0.4] * S,
                           sources=list("abcdef"), draws=draws, n_starts=64)
    assert opt.draws["proportions"].shape == (20, S)
    np.testing.assert_allclose(opt.draws["proportions"].sum(axis=1), 1.0, atol=1e-14)
    assert np.all(opt.draws["kkt_violation"] < 1e-7)
    iv = opt.interval()
    assert np.all(iv["proportions_lower"] <= opt.proportions + 0.05)
    assert iv["objective_lower"] < iv["objective_upper"]


# --- spending limit, formula targets, frontier -----------------------------------------------


@st.composite
def spend_problems(draw):
    params, weights, lower, upper = draw(mixing_problems())
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    cost = rng.uniform(0.0, 3.0, S) * 1e-9  # money per token
    budget = 1e10
    cheapest = float(min_cost(cost * budget, lower, upper))
    dearest = float(-min_cost(-cost * budget, lower, upper))
    spend = cheapest + rng.uniform(0.05, 0.6) * (dearest - cheapest)
    return params, weights, lower, upper, cost, budget, spend


@given(spend_problems())
def test_matches_slsqp_under_a_spending_limit(problem):
    params, weights, lower, upper, cost, budget, spend = problem
    opt = optimise_mixture(sum_exp_predict, params, weights=weights, lower=lower, upper=upper,
                           budget=budget, cost_per_token=cost, spend=spend, n_starts=64, seed=0,
                           sources=[f"s{j}" for j in range(S)])
    ref = slsqp(params, weights, lower, upper, cost=cost * budget, limit=spend)
    assert ref is not None
    note(f"ours {opt.proportions} {opt.objective}; slsqp {ref.x} {ref.fun}")
    assert abs(opt.objective - ref.fun) <= 1e-6 * max(1.0, abs(ref.fun))
    assert opt.objective <= ref.fun + 1e-9 * abs(ref.fun)
    assert abs(opt.proportions.sum() - 1.0) < 1e-14
    assert opt.spent <= spend * (1 + 1e-12)
    assert opt.kkt_violation < 1e-7
    assert opt.value_of_money >= 0 and (opt.spend_binds or opt.value_of_money == 0)


def test_value_of_money_is_the_derivative_of_the_optimum():
    rng = np.random.default_rng(11)
    params = {"c": rng.uniform(1.5, 3.0, D), "w": rng.normal(0.0, 1.5, (D, 1, S))}
    names = [f"s{j}" for j in range(S)]
    free = optimise_mixture(sum_exp_predict, params, weights=[0.5, 0.3, 0.2], n_starts=64,
                            sources=names)
    cost = rng.uniform(0.5, 2.0, S) * 1e-9
    cheapest = float(min_cost(cost, np.zeros(S), np.ones(S))) * 1e10
    spend = cheapest + 0.5 * (float(cost @ free.proportions) * 1e10 - cheapest)
    kw = dict(weights=[0.5, 0.3, 0.2], n_starts=64, sources=names, budget=1e10,
              cost_per_token=cost)
    opt = optimise_mixture(sum_exp_predict, params, spend=spend, **kw)
    assert opt.spend_binds and opt.spent == pytest.approx(spend, rel=1e-13)
    h = 1e-4 * spend
    up = optimise_mixture(sum_exp_predict, params, spend=spend + h, **kw)
    down = optimise_mixture(sum_exp_predict, params, spend=spend - h, **kw)
    slope = -(up.objective - down.objective) / (2 * h)  # loss gained per unit of money
    assert opt.value_of_money == pytest.approx(slope, rel=1e-4)
    assert opt.objective > free.objective
    assert opt.to_json()["spending"]["binds"] is True


def test_unaffordable_spend_raises_with_the_numbers():
    params = {"c": np.array([2.0]), "w": np.zeros((1, 1, 3))}
    with pytest.raises(InfeasibleMixture, match=r"the cheapest mixture within the bounds costs 37 "
                       r".* more than the spending limit spend = 10"):
        optimise_mixture(sum_exp_predict, params, weights=[1.0], lower=[0.0, 0.2, 0.1], budget=1e10,
                         cost_per_token=[1e-9, 1e-8, 1e-8], spend=10.0, sources=["a", "b", "c"])
    with pytest.raises(InfeasibleMixture, match="needs `cost_per_token`"):
        optimise_mixture(sum_exp_predict, params, weights=[1.0], spend=10.0, sources=["a", "b", "c"])


# The formula, sources, domains, spending and start counts of test_tasks.py's ACQUIRE spec: the
# compilations made here are reused there.
FORMULA = "logsumexp(loss_web, loss_code) + 0.5 * math"
DOMAINS = ("web", "code", "math")
COST = np.array([0.0, 2e-9, 1e-9, 3e-9, 0.0, 0.0])


def test_formula_target_is_the_function_it_says_and_is_optimised():
    from scalinglaws.mixture.target import target_function

    target = target_function(FORMULA, DOMAINS)
    assert target_function(FORMULA, DOMAINS) is target  # one object: one compilation
    losses = np.random.default_rng(0).uniform(1.0, 4.0, (20, D))
    np.testing.assert_allclose(
        np.asarray(jax.vmap(target)(jnp.asarray(losses))),
        np.logaddexp(losses[:, 0], losses[:, 1]) + 0.5 * losses[:, 2], rtol=1e-15)
    rng = np.random.default_rng(2)
    params = {"c": rng.uniform(1.5, 3.0, D), "w": rng.normal(0.0, 1.5, (D, 1, S))}
    opt = optimise_mixture(sum_exp_predict, params, sources=[f"s{j}" for j in range(S)],
                           domains=DOMAINS, objective=FORMULA, budget=1e10, cost_per_token=COST,
                           spend=1e3, n_starts=64)
    assert opt.expression == FORMULA and opt.kkt_violation < 1e-8
    ref = minimize(lambda r: float(target(jnp.asarray(sum_exp_predict(params, r)))),
                   np.full(S, 1 / S), bounds=[(0, 1)] * S, method="SLSQP",
                   constraints=[{"type": "eq", "fun": lambda r: r.sum() - 1.0}],
                   options={"ftol": 1e-14, "maxiter": 1000})
    assert opt.objective <= ref.fun + 1e-9  # the limit (1e3) does not bind here
    assert opt.objective == pytest.approx(ref.fun, rel=1e-7)


def test_formula_target_errors_point_at_the_token():
    from scalinglaws.errors import ExpressionError
    from scalinglaws.mixture.target import target_function

    with pytest.raises(ExpressionError, match=r"'loss_cod' is not a validation domain \(did you "
                       r"mean 'loss_code'\?\)") as err:
        target_function("max(loss_web, loss_cod)", ("web", "code"))
    assert err.value.offset == len("max(loss_web, ")
    with pytest.raises(ExpressionError, match="attribute access") as err:
        target_function("web.real + code", ("web", "code"))
    assert err.value.column == 5


def test_frontier_solves_every_budget_in_one_call_and_reports_infeasible_ones():
    from scalinglaws.mixture.frontier import mixture_frontier

    rng = np.random.default_rng(4)
    params = {"c": rng.uniform(1.5, 3.0, D), "w": rng.normal(0.0, 1.5, (D, 1, S))}
    unique = np.array([1e9, 2e9, 4e9, 8e9, 16e9, 32e9])
    common = dict(objective=FORMULA, domains=DOMAINS, unique_tokens=unique, max_epochs=4.0,
                  cost_per_token=COST, spend=4.0, sources=[f"s{j}" for j in range(S)])
    budgets = np.array([1e9, 1e10, 1e11, 1e12])  # 4 x 63e9 = 252e9: the last is infeasible
    fr = mixture_frontier(sum_exp_predict, params, budgets=budgets, **common)
    assert list(fr.feasible) == [True, True, True, False]
    assert "exceeds the available data" in fr.rows()[-1]["reason"]
    for p, t in enumerate(budgets[:3]):
        one = optimise_mixture(sum_exp_predict, params, budget=t, n_starts=64, **common)
        assert fr.objective[p] == pytest.approx(one.objective, rel=1e-10)
        assert bool(fr.spend_binds[p]) == one.spend_binds
    # Larger budgets tighten the caps and the spending: the optimum can only get worse.
    assert np.all(np.diff(fr.objective[:3]) >= -1e-12)
    assert fr.spend_binds[2]
