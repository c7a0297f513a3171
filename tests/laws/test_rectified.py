"""rectified (Lin et al. 2024): prediction against the paper's formula, and recovery."""

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

import scalinglaws as sl
from scalinglaws.laws.rectified import rectified


def paper_rectified(p, d):
    return p["B"] / (p["D_l"] + d ** p["beta"]) + p["E"]


def test_predict_matches_the_paper_formula():
    rng = np.random.default_rng(0)
    for _ in range(20):
        p = {"B": 10 ** rng.uniform(0, 5), "E": rng.uniform(0.2, 3.0), "D_l": 10 ** rng.uniform(0, 5),
             "beta": rng.uniform(0.1, 1.5)}
        d = 10 ** rng.uniform(1, 7, size=16)
        np.testing.assert_allclose(rectified.predict(p, {"D": d}), paper_rectified(p, d), rtol=1e-10)


# Fine-tuning subsets from 200 to 1.6M examples, doubling-ish, as in the paper's experiments.
D = np.geomspace(2e2, 1.6e6, 14)


def runs(truth):
    return sl.Table.from_columns(D=D, loss=paper_rectified(truth, D))


@pytest.fixture(scope="module", autouse=True)
def warm():
    sl.fit("rectified", runs({"B": 300.0, "E": 1.0, "D_l": 100.0, "beta": 0.5}))


# Truths drawn so that the curve has both phases inside the design: the transition D_t (where
# D^beta = D_l) lies between 1e3 and 1e5 examples, and the pre-power plateau sits 0.5 to 3 nats
# above E (B = x D_l).
@given(E=st.floats(0.5, 2.0), beta=st.floats(0.3, 1.0), log10_dt=st.floats(3.0, 5.0),
       x=st.floats(0.5, 3.0))
def test_recovers_parameters_when_both_phases_are_observed(E, beta, log10_dt, x):
    d_l = 10 ** (beta * log10_dt)
    truth = {"B": x * d_l, "E": E, "D_l": d_l, "beta": beta}
    result = sl.fit("rectified", runs(truth))
    note(repr(result))
    # Noise-free data: the optimum is the truth; 1e-4 covers the solver's stopping rule.
    for name, value in truth.items():
        assert result.params[name] == pytest.approx(value, rel=1e-4), name
