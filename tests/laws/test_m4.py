"""m4 (Alabdulmohsin et al. 2022): the implicit law against a scalar root finder, its derivatives,
and recovery."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st
from scipy.optimize import brentq

import scalinglaws as sl
from scalinglaws.laws.m4 import log_predict, log_predict_and_jac, m4


def paper_m4(p, x):
    """Solve (L - eps_inf) / (eps_0 - L)^alpha = beta x^c for L in (eps_inf, eps_0) with scipy's
    Brent method on each point (written from the paper's equation, independent of the family)."""
    out = []
    for xi in np.atleast_1d(x):
        f = p["beta"] * xi ** p["c"]
        out.append(brentq(lambda L, f=f: (L - p["eps_inf"]) - f * (p["eps_0"] - L) ** p["alpha"],
                          p["eps_inf"], p["eps_0"], xtol=1e-14, rtol=1e-15, maxiter=500))
    return np.array(out)


def random_params(rng):
    return {"eps_inf": rng.uniform(0.05, 2.0), "eps_0": 0.0, "alpha": 10 ** rng.uniform(-1, 0.5),
            "beta": 10 ** rng.uniform(-1, 3), "c": -rng.uniform(0.05, 0.8)}


def test_predict_matches_the_paper_equation():
    rng = np.random.default_rng(0)
    for _ in range(10):
        p = random_params(rng)
        p["eps_0"] = p["eps_inf"] + rng.uniform(0.5, 5.0)
        x = 10 ** rng.uniform(0, 9, 24)
        np.testing.assert_allclose(m4.predict(p, {"x": x}), paper_m4(p, x), rtol=1e-10)


def test_matches_the_authors_grid_predictor():
    # google-research revisiting_neural_scaling_laws m4.Estimator.predict_loss: the w in
    # linspace(0, eps_0 - eps_inf, prec) closest to solving w = f (b - w)^alpha.
    p = {"eps_inf": 0.25, "eps_0": 1.0, "alpha": 0.6, "beta": 40.0, "c": -0.45}
    prec, b = 10_000, p["eps_0"] - p["eps_inf"]
    w = np.linspace(0, b, prec)
    x = np.geomspace(1e2, 1e8, 7)
    authors = [w[np.argmin(np.abs(w - p["beta"] * xi ** p["c"] * (b - w) ** p["alpha"]))]
               + p["eps_inf"] for xi in x]
    np.testing.assert_allclose(m4.predict(p, {"x": x}), authors, atol=b / prec)


@pytest.mark.parametrize("p", [
    {"eps_inf": 0.3, "eps_0": 2.5, "alpha": 0.7, "beta": 30.0, "c": -0.35},
    {"eps_inf": 1.3, "eps_0": 1.5, "alpha": 3.0, "beta": 3.0, "c": -0.1},  # alpha > 1
])
def test_jacobian_is_the_implicit_derivative(p):
    theta = jnp.asarray(m4.to_fit(p))
    z = jnp.log(jnp.geomspace(1e1, 1e9, 24))[:, None]  # 24 points, as in the predict test
    # central differences of the root find itself (4 extra solves per parameter)
    h = 1e-5
    numeric = np.stack([(log_predict(theta + h * e, z) - log_predict(theta - h * e, z)) / (2 * h)
                        for e in jnp.eye(theta.shape[0])], axis=1)
    forward = jax.jacfwd(log_predict)(theta, z)  # through the custom_jvp rule, as the core does
    y, closed = log_predict_and_jac(theta, z)  # by hand, as the fits do
    np.testing.assert_allclose(forward, numeric, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(closed, forward, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(y, log_predict(theta, z), rtol=1e-14, atol=1e-15)


# A learning curve from 10 to 1e9 examples (the benchmark's curves span 3 to 6 decades).
X = np.geomspace(1e1, 1e9, 24)
ESTIMATOR = {"starts": "random", "n_random": 64, "schedule": "full", "max_iter": 300}


def runs(truth):
    return sl.Table.from_columns(x=X, loss=paper_m4(truth, X))


@pytest.fixture(scope="module")
def warm():
    sl.fit(m4, runs({"eps_inf": 0.3, "eps_0": 2.5, "alpha": 0.7, "beta": 30.0, "c": -0.35}),
           ESTIMATOR)


# Error-rate-like curves: eps_0 (random guessing) 0.7 to 3 above eps_inf; the middle of the power
# law (beta x^c = 1) between 1e3 and 1e6 examples so both plateaus are visible in the design.
@given(eps_inf=st.floats(0.1, 1.0), gap=st.floats(0.7, 3.0), alpha=st.floats(0.3, 1.5),
       c=st.floats(-0.7, -0.25), log10_mid=st.floats(3.0, 6.0))
def test_recovers_parameters(warm, eps_inf, gap, alpha, c, log10_mid):
    truth = {"eps_inf": eps_inf, "eps_0": eps_inf + gap, "alpha": alpha,
             "beta": 10 ** (-c * log10_mid), "c": c}
    result = sl.fit(m4, runs(truth), ESTIMATOR)
    note(repr(result))
    # Noise-free data: the optimum is the truth. beta enters as log beta + c log x (log x ~ 10),
    # so it inherits ten times the exponent's error: 1e-3 on beta, 1e-4 on the rest.
    assert result.params["beta"] == pytest.approx(truth["beta"], rel=1e-3)
    for name in ("eps_inf", "eps_0", "alpha", "c"):
        assert result.params[name] == pytest.approx(truth[name], rel=1e-4), name
