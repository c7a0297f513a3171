"""The asymmetric Huber loss: over-prediction weighted k times, so the fit follows the lower
envelope of noisy points; reachable from sl.fit and from a spec by name."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import scalinglaws as sl
from scalinglaws.core.objectives import describe_loss, loss_kind, make_loss
from scalinglaws.errors import SpecError
from scalinglaws.plugins import get_registry
from scalinglaws.runner import execute
from scalinglaws.spec.structure import load_spec

TRUTH = {"E": 1.5, "A": 20.0, "alpha": 0.3}
X = np.geomspace(1e6, 1e10, 24)


def _law(x):
    return TRUTH["E"] + TRUTH["A"] * x ** -TRUTH["alpha"]


def _fit(y, k):
    table = sl.Table.from_columns(x=X, loss=y)
    return sl.fit("power_law", table, estimator={"loss": "asymmetric_huber", "loss_args": {"k": k}})


def test_values_derivatives_and_curvature_match_autodiff():
    loss = make_loss("asymmetric_huber", 0.1, {"k": 4.0})
    kind = loss_kind("asymmetric_huber")
    r = jnp.asarray(np.concatenate([np.linspace(-0.5, -0.001, 60), np.linspace(0.001, 0.5, 60)]))
    r = r[jnp.abs(jnp.abs(r) - 0.1) > 1e-6]
    huber = make_loss("huber", 0.1)
    # Over-prediction (r > 0) costs k times Huber, under-prediction Huber itself.
    expected = np.where(r > 0, 4.0, 1.0) * np.asarray(loss_kind("huber").rho(huber, r))
    np.testing.assert_allclose(kind.rho(loss, r), expected, rtol=1e-15)
    np.testing.assert_allclose(kind.psi(loss, r), jax.vmap(jax.grad(lambda v: kind.rho(loss, v)))(r),
                               rtol=0, atol=1e-10)
    np.testing.assert_allclose(kind.newton(loss, r), jax.vmap(jax.grad(lambda v: kind.psi(loss, v)))(r),
                               rtol=0, atol=1e-10)
    np.testing.assert_allclose(kind.irls(loss, r) * r, kind.psi(loss, r), rtol=1e-12)
    assert describe_loss("asymmetric_huber", 1e-3, {"k": 4}) == (
        "asymmetric Huber (delta = 0.001, over-prediction weighted k = 4 times)")
    # k = 1 is Huber, numbers and normaliser alike.
    one = make_loss("asymmetric_huber", 0.1)
    np.testing.assert_array_equal(kind.rho(one, r), loss_kind("huber").rho(huber, r))
    assert float(kind.log_normaliser(one, 0.01)) == pytest.approx(
        float(loss_kind("huber").log_normaliser(huber, 0.01)), rel=1e-14)


@given(seed=st.integers(0, 2**31 - 1), noise=st.floats(0.005, 0.05), k=st.sampled_from([2.0, 4.0]))
def test_a_larger_k_puts_the_curve_below_at_least_as_many_points(seed, noise, k):
    y = _law(X) * np.exp(noise * np.random.default_rng(seed).standard_normal(len(X)))
    above = {}
    for weight in (1.0, k):
        fit = _fit(y, weight)
        above[weight] = int(np.sum(y > fit.predict({"x": X})))
    assert above[k] >= above[1.0], above


def test_recovers_the_law_from_noise_free_points():
    fit = _fit(_law(X), 4.0)
    for name, value in TRUTH.items():
        assert fit.params[name] == pytest.approx(value, rel=1e-6)
    assert fit.estimator["loss"] == "asymmetric_huber" and fit.estimator["loss_args"] == {"k": 4.0}


SPEC = """
version: 1
datasets:
  sim:
    source: simulate
    law: power_law
    truth: {E: 1.5, A: 20.0, alpha: 0.3}
    design: {x: {logspace: [1.0e+6, 1.0e+10], num: 12}}
    noise: 0.02
tasks:
  - kind: fit
    dataset: sim
    law: power_law
    estimator: {loss: asymmetric_huber, loss_args: ARGS}
"""


def test_a_spec_chooses_it_by_name():
    registry = get_registry()
    task = execute(load_spec(SPEC.replace("ARGS", "{k: 4}"), registry), registry).tasks[0]
    assert task.fit.estimator["loss"] == "asymmetric_huber"
    assert task.fit.estimator["loss_args"] == {"k": 4}
    for args, message in (("{k: -1}", "k (the weight of over-prediction) must be > 0, got -1"),
                          ("{kk: 2}", "has no parameter 'kk'; its parameters are k")):
        with pytest.raises(SpecError) as info:
            load_spec(SPEC.replace("ARGS", args), registry)
        assert message in str(info.value)
