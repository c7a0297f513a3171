"""step_power (Ye et al. 2024): prediction against the paper's formula, and recovery of several
curves fitted together with one shared exponent."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, note, settings

import scalinglaws as sl
from scalinglaws.laws.step_power import step_power
from scalinglaws.testing.strategies import designs, simulated_runs


def paper_step_law(p, s):
    """The authors' power_law_share_alpha for one curve: exp(log c) + exp(alpha (log k - log s))."""
    return np.exp(np.log(p["E"])) + np.exp(p["alpha"] * (np.log(p["k"]) - np.log(s)))


def test_predict_matches_the_paper_formula():
    rng = np.random.default_rng(0)
    for _ in range(20):
        p = {"E": rng.uniform(1.5, 4.0), "k": 10 ** rng.uniform(0, 5), "alpha": rng.uniform(0.2, 1.2)}
        s = 10 ** rng.uniform(2, 6, size=16)
        np.testing.assert_allclose(step_power.predict(p, {"S": s}), paper_step_law(p, s), rtol=1e-12)


def test_analytic_jacobian_matches_forward_mode():
    theta = jnp.array([0.7, 6.0, 0.6])
    z = jnp.log(jnp.geomspace(1e2, 1e5, 9))[:, None]
    _, jac = step_power.log_predict_and_jac(theta, z)
    np.testing.assert_allclose(jac, jax.jacfwd(step_power.log_predict)(theta, z), rtol=1e-12)


# Three curves (runs) of checkpoints from step 1e3 to 1e5, one exponent: the shape the docs ask for.
CURVES = ("run1", "run2", "run3")
GROUPED = step_power.with_groups(CURVES, ["alpha"], input_name="run")
STEPS = {"S": (1e3, 1e5)}


@settings(max_examples=4)
@given(runs=simulated_runs(GROUPED, design=designs(GROUPED, STEPS, points=12)))
def test_curves_sharing_alpha_recover_every_parameter(runs):
    note(repr(runs.truth))
    result = sl.fit("step_power", runs.table, {"starts": "random", "n_random": 64},
                    groups="run", shared=["alpha"])
    assert set(result.params) == set(runs.truth)
    for name, value in runs.truth.items():
        assert result.params[name] == pytest.approx(value, rel=0.01), name
