"""nmt_bivariate (Ghorbani et al. 2022): prediction against the paper's formula, and recovery."""

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

import scalinglaws as sl
from scalinglaws.laws.nmt_bivariate import REFERENCE_SIZE, nmt_bivariate, nmt_bivariate_law


def paper_nmt(p, ne, nd, nbar_e=REFERENCE_SIZE, nbar_d=REFERENCE_SIZE):
    """Eq. (2) of the paper, written independently in numpy."""
    return p["alpha"] * (nbar_e / ne) ** p["p_e"] * (nbar_d / nd) ** p["p_d"] + p["L_inf"]


def test_predict_matches_the_paper_formula():
    rng = np.random.default_rng(0)
    for _ in range(10):
        p = {"alpha": 10 ** rng.uniform(-2, 1), "p_e": rng.uniform(0.05, 0.8),
             "p_d": rng.uniform(0.05, 0.8), "L_inf": rng.uniform(0.5, 3.0)}
        ne, nd = 10 ** rng.uniform(6, 10, 32), 10 ** rng.uniform(6, 10, 32)
        np.testing.assert_allclose(nmt_bivariate.predict(p, {"N_e": ne, "N_d": nd}),
                                   paper_nmt(p, ne, nd), rtol=1e-10)


def test_reference_sizes_rescale_alpha_only():
    p = {"alpha": 0.5, "p_e": 0.2, "p_d": 0.35, "L_inf": 1.4}
    other = nmt_bivariate_law(4.4e7, 5.6e7, name="nmt_other")
    assert nmt_bivariate_law(4.4e7, 5.6e7, name="nmt_other") is other  # one object: one compile
    q = dict(p, alpha=p["alpha"] * (REFERENCE_SIZE / 4.4e7) ** 0.2 * (REFERENCE_SIZE / 5.6e7) ** 0.35)
    x = {"N_e": np.geomspace(1e7, 1e9, 5), "N_d": np.geomspace(2e7, 3e9, 5)}
    np.testing.assert_allclose(other.predict(q, x), nmt_bivariate.predict(p, x), rtol=1e-12)


# Ghorbani et al. scale encoder and decoder separately from ~1e7 to ~1e9 parameters each.
NE, ND = (a.ravel() for a in np.meshgrid(np.geomspace(2e7, 1e9, 5), np.geomspace(2e7, 1e9, 5)))
ESTIMATOR = {"starts": "random", "n_random": 128, "schedule": "full"}


def runs(truth):
    return sl.Table.from_columns(N_e=NE, N_d=ND, loss=paper_nmt(truth, NE, ND))


@pytest.fixture(scope="module")
def warm():
    sl.fit(nmt_bivariate, runs({"alpha": 0.6, "p_e": 0.2, "p_d": 0.3, "L_inf": 1.5}), ESTIMATOR)


# The paper reports exponents of a few tenths (decoder larger than encoder) and irreducible
# losses of 1 to 2 nats; alpha is the reducible loss at 1e8 + 1e8 parameters.
@given(alpha=st.floats(0.2, 2.0), p_e=st.floats(0.1, 0.5), p_d=st.floats(0.1, 0.6),
       L_inf=st.floats(0.8, 2.5))
def test_recovers_parameters(warm, alpha, p_e, p_d, L_inf):
    truth = {"alpha": alpha, "p_e": p_e, "p_d": p_d, "L_inf": L_inf}
    result = sl.fit(nmt_bivariate, runs(truth), ESTIMATOR)
    note(repr(result))
    # Noise-free data: the optimum is the truth; 1e-5 covers the solver's stopping rule.
    for name, value in truth.items():
        assert result.params[name] == pytest.approx(value, rel=1e-5), name
