"""overtrained (Gadre et al. 2024): prediction against the paper's formula, and recovery."""

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

import scalinglaws as sl
from scalinglaws.laws.overtrained import overtrained


def paper_overtrained(p, c, m):
    """L(C, M) = E + (a M^eta + b M^-eta) C^-eta, written independently in numpy."""
    return p["E"] + (p["a"] * m ** p["eta"] + p["b"] * m ** -p["eta"]) * c ** -p["eta"]


def authors_code(alpha, beta, b, e, n, m):
    """The authors' parametrisation (mlfoundations/scaling, powlaw_ours) in (N, M)."""
    return alpha * n ** b + beta * 6 ** (b / 2) * (m * n) ** b + e


def test_predict_matches_the_paper_formula():
    rng = np.random.default_rng(0)
    for _ in range(10):
        p = {"E": rng.uniform(1.0, 3.0), "a": 10 ** rng.uniform(1, 4), "b": 10 ** rng.uniform(1, 4),
             "eta": rng.uniform(0.05, 0.3)}
        c, m = 10 ** rng.uniform(15, 24, 32), 10 ** rng.uniform(0, 3, 32)
        np.testing.assert_allclose(overtrained.predict(p, {"C": c, "M": m}),
                                   paper_overtrained(p, c, m), rtol=1e-10)


def test_agrees_with_the_authors_parametrisation():
    # a = alpha 6^eta, b = beta, b_code = -2 eta; C = 6 N D = 6 M N^2.
    alpha, beta, b_code, e = 2000.0, 5000.0, -0.25, 1.9
    n, m = np.geomspace(1e7, 7e9, 9), np.array([1, 5, 20, 80, 320, 640, 10, 40, 160.0])
    eta = -b_code / 2
    p = {"E": e, "a": alpha * 6 ** eta, "b": beta, "eta": eta}
    np.testing.assert_allclose(overtrained.predict(p, {"C": 6 * m * n ** 2, "M": m}),
                               authors_code(alpha, beta, b_code, e, n, m), rtol=1e-10)


# The paper's testbed: compute from ~1e17 to ~1e21 FLOPs, token multipliers 5 to 640 (M = 20 is
# Chinchilla-optimal, 640 is 32x over-trained).
C, M = (a.ravel() for a in np.meshgrid(np.geomspace(1e17, 1e21, 5), [5.0, 20.0, 80.0, 320.0, 640.0]))
ESTIMATOR = {"starts": "random", "n_random": 128, "schedule": "full"}


def runs(truth):
    return sl.Table.from_columns(C=C, M=M, loss=paper_overtrained(truth, C, M))


@pytest.fixture(scope="module")
def warm():
    sl.fit(overtrained, runs({"E": 1.8, "a": 300.0, "b": 3000.0, "eta": 0.12}), ESTIMATOR)


# Ranges from Chinchilla-like fits: eta = alpha / 2 with alpha 0.25 to 0.4, a and b = A 6^eta,
# B 6^eta with A, B in the hundreds to thousands, E 1.5 to 2.5.
@given(E=st.floats(1.5, 2.5), eta=st.floats(0.12, 0.2), log10_a=st.floats(2.0, 3.5),
       log10_b=st.floats(2.0, 3.5))
def test_recovers_parameters(warm, E, eta, log10_a, log10_b):
    truth = {"E": E, "a": 10 ** log10_a, "b": 10 ** log10_b, "eta": eta}
    result = sl.fit(overtrained, runs(truth), ESTIMATOR)
    note(repr(result))
    # Noise-free data: the least-squares optimum is the truth; 1e-4 covers the solver's stopping
    # rule on the scales a and b, which trade off against eta.
    for name, value in truth.items():
        assert result.params[name] == pytest.approx(value, rel=1e-4), name
