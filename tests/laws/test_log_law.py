"""log_law (Isik et al. 2024): prediction and recovery."""

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

import scalinglaws as sl
from scalinglaws.laws.log_law import log_law


def paper_log_law(p, dp):
    return np.log(p["A"] * dp ** p["alpha"]) ** p["beta"]


def test_predict_matches_the_paper_formula():
    rng = np.random.default_rng(0)
    for _ in range(20):
        p = {"A": np.exp(rng.uniform(-3, 3)), "alpha": rng.uniform(0.1, 0.5), "beta": rng.uniform(0.5, 3.0)}
        dp = 10 ** rng.uniform(8, 12, size=16)
        np.testing.assert_allclose(log_law.predict(p, {"D_p": dp}), paper_log_law(p, dp), rtol=1e-10)


# Pretraining sizes from 1M to 1T tokens.
DP = np.geomspace(1e6, 1e12, 15)


def runs(truth):
    return sl.Table.from_columns(D_p=DP, bleu=paper_log_law(truth, DP))


@pytest.fixture(scope="module", autouse=True)
def warm():
    sl.fit("log_law", runs({"A": np.exp(-2.0), "alpha": 0.2, "beta": 1.5}), target="bleu")


# The truth is drawn through b0 = log(A D_min^alpha), the value inside the outer power at the
# smallest design point (0.5 to 2), so that log(A D_p^alpha) > 0 on the whole design and grows by
# a factor of 2 to 10 across it: BLEU-like scores from ~0.3 to ~60.
@given(alpha=st.floats(0.1, 0.4), b0=st.floats(0.5, 2.0), beta=st.floats(0.8, 2.5))
def test_recovers_parameters(alpha, b0, beta):
    truth = {"A": float(np.exp(b0 - alpha * np.log(DP[0]))), "alpha": alpha, "beta": beta}
    result = sl.fit("log_law", runs(truth), target="bleu")
    note(repr(result))
    # Noise-free: the optimum is the truth; 1e-4 covers the solver's stopping rule.
    for name, value in truth.items():
        assert result.params[name] == pytest.approx(value, rel=1e-4), name
