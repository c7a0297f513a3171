"""multilingual (Fernandes et al. 2023): prediction against the paper's eqs. (11)-(12), and
recovery."""

import numpy as np
import pytest
from hypothesis import assume, given, note
from hypothesis import strategies as st

import scalinglaws as sl
from scalinglaws.laws.multilingual import multilingual


def paper_multilingual(q, n, p):
    """Eq. (11) with f from eq. (12), written independently in numpy."""
    f = p + q["c1"] * p ** q["c2"] * (1 - p) ** q["c3"]
    return q["beta"] * (f * n) ** -q["alpha"] + q["L_inf"]


def test_predict_matches_the_paper_formula():
    rng = np.random.default_rng(0)
    for _ in range(10):
        q = {"beta": 10 ** rng.uniform(0, 3), "alpha": rng.uniform(0.1, 0.6),
             "L_inf": rng.uniform(0.5, 3.0), "c1": rng.uniform(-0.5, 1.5),
             "c2": rng.uniform(0.5, 2.0), "c3": rng.uniform(0.5, 2.0)}
        n, p = 10 ** rng.uniform(7, 10, 32), rng.uniform(0.01, 1.0, 32)
        p[:4] = 1.0  # single-task points, where f = 1 exactly
        np.testing.assert_allclose(multilingual.predict(q, {"N": n, "p": p}),
                                   paper_multilingual(q, n, p), rtol=1e-10)


def test_weights_outside_zero_one_are_refused():
    q = {"beta": 50.0, "alpha": 0.3, "L_inf": 1.0, "c1": 0.2, "c2": 1.0, "c3": 1.0}
    with pytest.raises(ValueError, match="must lie in"):
        multilingual.predict(q, {"N": [1e8], "p": [1.2]})


# The paper's weights (without the zero-shot p = 0) and model sizes from 2e7 to 1e9.
N, P = (a.ravel() for a in np.meshgrid(np.geomspace(2e7, 1e9, 6),
                                       [0.05, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0]))
ESTIMATOR = {"starts": "random", "n_random": 64, "schedule": "full", "max_iter": 200}


def runs(truth):
    return sl.Table.from_columns(N=N, p=P, loss=paper_multilingual(truth, N, P))


@pytest.fixture(scope="module")
def warm():
    sl.fit(multilingual, runs({"beta": 50.0, "alpha": 0.25, "L_inf": 1.2, "c1": 0.3, "c2": 0.8,
                               "c3": 1.5}), ESTIMATOR)


# Single-task laws with exponents 0.15-0.4 and 0.3-2 nats of reducible loss at 1e8 parameters,
# irreducible losses 0.8-2; transfer from clearly negative (c1 = -0.5) to strongly positive (1.0),
# |c1| >= 0.1 so that the shape of f (c2, c3) is visible at all.
@given(alpha=st.floats(0.15, 0.4), reducible=st.floats(0.3, 2.0), L_inf=st.floats(0.8, 2.0),
       c1=st.floats(-0.5, 1.0), c2=st.floats(0.5, 2.0), c3=st.floats(0.5, 2.0))
def test_recovers_parameters(warm, alpha, reducible, L_inf, c1, c2, c3):
    assume(abs(c1) >= 0.1)
    truth = {"beta": reducible * 1e8 ** alpha, "alpha": alpha, "L_inf": L_inf, "c1": c1,
             "c2": c2, "c3": c3}
    result = sl.fit(multilingual, runs(truth), ESTIMATOR)
    note(repr(result))
    # Noise-free data: the optimum is the truth. beta enters as log beta - alpha log N (log N ~
    # 18), so it carries 18 times alpha's error; c2 and c3 are set by five interior weights only:
    # 1e-3 on beta, c2 and c3, 1e-4 on the rest.
    for name in ("alpha", "L_inf", "c1"):
        assert result.params[name] == pytest.approx(truth[name], rel=1e-4), name
    for name in ("beta", "c2", "c3"):
        assert result.params[name] == pytest.approx(truth[name], rel=1e-3), name
