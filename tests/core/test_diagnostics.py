"""Diagnostics on every fit: reason, starts at optimum, ranges, identifiability, residuals."""

import json

import numpy as np
import pytest

from scalinglaws.core import diagnostics
from scalinglaws.estimators.multistart import MultiStart
from scalinglaws.laws.chinchilla import chinchilla
from scalinglaws.observations import Observations

TRUTH = {"E": 1.8, "A": 480.0, "B": 2100.0, "alpha": 0.35, "beta": 0.37}


def design(n_lo, n_hi, sizes, noise=0.01, seed=0):
    # 15 rows of D per model size
    n, d = np.meshgrid(np.geomspace(n_lo, n_hi, sizes), np.geomspace(5e9, 5e11, 15), indexing="ij")
    n, d = n.ravel(), d.ravel()
    loss = TRUTH["E"] + TRUTH["A"] / n ** TRUTH["alpha"] + TRUTH["B"] / d ** TRUTH["beta"]
    loss = loss * np.exp(noise * np.random.default_rng(seed).standard_normal(loss.shape))
    return np.column_stack([n, d]), loss


@pytest.fixture(scope="module")
def good():
    x, y = design(7e7, 1.6e10, 8, noise=0.0005)
    return MultiStart().fit(chinchilla, Observations.from_arrays(chinchilla, x, y))


def test_every_fit_carries_json_ready_diagnostics(good):
    dg = good.diagnostics
    assert dg["converged"] and dg["reason"] == "successful"
    assert dg["n_at_best"] == good.n_at_best and dg["n_polished"] == good.n_polished
    assert dg["at_range"] == {}
    assert dg["condition"] < diagnostics.CONDITION_WARN
    assert set(dg["max_correlation"]["pair"]) <= set(chinchilla.param_names)
    r = dg["residuals"]
    assert 0 <= r["median_abs"] <= r["max_abs"] < 0.01
    assert 0.0 <= r["share_linear_region"] <= 1.0
    assert not any("identifiable" in w for w in dg["warnings"])
    assert json.loads(json.dumps(good.to_json()))["diagnostics"]["reason"] == "successful"


def test_narrow_range_of_model_sizes_is_flagged_as_not_identifiable():
    x, y = design(1e8, 3e8, 3)  # three model sizes within a factor of 3
    dg = MultiStart().fit(chinchilla, Observations.from_arrays(chinchilla, x, y)).diagnostics
    warn = [w for w in dg["warnings"] if "identifiable" in w]
    assert warn, dg["warnings"]
    assert abs(dg["max_correlation"]["value"]) > diagnostics.CORRELATION_WARN or (
        dg["condition"] > diagnostics.CONDITION_WARN)
    assert dg["max_correlation"]["pair"][0] in warn[0]
    assert dg["at_range"]  # the exponents/scales of such a fit leave the published ranges


def test_condition_and_correlation_of_a_known_matrix():
    cov = np.array([[1.0, 0.999, 0.0], [0.999, 1.0, 0.0], [0.0, 0.0, 4.0]])
    cond, pair, corr = diagnostics.condition_and_correlation(np.linalg.inv(cov), ["a", "b", "c"])
    assert pair == ("a", "b") and corr == pytest.approx(0.999, abs=1e-9)
    assert cond == pytest.approx(np.linalg.cond(np.array([[1, 0.999], [0.999, 1]])), rel=1e-6)


def test_reasons_have_messages():
    assert diagnostics.reason_from_lm(True, 10, 500, 1.0) is diagnostics.Reason.successful
    assert diagnostics.reason_from_lm(False, 500, 500, 1.0) is diagnostics.Reason.max_steps
    assert diagnostics.reason_from_lm(False, 3, 500, float("nan")) is diagnostics.Reason.nonfinite
    assert "max_iter" in diagnostics.Reason.max_steps.message
    assert diagnostics.reason_from_optax(1) is diagnostics.Reason.successful
