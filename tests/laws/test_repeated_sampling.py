"""repeated_sampling (Brown et al. 2024): prediction and recovery."""

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

import scalinglaws as sl
from scalinglaws.laws.repeated_sampling import repeated_sampling


def paper_coverage(p, k):
    return np.exp(p["a"] * k ** p["b"])


def test_predict_matches_the_paper_formula():
    rng = np.random.default_rng(0)
    for _ in range(20):
        p = {"a": -rng.uniform(0.1, 8.0), "b": -rng.uniform(0.05, 1.0)}
        k = np.floor(10 ** rng.uniform(0, 4, 16))
        np.testing.assert_allclose(repeated_sampling.predict(p, {"k": k}), paper_coverage(p, k),
                                   rtol=1e-10)


# 1 to 10,000 samples per problem, as in the paper's sweeps.
K = np.geomspace(1, 1e4, 12)


def sweep(truth):
    return sl.Table.from_columns(k=K, coverage=paper_coverage(truth, K))


@pytest.fixture(scope="module", autouse=True)
def warm():
    sl.fit("repeated_sampling", sweep({"a": -2.0, "b": -0.3}), target="coverage")


# pass@1 from exp(-5) ~ 0.7% to exp(-0.5) ~ 60%, exponents -0.1 to -0.6.
@given(truth=st.fixed_dictionaries({"a": st.floats(-5.0, -0.5), "b": st.floats(-0.6, -0.1)}))
def test_recovers_parameters(truth):
    result = sl.fit("repeated_sampling", sweep(truth), target="coverage")
    note(repr(result))
    # Noise-free: the optimum is the truth; 1e-6 covers the solver's stopping rule.
    for name, value in truth.items():
        assert result.params[name] == pytest.approx(value, rel=1e-6), name
