"""parallel (Chen et al. 2025, ParScale): prediction against the paper's formula, and recovery."""

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

import scalinglaws as sl
from scalinglaws.laws.parallel import parallel


def paper_parallel(p, n, streams):
    """L = (A / (N (k log P + 1)))^alpha + E (the paper's form, A inside the power), in numpy."""
    return (p["A"] / (n * (p["k"] * np.log(streams) + 1.0))) ** p["alpha"] + p["E"]


def test_predict_matches_the_paper_formula():
    rng = np.random.default_rng(0)
    for _ in range(10):
        p = {"A": 10 ** rng.uniform(5, 10), "k": 10 ** rng.uniform(-1.5, 0.5),
             "alpha": rng.uniform(0.05, 0.6), "E": rng.uniform(0.5, 3.0)}
        n, streams = 10 ** rng.uniform(7, 11, 32), rng.integers(1, 33, 32).astype(float)
        np.testing.assert_allclose(parallel.predict(p, {"N": n, "P": streams}),
                                   paper_parallel(p, n, streams), rtol=1e-10)


def test_laws_md_form_is_the_same_family():
    # LAWS.md's A' / (N (k log P + 1))^alpha + E is the paper's law with A' = A^alpha.
    p = {"A": 3e7, "k": 0.4, "alpha": 0.2, "E": 1.3}
    n, streams = np.geomspace(1e8, 1e10, 6), np.array([1, 2, 4, 8, 16, 32.0])
    laws_md = p["A"] ** p["alpha"] / (n * (p["k"] * np.log(streams) + 1)) ** p["alpha"] + p["E"]
    np.testing.assert_allclose(parallel.predict(p, {"N": n, "P": streams}), laws_md, rtol=1e-12)


# The paper's grid: P in {1, 2, 4, 8} streams, models from 0.5B to 4.4B parameters.
N, P = (a.ravel() for a in np.meshgrid(np.geomspace(5e8, 4.4e9, 5), [1.0, 2.0, 4.0, 8.0]))
ESTIMATOR = {"starts": "random", "n_random": 128, "schedule": "full"}


def runs(truth):
    return sl.Table.from_columns(N=N, P=P, loss=paper_parallel(truth, N, P))


@pytest.fixture(scope="module")
def warm():
    sl.fit(parallel, runs({"A": 2e7, "k": 0.4, "alpha": 0.18, "E": 1.3}), ESTIMATOR)


# Ranges around the paper's fits: k ~ 0.3 to 0.5, alpha ~ 0.1 to 0.3, losses of 1 to 3 nats.
@given(log10_A=st.floats(6.0, 9.0), k=st.floats(0.2, 0.8), alpha=st.floats(0.1, 0.3),
       E=st.floats(0.8, 2.0))
def test_recovers_parameters(warm, log10_A, k, alpha, E):
    truth = {"A": 10 ** log10_A, "k": k, "alpha": alpha, "E": E}
    result = sl.fit(parallel, runs(truth), ESTIMATOR)
    note(repr(result))
    # Noise-free data: the optimum is the truth. A enters as alpha log A, so its relative error is
    # that of alpha times log A (~20): 1e-4 on A, 1e-5 on the rest.
    assert result.params["A"] == pytest.approx(truth["A"], rel=1e-4)
    for name in ("k", "alpha", "E"):
        assert result.params[name] == pytest.approx(truth[name], rel=1e-5), name
