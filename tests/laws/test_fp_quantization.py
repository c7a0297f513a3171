"""fp_quantization (Sun et al. 2025): prediction and recovery."""

import itertools

import numpy as np
import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

import scalinglaws as sl
from scalinglaws.laws.fp_quantization import fp_quantization


def paper_fp_loss(p, n, d, e, m, b):
    precision = (d ** p["beta"] / n ** p["alpha"]) * np.log2(b) / (
        p["gamma"] * (e + 0.5) ** p["delta"] * (m + 0.5) ** p["nu"])
    return p["n"] / n ** p["alpha"] + p["d"] / d ** p["beta"] + p["epsilon"] + precision


# Values of the order the paper reports (Chinchilla-like terms, a precision term of 1e-4 to
# 1e-1 nats): used to draw random laws around them.
TYPICAL = {"n": 69.2, "alpha": 0.237, "d": 6.9e4, "beta": 0.516, "epsilon": 1.91, "gamma": 1.13e4,
           "delta": 3.15, "nu": 2.95}


def test_predict_matches_the_paper_formula():
    rng = np.random.default_rng(0)
    for _ in range(20):
        p = {k: v * rng.uniform(0.7, 1.3) for k, v in TYPICAL.items()}
        size = 16
        n, d = 10 ** rng.uniform(7, 10, size), 10 ** rng.uniform(9, 12, size)
        e, m = rng.integers(0, 6, size).astype(float), rng.integers(0, 8, size).astype(float)
        b = 2.0 ** rng.integers(0, 12, size)  # includes B = 1: no precision penalty
        got = fp_quantization.predict(p, {"N": n, "D": d, "E": e, "M": m, "B": b})
        np.testing.assert_allclose(got, paper_fp_loss(p, n, d, e, m, b), rtol=1e-10)


# 4 model sizes x 4 token counts x E in {1, 2, 4} x M in {1, 2, 3} x block sizes {32, 1024}:
# FP4-FP8-like formats, as in the paper's grid.
N, D, E, M, B = (np.array(c, dtype=float) for c in zip(*itertools.product(
    np.geomspace(4e7, 1.2e9, 4), np.geomspace(1e10, 1e12, 4), [1, 2, 4], [1, 2, 3], [32, 1024])))
# Eight parameters compile slowly on this machine (~15-25 s for the default halving schedule):
# run 32 random starts to convergence instead, one cheaper compilation.
ESTIMATOR = {"schedule": "full", "starts": "random", "n_random": 32}


def runs(truth):
    return sl.Table.from_columns(N=N, D=D, E=E, M=M, B=B, loss=paper_fp_loss(truth, N, D, E, M, B))


@pytest.fixture(scope="module", autouse=True)
def warm():
    sl.fit("fp_quantization", runs(TYPICAL), estimator=ESTIMATOR)


@settings(max_examples=6)
@given(truth=st.fixed_dictionaries({
    "n": st.floats(30.0, 150.0), "alpha": st.floats(0.2, 0.35), "d": st.floats(1e4, 3e5),
    "beta": st.floats(0.4, 0.6), "epsilon": st.floats(1.6, 2.1), "gamma": st.floats(3e3, 3e4),
    "delta": st.floats(2.5, 3.5), "nu": st.floats(2.5, 3.5)}))
def test_recovers_all_eight_parameters(truth):
    result = sl.fit("fp_quantization", runs(truth), estimator=ESTIMATOR)
    note(repr(result))
    # Noise-free: the optimum is the truth; 1e-4 covers the solver's stopping rule.
    for name, value in truth.items():
        assert result.params[name] == pytest.approx(value, rel=1e-4), name
