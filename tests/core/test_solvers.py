"""optax solvers (L-BFGS, Adam) under the multi-start contract: vmapped over starts, float64.

Small seeded problems; one compilation per solver (module fixtures), so the file runs in seconds
after compiling.
"""

import itertools

import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scalinglaws import core
from scalinglaws.core import solvers_optax
from scalinglaws.laws.chinchilla import chinchilla

TRUTH = {"E": 1.8, "A": 480.0, "B": 2100.0, "alpha": 0.35, "beta": 0.37}
MODEL = core.Model(chinchilla.log_predict, chinchilla.log_predict_and_jac)
STARTS = np.array(list(itertools.product((-1.0, 1.0), (0.0, 10.0), (0.0, 10.0), (0.1, 0.8),
                                         (0.1, 0.8))), dtype=np.float64)
# No screening stage: every stage is one more compiled copy of the L-BFGS step (and its line
# search), which dominates this file's time. 8 starts, all polished.
SCHEDULE = core.Schedule(stages=(), polish=0)
LBFGS_STARTS = STARTS[::4]


def simulate(noise=0.01, seed=0):
    n, d = np.meshgrid(np.geomspace(7e7, 1.6e10, 6), np.geomspace(5e9, 5e11, 6), indexing="ij")
    n, d = n.ravel(), d.ravel()
    loss = TRUTH["E"] + TRUTH["A"] / n ** TRUTH["alpha"] + TRUTH["B"] / d ** TRUTH["beta"]
    loss = loss * np.exp(noise * np.random.default_rng(seed).standard_normal(loss.shape))
    return np.log(np.column_stack([n, d])), np.log(loss)


@pytest.fixture(scope="module")
def data():
    z, t = simulate()
    return z, t, core.fit(MODEL, STARTS, z, t)


@pytest.fixture(scope="module")
def lbfgs(data):
    z, t, _ = data
    return solvers_optax.fit_optax(MODEL, LBFGS_STARTS, z, t, solver="lbfgs", schedule=SCHEDULE,
                                   max_iter=2000, return_reasons=True)


def test_lbfgs_reaches_the_lm_optimum_in_float64(data, lbfgs):
    _, _, ref = data
    result, reasons = lbfgs
    assert result.theta.dtype == jnp.float64 and result.values.dtype == jnp.float64
    assert abs(float(result.value) - float(ref.value)) <= 1e-9 * float(ref.value)
    np.testing.assert_allclose(result.theta, ref.theta, rtol=1e-4)
    assert result.thetas.shape == (8, 5)
    assert np.all(np.diff(np.asarray(result.values)) >= 0)  # best first
    assert int(result.n_at_best) >= 2


def test_lbfgs_exits_early_when_every_start_has_converged(lbfgs):
    result, reasons = lbfgs
    assert np.all(np.asarray(result.converged))
    assert np.all(np.asarray(reasons) == solvers_optax.REASON_FTOL)
    assert int(np.max(result.iterations)) < 2000  # the while loop stopped before max_iter


def test_adam_minimises_a_smooth_least_squares_problem():
    # log y = c - k log x: a convex problem, where Adam with a decaying step converges.
    def f(theta, x):
        return theta[0] - theta[1] * x[:, 0]

    x = np.linspace(0.0, 3.0, 20)[:, None]
    t = 1.5 - 0.7 * x[:, 0]
    starts = np.array([[0.0, 0.0], [3.0, 2.0], [-1.0, 0.5]], dtype=np.float64)
    result, reasons = solvers_optax.fit_optax(
        core.Model(f), starts, x, t, solver="adam", loss=core.Loss("squared"),
        schedule=core.Schedule(stages=(), polish=0), max_iter=4000, ftol=1e-10,
        return_reasons=True)
    np.testing.assert_allclose(result.theta, [1.5, 0.7], atol=1e-3)
    assert result.theta.dtype == jnp.float64
    assert int(np.asarray(reasons)[0]) in (solvers_optax.REASON_FTOL, solvers_optax.REASON_MAX_ITER)


def test_float32_is_refused_and_unknown_solver_named():
    z, t = simulate()
    with pytest.raises(TypeError, match="float64"):
        solvers_optax.fit_optax(MODEL, STARTS.astype(np.float32), z, t)
    with pytest.raises(ValueError, match="lbfgs"):
        solvers_optax.fit_optax(MODEL, STARTS, z, t, solver="sgd")


def test_estimator_solver_adam_ends_at_the_lm_optimum():
    # `solver: adam` in a spec: Adam from every start, survivors polished by LM.
    from scalinglaws.estimators.multistart import MultiStart
    from scalinglaws.observations import Observations

    z, t = simulate()
    x, y = np.exp(z), np.exp(t)
    # 32 starts, all polished (`full`): the reference and Adam's LM polish share one compilation.
    opts = dict(starts="random", n_random=32, schedule="full")
    obs = Observations.from_arrays(chinchilla, x, y)
    ref = MultiStart(**opts).fit(chinchilla, obs)
    got = MultiStart(solver="adam", **opts).fit(chinchilla, obs)
    assert abs(got.objective - ref.objective) <= 1e-9 * ref.objective
    assert got.estimator["solver"] == "adam" and got.diagnostics["converged"]


@given(truth=st.fixed_dictionaries({
    "E": st.floats(1.5, 2.0), "A": st.floats(200.0, 2000.0), "B": st.floats(200.0, 3000.0),
    "alpha": st.floats(0.25, 0.45), "beta": st.floats(0.25, 0.45)}))
def test_lbfgs_recovers_random_true_parameters(lbfgs, truth):
    # Same shapes as the `lbfgs` fixture: no new compilation.
    n, d = (a.ravel() for a in np.meshgrid(np.geomspace(7e7, 1.6e10, 6),
                                           np.geomspace(5e9, 5e11, 6), indexing="ij"))
    loss = truth["E"] + truth["A"] / n ** truth["alpha"] + truth["B"] / d ** truth["beta"]
    z, t = np.log(np.column_stack([n, d])), np.log(loss)
    result = solvers_optax.fit_optax(MODEL, LBFGS_STARTS, z, t, solver="lbfgs",
                                     schedule=SCHEDULE, max_iter=2000)
    got = chinchilla.to_natural(np.asarray(result.theta))
    for k, v in truth.items():
        assert abs(got[k] - v) <= 0.02 * v, (k, got[k], v)
