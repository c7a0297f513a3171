"""shape (Alabdulmohsin et al. 2023): prediction against the paper's formula, the compute-optimal
shape, and recovery."""

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar

import scalinglaws as sl
from scalinglaws.laws.shape import optimal_shape, shape


def paper_shape(p, x, t):
    """Eq. (2): alpha x^-a + (beta x^b + xi) t^-c + eps, written independently in numpy."""
    return p["alpha"] * x ** -p["a"] + (p["beta"] * x ** p["b"] + p["xi"]) * t ** -p["c"] + p["eps"]


def random_params(rng):
    return {"alpha": 10 ** rng.uniform(-1, 2), "a": rng.uniform(0.1, 1.5),
            "beta": 10 ** rng.uniform(-2, 1), "b": rng.uniform(0.1, 1.5), "c": rng.uniform(0.1, 1.0),
            "xi": 10 ** rng.uniform(-2, 1), "eps": rng.uniform(0.01, 0.5)}


def test_predict_matches_the_paper_formula():
    rng = np.random.default_rng(0)
    for _ in range(10):
        p = random_params(rng)
        x, t = 10 ** rng.uniform(0.5, 4, 32), 10 ** rng.uniform(0, 6, 32)
        np.testing.assert_allclose(shape.predict(p, {"x": x, "t": t}), paper_shape(p, x, t),
                                   rtol=1e-10)


def test_optimal_shape_minimises_the_law_at_fixed_compute():
    rng = np.random.default_rng(1)
    for _ in range(5):
        p = random_params(rng)
        for t in (1e2, 1e5):
            best = minimize_scalar(lambda lx, p=p, t=t: paper_shape(p, np.exp(lx), t), bounds=(-20, 40),
                                   method="bounded", options={"xatol": 1e-10})
            assert float(optimal_shape(p, t)) == pytest.approx(np.exp(best.x), rel=1e-6)


# A star-sweep-like design: one shape dimension at five values (a factor 8), five compute budgets.
X, T = (a.ravel() for a in np.meshgrid(np.geomspace(8, 64, 5), np.geomspace(10, 1e4, 5)))
ESTIMATOR = {"starts": "random", "n_random": 128, "schedule": "full", "max_iter": 200}


def runs(truth):
    return sl.Table.from_columns(x=X, t=T, error=paper_shape(truth, X, T))


@pytest.fixture(scope="module")
def warm():
    truth = {"alpha": 2.0, "a": 0.6, "beta": 0.05, "b": 0.8, "c": 0.5, "xi": 3.0, "eps": 0.1}
    sl.fit(shape, runs(truth), ESTIMATOR, target="error")


# Error rates between ~0.1 and ~1: each term contributes a few percent to tens of percent over
# the design, so that all seven parameters show in the data; exponents 0.2-1.
@given(alpha=st.floats(0.5, 5.0), a=st.floats(0.3, 1.0), beta=st.floats(0.01, 0.2),
       b=st.floats(0.3, 1.0), c=st.floats(0.3, 0.8), xi=st.floats(0.5, 5.0),
       eps=st.floats(0.05, 0.3))
def test_recovers_parameters(warm, alpha, a, beta, b, c, xi, eps):
    truth = {"alpha": alpha, "a": a, "beta": beta, "b": b, "c": c, "xi": xi, "eps": eps}
    result = sl.fit(shape, runs(truth), ESTIMATOR, target="error")
    note(repr(result))
    # Noise-free data: the optimum is the truth. Seven parameters from 25 points with strongly
    # correlated terms (beta x^b and xi share t^-c): 1e-3.
    for name, value in truth.items():
        assert result.params[name] == pytest.approx(value, rel=1e-3), name
