"""optimal_lr (Step Law, Li et al. 2025): prediction and recovery."""

import itertools

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

import scalinglaws as sl
from scalinglaws.laws.optimal_hyperparams import STEP_LAW, optimal_lr


def paper_lr(p, n, d):
    return p["c_eta"] * n ** p["a"] * d ** p["b"]


def test_predict_matches_the_paper_formula_and_the_published_law():
    rng = np.random.default_rng(0)
    for _ in range(20):
        p = {"c_eta": 10 ** rng.uniform(-2, 2), "a": rng.uniform(-1.0, 0.0), "b": rng.uniform(0.0, 0.6)}
        n, d = 10 ** rng.uniform(7, 11, 16), 10 ** rng.uniform(9, 13, 16)
        np.testing.assert_allclose(optimal_lr.predict(p, {"N": n, "D": d}), paper_lr(p, n, d), rtol=1e-10)
    # Step Law for a 1B model on 100B tokens: 1.79 * 1e9^-0.713 * 1e11^0.307 ~ 1.2e-3
    lr = optimal_lr.predict(STEP_LAW["optimal_lr"], {"N": [1e9], "D": [1e11]})[0]
    assert lr == pytest.approx(1.79 * 1e9 ** -0.713 * 1e11 ** 0.307, rel=1e-12)
    assert 1e-3 < lr < 2e-3


# A 5 x 5 grid of model sizes (100M-10B) and token counts (10B-1T).
N, D = (np.array(c) for c in zip(*itertools.product(np.geomspace(1e8, 1e10, 5),
                                                  np.geomspace(1e10, 1e12, 5))))


def optima(truth):
    return sl.Table.from_columns(N=N, D=D, lr=paper_lr(truth, N, D))


@pytest.fixture(scope="module", autouse=True)
def warm():
    sl.fit("optimal_lr", optima(STEP_LAW["optimal_lr"]), target="lr")


# Around the Step Law (a = -0.713, b = 0.307).
@given(truth=st.fixed_dictionaries({
    "c_eta": st.floats(0.5, 5.0), "a": st.floats(-0.9, -0.5), "b": st.floats(0.2, 0.4)}))
def test_recovers_parameters(truth):
    result = sl.fit("optimal_lr", optima(truth), target="lr")
    note(repr(result))
    # Noise-free and linear in logs: least squares is exact up to rounding (1e-8).
    for name, value in truth.items():
        assert result.params[name] == pytest.approx(value, rel=1e-8), name
