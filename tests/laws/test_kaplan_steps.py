"""kaplan_steps (Kaplan et al. 2020, eqs. 5.3-5.6): the implicit law against a scalar root
finder, its derivatives, and recovery."""

import itertools

import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st
from scipy.optimize import brentq

import scalinglaws as sl
from scalinglaws.laws.kaplan_steps import KAPLAN_2020_STEPS, kaplan_steps, log_predict, log_predict_and_jac


def paper_kaplan_steps(p, n, s, b):
    """L = (N_c/N)^alpha_N + (S_c/S_min)^alpha_S with S_min = S / (1 + B_crit(L)/B) and
    B_crit(L) = B*/L^(1/alpha_B): solved for L point by point with scipy's Brent method."""
    out = []
    for ni, si, bi in zip(n, s, b):
        def residual(L, ni=ni, si=si, bi=bi):
            s_min = si / (1.0 + p["B_star"] / L ** (1.0 / p["alpha_B"]) / bi)
            return L - (p["N_c"] / ni) ** p["alpha_N"] - (p["S_c"] / s_min) ** p["alpha_S"]
        lo = (p["N_c"] / ni) ** p["alpha_N"] + (p["S_c"] / si) ** p["alpha_S"]
        out.append(brentq(residual, lo, 1e3 * lo, xtol=1e-14, rtol=1e-15, maxiter=500))
    return np.array(out)


def test_predict_matches_the_paper_equations():
    rng = np.random.default_rng(0)
    params = [KAPLAN_2020_STEPS] + [
        {"N_c": 10 ** rng.uniform(12, 15), "alpha_N": rng.uniform(0.05, 0.12),
         "S_c": 10 ** rng.uniform(2.5, 4), "alpha_S": rng.uniform(0.5, 1.0),
         "B_star": 10 ** rng.uniform(7.5, 9), "alpha_B": rng.uniform(0.15, 0.3)} for _ in range(8)]
    for p in params:
        n, s = 10 ** rng.uniform(5, 10, 24), 10 ** rng.uniform(3, 6, 24)
        b = 2.0 ** rng.integers(14, 23, 24)
        np.testing.assert_allclose(kaplan_steps.predict(p, {"N": n, "S": s, "B": b}),
                                   paper_kaplan_steps(p, n, s, b), rtol=1e-10)


def test_jacobian_is_the_implicit_derivative():
    theta = jnp.asarray(kaplan_steps.to_fit(KAPLAN_2020_STEPS))
    # 24 points, like the predict test above, so the jitted log_predict is reused
    x = np.array(list(itertools.product([1e6, 1e8, 1e10], [3e3, 3e4, 1e5, 1e6], [2.0 ** 16, 2.0 ** 21])))
    z = jnp.log(jnp.asarray(x))
    h = 1e-5
    numeric = np.stack([(log_predict(theta + h * e, z) - log_predict(theta - h * e, z)) / (2 * h)
                        for e in jnp.eye(theta.shape[0])], axis=1)
    y, closed = log_predict_and_jac(theta, z)  # by hand, as the fits do
    np.testing.assert_allclose(closed, numeric, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(y, log_predict(theta, z), rtol=1e-14, atol=1e-15)
    # jax.jacfwd through log_predict's custom_jvp rule (the core's default) is checked against
    # the same closed form in test_m4.py and on known roots in test_implicit.py; compiling it here
    # too would cost two seconds.


# Model sizes 1e6 to 1e9, learning curves from 3e3 to 1e5 steps, batches of 2^17 to 2^21 tokens
# (below and above B_crit ~ 1e6 tokens at these losses), as in Kaplan et al.'s batch sweeps.
N, S, B = (a.ravel() for a in np.meshgrid(np.geomspace(1e6, 1e9, 4), np.geomspace(3e3, 1e5, 4),
                                          [2.0 ** 17, 2.0 ** 19, 2.0 ** 21]))
ESTIMATOR = {"starts": "random", "n_random": 64, "schedule": "full", "max_iter": 300}


def runs(truth):
    return sl.Table.from_columns(N=N, S=S, B=B, loss=paper_kaplan_steps(truth, N, S, B))


@pytest.fixture(scope="module")
def warm():
    sl.fit(kaplan_steps, runs(KAPLAN_2020_STEPS), ESTIMATOR)


# Ranges around the published values (Table 3 and eq. 5.3). Six examples keep the file near 8 s.
@settings(max_examples=6)
@given(alpha_n=st.floats(0.06, 0.1), log10_nc=st.floats(13.0, 14.5), alpha_s=st.floats(0.6, 0.9),
       log10_sc=st.floats(3.0, 3.7), log10_bstar=st.floats(8.0, 8.7), alpha_b=st.floats(0.18, 0.25))
def test_recovers_parameters(warm, alpha_n, log10_nc, alpha_s, log10_sc, log10_bstar, alpha_b):
    truth = {"N_c": 10 ** log10_nc, "alpha_N": alpha_n, "S_c": 10 ** log10_sc, "alpha_S": alpha_s,
             "B_star": 10 ** log10_bstar, "alpha_B": alpha_b}
    result = sl.fit(kaplan_steps, runs(truth), ESTIMATOR)
    note(repr(result))
    # Noise-free data: the optimum is the truth. The scales enter as alpha log(scale) with
    # log(scale) of 8 to 32, so they carry that multiple of the exponents' error: 1e-3 on the
    # scales, 1e-4 on the exponents.
    for name in ("alpha_N", "alpha_S", "alpha_B"):
        assert result.params[name] == pytest.approx(truth[name], rel=1e-4), name
    for name in ("N_c", "S_c", "B_star"):
        assert result.params[name] == pytest.approx(truth[name], rel=1e-3), name
