"""activation_sparsity_relu (Luo et al. 2024): prediction and recovery."""

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

import scalinglaws as sl
from scalinglaws.laws.activation_sparsity import activation_sparsity_relu


def paper_relu(p, d):
    return np.exp(-p["c"] * d ** p["alpha"] + p["b"]) + p["A0"]


def test_predict_matches_the_paper_formula():
    rng = np.random.default_rng(0)
    for _ in range(20):
        p = {"A0": rng.uniform(0.02, 0.3), "c": 10 ** rng.uniform(-5, -1), "alpha": rng.uniform(0.05, 0.5),
             "b": rng.uniform(-3.0, 0.0)}
        d = 10 ** rng.uniform(8, 12, 16)
        np.testing.assert_allclose(activation_sparsity_relu.predict(p, {"D": d}), paper_relu(p, d),
                                   rtol=1e-10)


D = np.geomspace(1e9, 4e11, 12)


def checkpoints(truth):
    return sl.Table.from_columns(D=D, ratio=paper_relu(truth, D))


@pytest.fixture(scope="module", autouse=True)
def warm():
    sl.fit("activation_sparsity_relu",
           checkpoints({"A0": 0.1, "c": 3.0 / D[-1] ** 0.3, "alpha": 0.3, "b": -1.0}), target="ratio")


# The truth is drawn through u_max = c D_max^alpha (2 to 4): the excess exp(b - c D^alpha) decays
# by a factor of 4 to 50 across the design, activation ratios falling by several points and
# visibly converging to a limit of 0.05 to 0.15. (With a nearly constant exponent, e.g. alpha =
# 0.125 and c D^alpha from 0.1 to 0.2, the curve is almost linear in log D and A0 trades off
# against b: that is a property of the law, not of the fit.)
@given(a0=st.floats(0.05, 0.15), alpha=st.floats(0.2, 0.5), u_max=st.floats(2.0, 4.0),
       b=st.floats(-2.0, -0.5))
def test_recovers_parameters(a0, alpha, u_max, b):
    truth = {"A0": a0, "c": u_max / D[-1] ** alpha, "alpha": alpha, "b": b}
    result = sl.fit("activation_sparsity_relu", checkpoints(truth), target="ratio")
    note(repr(result))
    # Noise-free: the optimum is the truth; 1e-4 covers the solver's stopping rule.
    for name, value in truth.items():
        assert result.params[name] == pytest.approx(value, rel=1e-4), name
