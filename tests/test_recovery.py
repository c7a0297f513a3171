"""Fitting recovers known parameters from data the test generates."""

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

import scalinglaws as sl

N_DESIGN = np.geomspace(5e7, 5e10, 7)
D_DESIGN = np.geomspace(1e9, 5e12, 7)


def chinchilla_runs(truth, noise=0.0, seed=0):
    n, d = (a.ravel() for a in np.meshgrid(N_DESIGN, D_DESIGN))
    loss = truth["E"] + truth["A"] / n ** truth["alpha"] + truth["B"] / d ** truth["beta"]
    loss = loss * np.exp(noise * np.random.default_rng(seed).standard_normal(loss.shape))
    return sl.Table.from_columns(N=n, D=d, loss=loss)


# Realistic ranges: published fits have E ~ 1.7-1.9, A and B in the hundreds to thousands and
# exponents 0.25-0.45 (Hoffmann et al. 2022; Besiroglu et al. 2024).
chinchilla_truths = st.fixed_dictionaries({
    "E": st.floats(1.5, 2.0),
    "A": st.floats(200.0, 2000.0),
    "B": st.floats(200.0, 3000.0),
    "alpha": st.floats(0.25, 0.45),
    "beta": st.floats(0.25, 0.45),
})


@pytest.fixture(scope="module", autouse=True)
def warm():
    sl.fit("chinchilla", chinchilla_runs({"E": 1.7, "A": 400.0, "B": 400.0, "alpha": 0.34, "beta": 0.28}))


@given(truth=chinchilla_truths)
def test_chinchilla_recovers_every_parameter_within_2_percent(truth):
    result = sl.fit("chinchilla", chinchilla_runs(truth))
    note(repr(result))
    for name, value in truth.items():
        assert result.params[name] == pytest.approx(value, rel=0.02), name
    assert result.n_at_best >= 1


@given(truth=st.fixed_dictionaries({"E": st.floats(0.5, 3.0), "A": st.floats(5.0, 500.0),
                                    "alpha": st.floats(0.1, 0.8)}))
def test_power_law_recovers_parameters(truth):
    x = np.geomspace(1e6, 1e12, 12)
    loss = truth["E"] + truth["A"] * x ** -truth["alpha"]
    result = sl.fit("power_law", sl.Table.from_columns(x=x, loss=loss))
    for name, value in truth.items():
        assert result.params[name] == pytest.approx(value, rel=0.01), name


def test_fixed_parameters_stay_fixed():
    truth = {"E": 1.8, "A": 500.0, "B": 1000.0, "alpha": 0.33, "beta": 0.33}
    result = sl.fit("chinchilla", chinchilla_runs(truth), fixed={"alpha": 0.33, "beta": 0.33})
    assert set(result.params) == {"E", "A", "B"}
    assert result.params["E"] == pytest.approx(1.8, rel=1e-4)


def test_noisy_fit_is_close_and_predicts():
    truth = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
    result = sl.fit("chinchilla", chinchilla_runs(truth, noise=0.002))
    assert result.params["alpha"] == pytest.approx(0.34, rel=0.05)
    pred = result.predict({"N": [7e10], "D": [1.4e12]})
    exact = 1.69 + 406.4 / 7e10 ** 0.34 + 410.7 / 1.4e12 ** 0.28
    assert pred[0] == pytest.approx(exact, rel=0.01)


def test_fixed_values_are_float64_in_a_fresh_process():
    import subprocess
    import sys

    code = ("import warnings; warnings.simplefilter('error'); import scalinglaws as sl; "
            "f = sl.get_law('power_law').with_fixed({'alpha': 0.123456789012345}); "
            "import jax.numpy as jnp; "
            "print(repr(float(f.log_predict(jnp.array([0.0, 1.0]), jnp.array([[1.0]]))[0])))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # log(exp(0) + exp(1 - alpha * 1)): a float32 alpha would be off by ~1e-8
    assert float(out.stdout) == pytest.approx(np.log1p(np.exp(1.0 - 0.123456789012345)), rel=1e-14)


def test_predict_is_float64_in_a_fresh_process():
    import subprocess
    import sys

    code = ("import scalinglaws as sl; "
            "law = sl.get_law('power_law'); "
            "print(repr(float(law.predict({'E': 1.0, 'A': 1.0, 'alpha': 0.123456789012345}, "
            "{'x': [3.0]})[0])))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert float(out.stdout) == pytest.approx(1.0 + 3.0 ** -0.123456789012345, rel=1e-14)
