"""optimal_batch (Step Law, Li et al. 2025): prediction and recovery."""

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

import scalinglaws as sl
from scalinglaws.laws.optimal_hyperparams import STEP_LAW, optimal_batch


def paper_batch(p, d):
    return p["c_B"] * d ** p["g"]


def test_predict_matches_the_paper_formula_and_the_published_law():
    rng = np.random.default_rng(0)
    for _ in range(20):
        p = {"c_B": 10 ** rng.uniform(-2, 2), "g": rng.uniform(0.2, 1.0)}
        d = 10 ** rng.uniform(9, 13, 16)
        np.testing.assert_allclose(optimal_batch.predict(p, {"D": d}), paper_batch(p, d), rtol=1e-10)
    # Step Law at 1T tokens: 0.58 * 1e12^0.571 ~ 4.3M tokens per batch
    b = optimal_batch.predict(STEP_LAW["optimal_batch"], {"D": [1e12]})[0]
    assert b == pytest.approx(0.58 * 1e12 ** 0.571, rel=1e-12)


D = np.geomspace(1e10, 1e12, 8)


def optima(truth):
    return sl.Table.from_columns(D=D, batch=paper_batch(truth, D))


@pytest.fixture(scope="module", autouse=True)
def warm():
    sl.fit("optimal_batch", optima(STEP_LAW["optimal_batch"]), target="batch")


# Around the Step Law (c_B = 0.58, g = 0.571).
@given(truth=st.fixed_dictionaries({"c_B": st.floats(0.2, 2.0), "g": st.floats(0.4, 0.7)}))
def test_recovers_parameters(truth):
    result = sl.fit("optimal_batch", optima(truth), target="batch")
    note(repr(result))
    # Noise-free and linear in logs: least squares is exact up to rounding (1e-8).
    for name, value in truth.items():
        assert result.params[name] == pytest.approx(value, rel=1e-8), name
