"""critical_batch (McCandlish et al. 2018): prediction and recovery."""

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

import scalinglaws as sl
from scalinglaws.laws.critical_batch import critical_batch


def test_predict_satisfies_the_papers_steps_examples_relation():
    """(S / S_min - 1)(E / E_min - 1) = 1 with E = B S and E_min = B_crit S_min, at random points."""
    rng = np.random.default_rng(0)
    for _ in range(20):
        p = {"S_min": 10 ** rng.uniform(2, 6), "B_crit": 10 ** rng.uniform(3, 8)}
        # within 100x of B_crit: further out, S / S_min - 1 (or E / E_min - 1) cancels to a few
        # digits and the product is no test of the prediction
        b = p["B_crit"] * 10 ** rng.uniform(-2, 2, 16)
        s = critical_batch.predict(p, {"B": b})
        e, e_min = b * s, p["B_crit"] * p["S_min"]
        np.testing.assert_allclose((s / p["S_min"] - 1) * (e / e_min - 1), 1.0, rtol=1e-10)
        np.testing.assert_allclose(s, p["S_min"] * (1 + p["B_crit"] / b), rtol=1e-10)


# Batch sizes from 16k to 16M tokens, a factor of 2 apart.
B = np.geomspace(2.0 ** 14, 2.0 ** 24, 11)


def runs(truth):
    return sl.Table.from_columns(B=B, steps=truth["S_min"] * (1 + truth["B_crit"] / B))


@pytest.fixture(scope="module", autouse=True)
def warm():
    sl.fit("critical_batch", runs({"S_min": 1e4, "B_crit": 1e6}), target="steps")


# Language-model scale: 1e3 to 1e5 steps at infinite batch, B_crit from 100k to 10M tokens
# (Kaplan et al. 2020 report ~1e6 tokens mid-training), inside the design.
@given(log10_smin=st.floats(3.0, 5.0), log10_bcrit=st.floats(5.0, 7.0))
def test_recovers_parameters(log10_smin, log10_bcrit):
    truth = {"S_min": 10 ** log10_smin, "B_crit": 10 ** log10_bcrit}
    result = sl.fit("critical_batch", runs(truth), target="steps")
    note(repr(result))
    # Noise-free: the optimum is the truth; 1e-6 covers the solver's stopping rule.
    for name, value in truth.items():
        assert result.params[name] == pytest.approx(value, rel=1e-6), name
