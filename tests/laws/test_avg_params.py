"""avg_params (Jin et al. 2025): prediction against the formula, the average count, and recovery."""

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

import scalinglaws as sl
from scalinglaws.laws.avg_params import average_parameter_count, avg_params


def chinchilla_in_n_avg(p, n_avg, d):
    return p["E"] + p["A"] / n_avg ** p["alpha"] + p["B"] / d ** p["beta"]


def test_predict_matches_the_formula():
    rng = np.random.default_rng(0)
    for _ in range(10):
        p = {"E": rng.uniform(1.0, 3.0), "A": 10 ** rng.uniform(1, 4), "B": 10 ** rng.uniform(1, 4),
             "alpha": rng.uniform(0.1, 0.6), "beta": rng.uniform(0.1, 0.6)}
        n, d = 10 ** rng.uniform(6, 11, 32), 10 ** rng.uniform(8, 13, 32)
        np.testing.assert_allclose(avg_params.predict(p, {"N_avg": n, "D": d}),
                                   chinchilla_in_n_avg(p, n, d), rtol=1e-10)


def test_average_parameter_count_integrates_the_cubic_schedule():
    n, s_f, start, end = 1e9, 0.8, 0.25, 0.75
    u = (np.arange(400_000) + 0.5) / 400_000  # midpoints of the training fraction
    ramp = np.clip((u - start) / (end - start), 0.0, 1.0)
    sparsity = s_f * (1.0 - (1.0 - ramp) ** 3)
    assert average_parameter_count(n, s_f, start, end) == pytest.approx(
        np.mean(n * (1.0 - sparsity)), rel=1e-9)
    assert average_parameter_count(n, 0.0) == n  # dense
    with pytest.raises(ValueError):
        average_parameter_count(n, 0.5, start=0.8, end=0.2)


# Dense and pruned runs: dense sizes 5e7 to 5e10 at 0%, 50% and 80% final sparsity (pruned from
# 25% to 75% of training), 1e9 to 5e12 tokens.
DENSE = np.geomspace(5e7, 5e10, 4)
NAVG = np.concatenate([average_parameter_count(DENSE, s) for s in (0.0, 0.5, 0.8)])
N_AVG, D = (a.ravel() for a in np.meshgrid(NAVG, np.geomspace(1e9, 5e12, 4)))
ESTIMATOR = {"starts": "random", "n_random": 128, "schedule": "full"}


def runs(truth):
    return sl.Table.from_columns(N_avg=N_AVG, D=D, loss=chinchilla_in_n_avg(truth, N_AVG, D))


@pytest.fixture(scope="module")
def warm():
    sl.fit(avg_params, runs({"E": 1.7, "A": 400.0, "B": 400.0, "alpha": 0.34, "beta": 0.28}),
           ESTIMATOR)


# Chinchilla-like ranges (Hoffmann et al. 2022; Besiroglu et al. 2024).
@given(E=st.floats(1.5, 2.0), A=st.floats(200.0, 2000.0), B=st.floats(200.0, 3000.0),
       alpha=st.floats(0.25, 0.45), beta=st.floats(0.25, 0.45))
def test_recovers_parameters(warm, E, A, B, alpha, beta):
    truth = {"E": E, "A": A, "B": B, "alpha": alpha, "beta": beta}
    result = sl.fit(avg_params, runs(truth), ESTIMATOR)
    note(repr(result))
    # Noise-free data: the optimum is the truth; 1e-4 covers the solver's stopping rule on the
    # scales A and B, which trade off against the exponents.
    for name, value in truth.items():
        assert result.params[name] == pytest.approx(value, rel=1e-4), name
