"""Mixing laws: recovery of mixing_exp from simulated runs, joint bootstrap, the surrogate."""

import numpy as np
import pytest

from scalinglaws.core import Loss
from scalinglaws.errors import FitError
from scalinglaws.mixture.data import MixtureRuns
from scalinglaws.mixture.laws import (
    FitOptions,
    effective_proportions,
    fit_mixing_exp,
    fit_mixing_mlp,
    repetition_law,
)

S, D, N = 6, 3, 120  # the shapes of the other mixture tests: compilations are shared


def simulate(seed=0, noise=0.002):
    rng = np.random.default_rng(seed)
    r = rng.dirichlet(np.full(S, 0.7), N)
    c = np.array([2.1, 1.6, 3.0])
    t = np.array([[-2.0, 0.5, 1.0, -0.5, 0.0, 0.3], [1.5, -3.0, 0.0, 0.8, -0.4, 0.0],
                  [0.0, 0.0, -1.0, 0.0, 1.0, -2.0]])
    k = np.array([0.9, 1.4, 0.5])
    loss = c + k * np.exp(r @ t.T)
    return r, loss * np.exp(noise * rng.normal(size=loss.shape)), c, k, t


def test_mixing_exp_recovers_the_paper_parameters():
    r, loss, c, k, t = simulate(noise=0.0005)
    fit = fit_mixing_exp(MixtureRuns(r=r, losses=loss, sources=tuple("abcdef"), domains=("x", "y", "z")))
    for i, p in enumerate(fit.paper_params()):
        assert p["c"] == pytest.approx(c[i], rel=0.02)
        # The paper's k and t in the gauge sum_j t_j = 0.
        tc = t[i] - t[i].mean()
        kc = k[i] * np.exp(t[i].mean())
        assert p["k"] == pytest.approx(kc, rel=0.05)
        np.testing.assert_allclose(list(p["t"].values()), tc, atol=0.05)
    assert all(d["rmse_log"] < 0.002 for d in fit.diagnostics)
    pred = fit.predict(r)
    assert pred.shape == (N, D)


def test_joint_bootstrap_resamples_runs_for_chosen_domains():
    r, loss, *_ = simulate(seed=1, noise=0.01)
    fit = fit_mixing_exp(MixtureRuns(r=r, losses=loss, sources=tuple("abcdef"), domains=("x", "y", "z")),
                         FitOptions(n_bootstrap=20, bootstrap_domains=[1], loss=Loss("huber", 0.02)))
    assert fit.draws["c"].shape == (20, D) and fit.draws["w"].shape == (20, D, 1, S)
    assert np.all(fit.draws["c"][:, 0] == fit.params["c"][0])  # not resampled: point estimate
    assert fit.draws["c"][:, 1].std() > 0
    preds = fit.predict_draws(r[:5])
    assert preds.shape == (20, 5, D)


def test_surrogate_fits_at_least_as_well_as_one_exponential():
    rng = np.random.default_rng(2)
    r = rng.dirichlet(np.ones(S), N)
    # Not a single exponential: two terms pulling in different directions.
    loss = 2.0 + np.exp(-3 * r[:, 0] + r[:, 1]) + 0.5 * np.exp(2 * r[:, 2] - r[:, 3])
    runs = MixtureRuns(r=r, losses=loss[:, None], sources=tuple("abcdef"), domains=("x",))
    base = fit_mixing_exp(runs)
    mlp = fit_mixing_mlp(runs, FitOptions(n_bootstrap=4, settings={"hidden": 2, "steps": 600,
                                                                   "learning_rate": 0.05}), base=base)
    assert mlp.diagnostics[0]["rmse_log"] < 0.5 * base.diagnostics[0]["rmse_log"]
    assert mlp.draws["w"].shape == (4, 1, 2, S)


def test_effective_proportions_follow_muennighoff():
    u = np.array([10.0, 1000.0])
    r = np.array([0.5, 0.5])
    eff = np.asarray(effective_proportions(r, 100.0, u, 15.4))
    repeats = 50 / 10 - 1
    d1 = 10 + 10 * 15.4 * (1 - np.exp(-repeats / 15.4))
    np.testing.assert_allclose(eff, np.array([d1, 50.0]) / (d1 + 50.0))
    # No repetition: the mixture itself.
    np.testing.assert_allclose(np.asarray(effective_proportions(r, 10.0, u, 15.4)), r)
    law = repetition_law((10.0, 1000.0))
    params = {"c": np.array([1.0]), "w": np.array([[[-1.0, 0.0]]])}
    assert float(law.predict(params, r, np.array([100.0]))[0]) > float(
        law.predict(params, r, np.array([10.0]))[0])  # repeating books hurts


def test_too_few_runs_is_a_clear_error():
    r, loss, *_ = simulate()
    with pytest.raises(FitError, match="cannot determine a mixing law"):
        fit_mixing_exp(MixtureRuns(r=r[:5], losses=loss[:5], sources=tuple("abcdef"),
                                   domains=("x", "y", "z")))
