"""Fitted exponents do not depend on the order of rows or on the units of N and D."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scalinglaws as sl

TRUTH = {"E": 1.8, "A": 480.0, "B": 2100.0, "alpha": 0.35, "beta": 0.37}


def noisy_runs(seed=0):
    rng = np.random.default_rng(seed)
    n, d = (a.ravel() for a in np.meshgrid(np.geomspace(5e7, 5e10, 6), np.geomspace(1e9, 5e12, 6)))
    loss = TRUTH["E"] + TRUTH["A"] / n ** TRUTH["alpha"] + TRUTH["B"] / d ** TRUTH["beta"]
    return n, d, loss * np.exp(0.01 * rng.standard_normal(n.shape))


@pytest.fixture(scope="module")
def reference():
    n, d, loss = noisy_runs()
    return sl.fit("chinchilla", sl.Table.from_columns(N=n, D=d, loss=loss))


@settings(max_examples=4)
@given(perm_seed=st.integers(0, 2**31 - 1))
def test_permuting_rows_changes_nothing(reference, perm_seed):
    n, d, loss = noisy_runs()
    p = np.random.default_rng(perm_seed).permutation(len(n))
    result = sl.fit("chinchilla", sl.Table.from_columns(N=n[p], D=d[p], loss=loss[p]))
    assert result.objective == pytest.approx(reference.objective, rel=1e-9)
    for name in ("alpha", "beta", "E"):
        assert result.params[name] == pytest.approx(reference.params[name], rel=1e-6)


@settings(max_examples=4)
@given(log10_scale_n=st.sampled_from([-9.0, -6.0, -3.0]), log10_scale_d=st.sampled_from([-9.0, -6.0]))
def test_rescaling_units_keeps_exponents(reference, log10_scale_n, log10_scale_d):
    """N in billions instead of units multiplies A by c^alpha and leaves alpha, beta and E alone.

    The default grid has a, b = log A, log B in {0, 5, ..., 25}; rescaling moves the optimum's
    a and b, so this also checks that the grid still reaches it."""
    n, d, loss = noisy_runs()
    cn, cd = 10.0 ** log10_scale_n, 10.0 ** log10_scale_d
    result = sl.fit("chinchilla", sl.Table.from_columns(N=n * cn, D=d * cd, loss=loss))
    assert result.objective == pytest.approx(reference.objective, rel=1e-7)
    for name in ("alpha", "beta", "E"):
        assert result.params[name] == pytest.approx(reference.params[name], rel=1e-5)
    assert result.params["A"] == pytest.approx(reference.params["A"] * cn ** reference.params["alpha"],
                                               rel=1e-4)
