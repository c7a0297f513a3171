"""quantization_degradation (Ouyang et al. 2024): prediction and recovery."""

import itertools

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

import scalinglaws as sl
from scalinglaws.laws.quantization_degradation import quantization_degradation


def paper_qid(p, n, d, bits):
    return p["k"] * d ** p["beta"] / (n ** p["alpha"] * bits ** p["gamma"])


def test_predict_matches_the_paper_formula():
    rng = np.random.default_rng(0)
    for _ in range(20):
        p = {"k": 10 ** rng.uniform(-3, 3), "alpha": rng.uniform(0.1, 0.5), "beta": rng.uniform(0.2, 0.8),
             "gamma": rng.uniform(2.0, 8.0)}
        n, d, bits = 10 ** rng.uniform(8, 10, 16), 10 ** rng.uniform(9, 12, 16), rng.choice([2, 3, 4, 8], 16)
        got = quantization_degradation.predict(p, {"N": n, "D": d, "P": bits})
        np.testing.assert_allclose(got, paper_qid(p, n, d, bits), rtol=1e-10)


# Pythia-like checkpoints: 5 sizes (160M to 12B), 5 checkpoints (1B to 200B tokens), 2-4 bits.
N, D, P = (np.array(c, dtype=float) for c in zip(*itertools.product(
    np.geomspace(1.6e8, 1.2e10, 5), np.geomspace(1e9, 2e11, 5), [2.0, 3.0, 4.0])))


def checkpoints(truth):
    return sl.Table.from_columns(N=N, D=D, P=P, qid=paper_qid(truth, N, D, P))


@pytest.fixture(scope="module", autouse=True)
def warm():
    sl.fit("quantization_degradation", checkpoints({"k": 1.0, "alpha": 0.25, "beta": 0.5, "gamma": 5.0}),
           target="qid")


# Exponents around the paper's (alpha ~ 0.2-0.3, beta ~ 0.5, gamma ~ 5); k chosen so that 3-bit
# degradations are of order 0.01 to 1 nat on this design.
@given(truth=st.fixed_dictionaries({
    "k": st.floats(0.005, 0.1), "alpha": st.floats(0.15, 0.35), "beta": st.floats(0.4, 0.6),
    "gamma": st.floats(4.0, 6.0)}))
def test_recovers_parameters(truth):
    result = sl.fit("quantization_degradation", checkpoints(truth), target="qid")
    note(repr(result))
    # Noise-free and linear in logs: least squares is exact up to rounding (1e-6).
    for name, value in truth.items():
        assert result.params[name] == pytest.approx(value, rel=1e-6), name
