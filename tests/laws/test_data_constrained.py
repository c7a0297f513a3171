"""data_constrained (Muennighoff et al. 2023): the authors' numbers, prediction against their code,
and recovery. The refit on their 182 runs is in test_data_constrained_replication.py."""

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

import scalinglaws as sl
from scalinglaws.laws.data_constrained import MUENNIGHOFF_2023, data_constrained


def authors_scaling_law(p, n, d, u):
    """The datablations README's ``scaling_law`` (with its D_to_N), in numpy, vectorised."""
    A, B, E, alpha, beta = p["A"], p["B"], p["E"], p["alpha"], p["beta"]
    G = ((alpha * A) / (beta * B)) ** (1 / (alpha + beta))
    rd = np.maximum((d / u) - 1, 0)
    un = np.minimum(n, (u * G) ** (beta / alpha) * G)
    rn = np.maximum((n / un) - 1, 0)
    return (E + A / (un + un * p["RN_star"] * (1 - np.exp(-1 * rn / p["RN_star"]))) ** alpha
            + B / (u + u * p["RD_star"] * (1 - np.exp(-1 * rd / p["RD_star"]))) ** beta)


def test_published_constants_give_the_readme_values():
    # datablations README, "Models in Figure 1 (right)"
    pred = data_constrained.predict(MUENNIGHOFF_2023, {"N": [6.34e9, 8.67e9], "D": [242e9, 178e9],
                                                       "U": [25e9, 25e9]})
    assert pred[0] == pytest.approx(2.2256440889984477, abs=1e-9)
    assert pred[1] == pytest.approx(2.2269634075087867, abs=1e-9)


def test_predict_matches_the_authors_code():
    rng = np.random.default_rng(0)
    params = [MUENNIGHOFF_2023] + [
        {"E": rng.uniform(1.0, 3.0), "A": 10 ** rng.uniform(1, 4), "B": 10 ** rng.uniform(1, 4),
         "alpha": rng.uniform(0.2, 0.6), "beta": rng.uniform(0.2, 0.6),
         "RD_star": 10 ** rng.uniform(-1, 2), "RN_star": 10 ** rng.uniform(-1, 2)}
        for _ in range(10)]
    for p in params:
        u = 10 ** rng.uniform(7, 11, 40)
        d = u * np.where(rng.random(40) < 0.2, 1.0, 10 ** rng.uniform(0, 3, 40))  # some unrepeated
        n = 10 ** rng.uniform(6, 11, 40)
        np.testing.assert_allclose(data_constrained.predict(p, {"N": n, "D": d, "U": u}),
                                   authors_scaling_law(p, n, d, u), rtol=1e-10)


# Runs in the data-constrained regime, as in the paper's sweeps: 1e8 to 1e10 unique tokens repeated
# 1 to 64 times, models from 1e7 to 3e9 parameters (well past the compute-optimal size U_N of the
# unique tokens, so that both R_D and R_N vary).
U, EPOCHS, N = (a.ravel() for a in np.meshgrid([1e8, 1e9, 1e10], [1.0, 4.0, 16.0, 64.0],
                                               np.geomspace(1e7, 3e9, 5)))
D = U * EPOCHS
ESTIMATOR = {"starts": "random", "n_random": 64, "schedule": "full", "max_iter": 200}


def runs(truth):
    return sl.Table.from_columns(N=N, D=D, U=U, loss=authors_scaling_law(truth, N, D, U))


@pytest.fixture(scope="module")
def warm():
    sl.fit(data_constrained, runs(MUENNIGHOFF_2023), ESTIMATOR)


# Chinchilla-like base laws (Hoffmann et al.; the paper's C4 fit has E 1.87, A 521, B 1488,
# alpha = beta 0.35) and decay constants around the published R_D* 15.4, R_N* 5.3.
@given(E=st.floats(1.5, 2.0), A=st.floats(300.0, 1000.0), B=st.floats(1000.0, 3000.0),
       alpha=st.floats(0.3, 0.4), beta=st.floats(0.3, 0.4), RD_star=st.floats(5.0, 30.0),
       RN_star=st.floats(2.0, 10.0))
def test_recovers_all_seven_parameters(warm, E, A, B, alpha, beta, RD_star, RN_star):
    truth = {"E": E, "A": A, "B": B, "alpha": alpha, "beta": beta, "RD_star": RD_star,
             "RN_star": RN_star}
    result = sl.fit(data_constrained, runs(truth), ESTIMATOR)
    note(repr(result))
    # Noise-free data: the optimum is the truth. R_D* and R_N* are seen only through the curvature
    # of the decay over 0 to 63 repetitions, so they are the least determined: 1e-3 on them and on
    # the scales A and B, 1e-4 on E and the exponents.
    for name in ("E", "alpha", "beta"):
        assert result.params[name] == pytest.approx(truth[name], rel=1e-4), name
    for name in ("A", "B", "RD_star", "RN_star"):
        assert result.params[name] == pytest.approx(truth[name], rel=1e-3), name
