"""sigmoid_compute: prediction and recovery."""

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

import scalinglaws as sl
from scalinglaws.laws.sigmoid_compute import sigmoid_compute


def reference_accuracy(p, c):
    return p["floor"] + (p["ceil"] - p["floor"]) / (1.0 + np.exp(-p["k"] * (np.log(c) - p["c0"])))


def test_predict_matches_the_formula():
    rng = np.random.default_rng(0)
    for _ in range(20):
        p = {"floor": rng.uniform(0.0, 0.3), "ceil": rng.uniform(0.5, 1.0), "k": rng.uniform(0.2, 3.0),
             "c0": rng.uniform(40.0, 60.0)}
        c = 10 ** rng.uniform(17, 26, size=16)
        np.testing.assert_allclose(sigmoid_compute.predict(p, {"C": c}), reference_accuracy(p, c),
                                   rtol=1e-10)


# Fifteen models from 1e18 to 1e25 FLOPs.
C = np.geomspace(1e18, 1e25, 15)


def models(truth):
    return sl.Table.from_columns(C=C, acc=reference_accuracy(truth, C))


@pytest.fixture(scope="module", autouse=True)
def warm():
    sl.fit("sigmoid_compute", models({"floor": 0.25, "ceil": 0.8, "k": 1.0, "c0": 50.0}), target="acc")


# Multiple-choice benchmarks: chance 0.2-0.3, saturation 0.6-0.95, midpoint between 1e20 and 1e23
# FLOPs so that both plateaus are approached inside the design.
@given(truth=st.fixed_dictionaries({
    "floor": st.floats(0.2, 0.3), "ceil": st.floats(0.6, 0.95), "k": st.floats(0.5, 2.0),
    "c0": st.floats(float(np.log(1e20)), float(np.log(1e23)))}))
def test_recovers_parameters(truth):
    result = sl.fit("sigmoid_compute", models(truth), target="acc")
    note(repr(result))
    # Noise-free: the optimum is the truth; 1e-4 covers the solver's stopping rule.
    for name, value in truth.items():
        assert result.params[name] == pytest.approx(value, rel=1e-4), name
