"""A third-party estimator registered through the plugin hook gets every interval the built-in
one gets (bootstrap and sandwich intervals, predict, allocate, compare, evaluate) through the
estimator protocol alone: nothing in src/ knows it.

The estimator is scipy's ``least_squares`` (trust-region reflective) on log residuals from a few
of the family's grid starts, the way many notebooks fit laws. Its draws are the protocol's
generic refitting bootstrap; its covariance the Gauss-Newton sandwich of squared error.
"""

from __future__ import annotations

import functools

import attrs
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import least_squares

import scalinglaws as sl
from scalinglaws import plugins
from scalinglaws.estimators.protocol import Estimator, ParameterDraws, refit_draws
from scalinglaws.hookspecs import hookimpl
from scalinglaws.results import FitResult

TRUTH = {"E": 1.8, "A": 480.0, "B": 2100.0, "alpha": 0.35, "beta": 0.37}


@functools.cache
def _residuals(family):
    """Compiled sqrt(w) (log y - log f(theta, z)) and its Jacobian, once per family."""
    logf = family.predict_fn("log")

    def res(theta, z, t, sw):
        return sw * (t - logf(theta, z))

    return jax.jit(res), jax.jit(jax.jacfwd(res))


@attrs.frozen(kw_only=True)
class LeastSquares:
    """scipy.optimize.least_squares on log residuals from ``n_starts`` grid starts."""

    n_starts: int = 6
    space: str = "log"

    def _data(self, family, obs):
        z = jnp.asarray(family.prepare(obs.x))
        t = jnp.log(jnp.asarray(obs.y))
        w = np.ones(len(obs)) if obs.weights is None else np.asarray(obs.weights)
        return z, t, jnp.sqrt(jnp.asarray(w)), w

    def fit(self, family, obs, *, seed: int = 0) -> FitResult:
        z, t, sw, w = self._data(family, obs)
        res, jac = _residuals(family)
        grid = family.default_starts()
        starts = grid[np.random.default_rng(seed).choice(len(grid), self.n_starts, replace=False)]
        best = None
        for x0 in starts:
            out = least_squares(lambda th: np.asarray(res(th, z, t, sw)), x0,
                                jac=lambda th: np.asarray(jac(th, z, t, sw)), method="trf",
                                xtol=1e-12, ftol=1e-12, gtol=1e-12, max_nfev=2000)
            if best is None or out.cost < best.cost:
                best = out
        theta = np.asarray(best.x)
        return FitResult(law=family, params=family.to_natural(theta), theta=theta,
                         objective=float(best.cost), n_points=int(np.sum(w > 0)),
                         n_starts=self.n_starts, n_polished=self.n_starts, n_at_best=1,
                         converged=bool(best.status > 0), iterations=int(best.nfev),
                         estimator={"name": "least_squares", "loss": "squared", "space": "log"})

    def draws(self, family, obs, fit=None, *, n: int, seed: int = 0) -> ParameterDraws:
        return refit_draws(self, family, obs, n=n, seed=seed)

    def covariance(self, family, obs, fit, *, method: str = "sandwich"):
        z, t, sw, w = self._data(family, obs)
        res, jac = _residuals(family)
        r = np.asarray(res(fit.theta, z, t, sw))
        j = np.asarray(jac(fit.theta, z, t, sw))
        n, p = int(np.sum(w > 0)), len(fit.theta)
        a_inv = np.linalg.inv(j.T @ j)
        if method == "hessian":
            return (r @ r / (n - p)) * a_inv
        b = j.T @ ((r * r)[:, None] * j)
        return n / (n - p) * a_inv @ b @ a_inv


class LeastSquaresPlugin:
    @hookimpl
    def register_estimators(self, register):
        register("least_squares", LeastSquares)


@pytest.fixture(scope="module")
def registry():
    return plugins.build_registry(((LeastSquaresPlugin(), "least-squares-plugin"),),
                                  entry_points=False)


def test_the_plugin_estimator_satisfies_the_protocol(registry):
    assert registry.problems == []
    assert isinstance(LeastSquares(), Estimator)


