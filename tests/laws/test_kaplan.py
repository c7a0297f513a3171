"""kaplan (Kaplan et al. 2020, eq. 1.5): prediction against the paper's formula, and recovery."""


import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

import scalinglaws as sl
from scalinglaws.laws.kaplan import KAPLAN_2020, kaplan


def paper_kaplan(p, n, d):
    """Eq. (1.5), written independently in numpy."""
    return ((p["N_c"] / n) ** (p["alpha_N"] / p["alpha_D"]) + p["D_c"] / d) ** p["alpha_D"]


def test_predict_matches_the_paper_formula():
    rng = np.random.default_rng(0)
    params = [KAPLAN_2020] + [
        {"N_c": 10 ** rng.uniform(12, 15), "alpha_N": rng.uniform(0.03, 0.3),
         "D_c": 10 ** rng.uniform(12, 15), "alpha_D": rng.uniform(0.03, 0.3)} for _ in range(10)]
    for p in params:
        n, d = 10 ** rng.uniform(5, 12, 32), 10 ** rng.uniform(6, 13, 32)
        np.testing.assert_allclose(kaplan.predict(p, {"N": n, "D": d}), paper_kaplan(p, n, d),
                                   rtol=1e-10)


# Kaplan et al.'s sweep: 768 to 1.5e9 non-embedding parameters, 2e7 to 2.3e10 tokens.
N, D = (a.ravel() for a in np.meshgrid(np.geomspace(1e6, 1e9, 5), np.geomspace(2e7, 2e10, 5)))
ESTIMATOR = {"starts": "random", "n_random": 128, "schedule": "full"}


def runs(truth):
    return sl.Table.from_columns(N=N, D=D, loss=paper_kaplan(truth, N, D))


@pytest.fixture(scope="module")
def warm():
    sl.fit(kaplan, runs(KAPLAN_2020), ESTIMATOR)


# Realistic ranges around the published fit (alpha_N 0.076, alpha_D 0.103, N_c 6.4e13,
# D_c 1.8e13), wide enough to change which term dominates across the design.
@given(alpha_n=st.floats(0.05, 0.12), alpha_d=st.floats(0.07, 0.15),
       log10_nc=st.floats(12.5, 14.5), log10_dc=st.floats(12.5, 14.5))
def test_recovers_parameters(warm, alpha_n, alpha_d, log10_nc, log10_dc):
    truth = {"N_c": 10 ** log10_nc, "alpha_N": alpha_n, "D_c": 10 ** log10_dc, "alpha_D": alpha_d}
    result = sl.fit(kaplan, runs(truth), ESTIMATOR)
    note(repr(result))
    # Noise-free data from the law itself: the optimum is the truth. N_c and D_c enter only
    # through (N_c / N)^alpha_N, so a relative error e in alpha moves log N_c by e log N_c ~ 30 e:
    # 1e-6 on the exponents and 1e-4 on the scales cover the solver's relative stopping rule.
    for name in ("alpha_N", "alpha_D"):
        assert result.params[name] == pytest.approx(truth[name], rel=1e-6), name
    for name in ("N_c", "D_c"):
        assert result.params[name] == pytest.approx(truth[name], rel=1e-4), name
