"""activation_sparsity_silu (Luo et al. 2024): prediction and recovery."""

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

import scalinglaws as sl
from scalinglaws.laws.activation_sparsity import activation_sparsity_silu


def paper_silu(p, d):
    return p["A0"] - p["c"] / d ** p["alpha"]


def test_predict_matches_the_paper_formula():
    rng = np.random.default_rng(0)
    for _ in range(20):
        p = {"A0": rng.uniform(0.2, 0.6), "c": 10 ** rng.uniform(-1, 2), "alpha": rng.uniform(0.05, 0.6)}
        d = 10 ** rng.uniform(8, 12, 16)
        np.testing.assert_allclose(activation_sparsity_silu.predict(p, {"D": d}), paper_silu(p, d),
                                   rtol=1e-10)


# Checkpoints from 1B to 400B tokens.
D = np.geomspace(1e9, 4e11, 12)


def checkpoints(truth):
    return sl.Table.from_columns(D=D, ratio=paper_silu(truth, D))


@pytest.fixture(scope="module", autouse=True)
def warm():
    sl.fit("activation_sparsity_silu", checkpoints({"A0": 0.4, "c": 10.0, "alpha": 0.2}), target="ratio")


# The truth is drawn through the gap A0 - A(D_min) (0.05 to 0.3): activation ratios rising by a
# few to tens of points over training, towards a limit of 0.3 to 0.5.
@given(a0=st.floats(0.3, 0.5), alpha=st.floats(0.1, 0.4), gap=st.floats(0.05, 0.3))
def test_recovers_parameters(a0, alpha, gap):
    truth = {"A0": a0, "c": gap * D[0] ** alpha, "alpha": alpha}
    result = sl.fit("activation_sparsity_silu", checkpoints(truth), target="ratio")
    note(repr(result))
    # Noise-free: the optimum is the truth; 1e-4 covers the solver's stopping rule.
    for name, value in truth.items():
        assert result.params[name] == pytest.approx(value, rel=1e-4), name
