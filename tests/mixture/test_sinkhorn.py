"""Log-domain Sinkhorn against exact optimal transport."""

import numpy as np
from scipy.optimize import linear_sum_assignment, linprog

from scalinglaws.mixture.sinkhorn import sinkhorn


def test_uniform_clouds_match_the_assignment_problem():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(12, 3)), rng.normal(size=(12, 3)) + 0.5
    cost = ((x[:, None] - y[None]) ** 2).sum(-1)
    rows, cols = linear_sum_assignment(cost)
    exact = cost[rows, cols].mean()
    w = np.full(12, 1 / 12)
    ot = sinkhorn(x, w, y, w, eps=1e-4, iterations=1500, anneal=500)
    assert abs(float(ot.cost) - exact) < 1e-6 * exact
    # The plan is (nearly) the permutation.
    assert np.all(np.asarray(ot.plan).argmax(axis=1) == cols[np.argsort(rows)])
    assert float(ot.marginal_error) < 1e-8


def test_weighted_clouds_match_linear_programme_and_its_duals():
    rng = np.random.default_rng(1)
    a, b = rng.random(10), rng.random(7)
    a, b = a / a.sum(), b / b.sum()
    x, y = rng.normal(size=(10, 2)), rng.normal(size=(7, 2))
    cost = ((x[:, None] - y[None]) ** 2).sum(-1)
    eq = [np.kron(np.eye(10)[i], np.ones(7)) for i in range(10)]
    eq += [np.kron(np.ones(10), np.eye(7)[j]) for j in range(7)]
    lp = linprog(cost.ravel(), A_eq=np.array(eq), b_eq=np.concatenate([a, b]), bounds=(0, None))
    ot = sinkhorn(x, a, y, b, eps=1e-4, iterations=5000, anneal=2000)
    assert abs(float(ot.cost) - lp.fun) < 1e-8
    assert float(ot.marginal_error) < 1e-9
    # Dual potentials = LP duals of the source marginals, up to the additive constant.
    duals = lp.eqlin.marginals[:10]
    np.testing.assert_allclose(np.asarray(ot.f) - np.asarray(ot.f).mean(), duals - duals.mean(),
                               atol=5e-3)