SPEC = """
    version: 1
    datasets:
      sim:
        source: simulate
        law: chinchilla
        truth: {E: 1.8, A: 480.0, B: 2100.0, alpha: 0.35, beta: 0.37}
        design: {N: {logspace: [7.0e+7, 2.0e+9], num: 6}, D: {logspace: [2.0e+9, 1.0e+11], num: 5}}
        noise: 0.01
        seed: 3
    tasks:
      - name: boot
        kind: fit
        dataset: sim
        law: chinchilla
        estimator: {name: least_squares}
        uncertainty: {method: bootstrap, n: 24}
      - name: sandwich
        kind: predict
        dataset: sim
        law: chinchilla
        estimator: {name: least_squares}
        uncertainty: {method: sandwich}
        at: [{N: 7.0e+10, D: 1.4e+12}]
      - name: allocation
        kind: allocate
        dataset: sim
        estimator: {name: least_squares}
        uncertainty: {method: bootstrap, n: 24}
        budgets: [1.0e+22]
        approaches: [3]
      - name: versus
        kind: compare
        n_bootstrap: 24
        candidates:
          - {name: scipy, dataset: sim, law: chinchilla, estimator: {name: least_squares}}
          - {name: builtin, dataset: sim, law: chinchilla}
      - name: extrapolation
        kind: evaluate
        learning_curve: false
        candidates:
          - {name: scipy, dataset: sim, law: chinchilla, estimator: {name: least_squares}}
"""


@pytest.fixture(scope="module")
def result(registry, tmp_path_factory):
    import textwrap

    folder = tmp_path_factory.mktemp("estimator_plugin")
    path = folder / "spec.yaml"
    path.write_text(textwrap.dedent(SPEC).lstrip(), encoding="utf-8")
    return sl.run(sl.load_spec(path, registry), out=folder / "out", registry=registry)


def _task(result, name):
    return next(t for t in result.tasks if t.name == name)


def test_bootstrap_intervals_through_the_generic_refitting_draws(result):
    unc = _task(result, "boot").fit.uncertainty
    assert unc.method == "bootstrap" and unc.n_resamples == 24 and unc.n_converged == 24
    for name, value in TRUTH.items():
        iv = unc.params[name]
        assert iv.lower < iv.estimate < iv.upper, name
        assert np.isfinite(iv.se) and iv.se > 0, name
    # Derived quantities of the family (a = beta / (alpha + beta), ...) come with it.
    assert {"a", "b"} <= set(unc.derived)


def test_sandwich_intervals_and_predictions_from_the_plugin_covariance(result):
    task = _task(result, "sandwich")
    unc = task.fit.uncertainty
    assert unc.method == "sandwich" and unc.cov.shape == (5, 5)
    row = task.predictions[0]
    assert row["ci_lower"] < row["prediction"] < row["ci_upper"]
    assert row["pi_lower"] <= row["ci_lower"] and row["ci_upper"] <= row["pi_upper"]


def test_allocation_with_bootstrap_intervals(result):
    row = next(r for r in _task(result, "allocation").allocations if r["approach"] == 3)
    assert row["N_opt_lower"] < row["N_opt"] < row["N_opt_upper"]
    assert row["D_opt_lower"] < row["D_opt"] < row["D_opt_upper"]


def test_compare_pairs_the_plugin_against_the_builtin(result):
    task = _task(result, "versus")
    by = {c["name"]: c for c in task.candidates}
    # Both minimise (nearly) the same squared-vs-Huber problem on the same runs: the fitted
    # exponents agree, and both get held-out errors with bootstrap intervals.
    for c in by.values():
        lo, hi = c["heldout_are_interval"]
        assert lo <= c["heldout_are_mean"] <= hi or np.isclose(lo, hi)
    assert by["scipy"]["params"]["alpha"] == pytest.approx(by["builtin"]["params"]["alpha"],
                                                           rel=0.1)


def test_evaluate_scores_the_plugin_fit(result):
    task = _task(result, "extrapolation")
    c = task.candidates[0]
    assert c["holdout"]["n_test"] > 0 and c["holdout"]["are_mean"] < 0.05
