"""rl_sigmoid (Khatri et al. 2025): prediction and recovery."""

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

import scalinglaws as sl
from scalinglaws.laws.rl_sigmoid import rl_sigmoid
from scalinglaws.laws.sigmoid_compute import sigmoid_compute


def paper_reward(p, c):
    return p["R0"] + (p["A"] - p["R0"]) / (1.0 + (p["C_mid"] / c) ** p["B"])


def test_predict_matches_the_paper_formula_and_sigmoid_compute():
    rng = np.random.default_rng(0)
    for _ in range(20):
        p = {"A": rng.uniform(0.4, 1.0), "B": rng.uniform(0.5, 3.0), "C_mid": 10 ** rng.uniform(2, 5),
             "R0": rng.uniform(0.0, 0.3)}
        c = 10 ** rng.uniform(2, 6, 16)
        np.testing.assert_allclose(rl_sigmoid.predict(p, {"C": c}), paper_reward(p, c), rtol=1e-10)
        same = {"floor": p["R0"], "ceil": p["A"], "k": p["B"], "c0": np.log(p["C_mid"])}
        np.testing.assert_allclose(sigmoid_compute.predict(same, {"C": c}), paper_reward(p, c),
                                   rtol=1e-10)


# From 1.5k GPU-hours (the paper fits after the early noisy phase) to 100k GPU-hours.
C = np.geomspace(1.5e3, 1e5, 15)


def curve(truth):
    return sl.Table.from_columns(C=C, reward=paper_reward(truth, C))


@pytest.fixture(scope="module", autouse=True)
def warm():
    sl.fit("rl_sigmoid", curve({"A": 0.6, "B": 2.0, "C_mid": 5e3, "R0": 0.1}), target="reward")


# Pass rates: start 0 to 0.3, asymptote 0.5 to 0.8, midpoint 2k to 20k GPU-hours, exponent 1-3.
@given(truth=st.fixed_dictionaries({
    "A": st.floats(0.5, 0.8), "B": st.floats(1.0, 3.0), "C_mid": st.floats(2e3, 2e4),
    "R0": st.floats(0.0, 0.3)}))
def test_recovers_parameters(truth):
    result = sl.fit("rl_sigmoid", curve(truth), target="reward")
    note(repr(result))
    # Noise-free: the optimum is the truth; 1e-4 covers the solver's stopping rule.
    for name, value in truth.items():
        assert result.params[name] == pytest.approx(value, rel=1e-4, abs=1e-8), name
