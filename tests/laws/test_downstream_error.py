"""downstream_error (Gadre et al. 2024): prediction and recovery."""

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

import scalinglaws as sl
from scalinglaws.laws.downstream_error import downstream_error


def paper_error(p, loss):
    return p["epsilon"] - p["k"] * np.exp(-p["gamma"] * loss)


def test_predict_matches_the_paper_formula():
    rng = np.random.default_rng(0)
    for _ in range(20):
        p = {"epsilon": rng.uniform(0.5, 1.0), "k": rng.uniform(0.5, 10.0), "gamma": rng.uniform(0.2, 2.0)}
        loss = rng.uniform(1.5, 6.0, size=16)
        np.testing.assert_allclose(downstream_error.predict(p, {"L": loss}), paper_error(p, loss),
                                   rtol=1e-10)


# Fifteen models with validation losses from 2.2 to 4.5 nats (the paper's models span about this).
L = np.linspace(2.2, 4.5, 15)


def models(truth):
    return sl.Table.from_columns(L=L, error=paper_error(truth, L))


@pytest.fixture(scope="module", autouse=True)
def warm():
    sl.fit("downstream_error", models({"epsilon": 0.85, "k": 2.2, "gamma": 0.7}), target="error")


# Ranges around the paper's fit for 17-task average top-1 error (epsilon near 0.85, k near 2,
# gamma near 0.7), wide enough that the errors span a few to tens of points.
@given(truth=st.fixed_dictionaries({
    "epsilon": st.floats(0.75, 0.95), "k": st.floats(1.0, 5.0), "gamma": st.floats(0.4, 1.2)}))
def test_recovers_parameters(truth):
    result = sl.fit("downstream_error", models(truth), target="error")
    note(repr(result))
    # Noise-free: the optimum is the truth; 1e-4 covers the solver's stopping rule.
    for name, value in truth.items():
        assert result.params[name] == pytest.approx(value, rel=1e-4), name
