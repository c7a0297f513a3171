"""Bootstrap percentile intervals cover the truth in roughly their nominal share of datasets.

100 seeded datasets of a small Chinchilla design (6 model sizes x 6 token counts = 36 runs,
multiplicative log-normal noise sigma = 0.005, the order of the Besiroglu residuals), each fitted
with the default recipe (Huber delta = 1e-3 on log residuals, summed) and bootstrapped with 200
resamples the way ``core.bootstrap`` does it (multinomial weights, every resample polished from
the full-data optimum with the hybrid LM), all 100 datasets vmapped in one compiled call. Nominal level
90% (percentiles 5 and 95) for alpha, beta and the compute-optimal exponent a = beta / (alpha +
beta).

Acceptance band, and why. If an interval covers with probability p independently across
datasets, the count K of covering datasets out of 100 is Binomial(100, p); for p = 0.90 its sd
is 3. The band is [80, 99]:

* lower end 80 (more than 3 sd below 90): percentile intervals from n = 36 points may undercover
  somewhat (the bootstrap spread is too narrow by about sqrt((n - P) / n), P = 5), which is
  expected behaviour, not a bug;
* upper end 99: with delta = 1e-3 below the noise (sigma = 0.005) most points sit in Huber's
  linear region and the estimator behaves like least absolute deviations, whose bootstrap at small
  n is lumpy and conservative. Measured with these seeds: 96, 97, 95 of 100 for alpha, beta, a
  (and 92, 92, 90 with squared error, i.e. nominal, which is how we know the machinery is right).
  Intervals that always cover (100) or that come from the wrong resamples, ignore the weights
  or are stuck at the full-data fit (coverage far below 80) fail.

The seeds are fixed, so the test is deterministic; the band keeps it robust to numerical changes
that move individual fits.
"""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from scalinglaws import core
from scalinglaws.core._jit import jit
from scalinglaws.core.bootstrap import polish_resamples
from scalinglaws.core.multistart import multistart
from scalinglaws.laws.chinchilla import chinchilla

TRUTH = {"E": 1.8, "A": 480.0, "B": 2100.0, "alpha": 0.35, "beta": 0.37}
MODEL = core.Model(chinchilla.log_predict, chinchilla.log_predict_and_jac)
STARTS = np.array(list(itertools.product((-1.0, 1.0), (0.0, 10.0), (0.0, 10.0), (0.1, 0.8),
                                         (0.1, 0.8))), dtype=np.float64)
# 8 starts polished directly (no screening stage): every stage is one more compiled copy of the
# LM step, and compilation dominates this test.
STARTS = STARTS[::4]
SCHEDULE = core.Schedule(stages=(), polish=0)
N_DATASETS = 100
N_RESAMPLES = 100
SIGMA = 0.005
LEVEL = 0.90
LOSS = core.Loss()  # the default recipe: Huber, delta = 1e-3
BAND = (80, 99)


def design():
    n, d = np.meshgrid(np.geomspace(7e7, 1.6e10, 6), np.geomspace(5e9, 5e11, 6), indexing="ij")
    n, d = n.ravel(), d.ravel()
    loss = TRUTH["E"] + TRUTH["A"] / n ** TRUTH["alpha"] + TRUTH["B"] / d ** TRUTH["beta"]
    return np.log(np.column_stack([n, d])), np.log(loss)


def _fit_and_bootstrap(z, t, key):
    """One dataset: the multi-start fit, then every resample polished from its optimum."""
    w = jnp.ones_like(t)
    loss = LOSS
    fit = multistart(MODEL, jnp.asarray(STARTS), z, t, w, loss=loss, schedule=SCHEDULE,
                     max_iter=200, ftol=1e-10)
    thetas, values, *_ = polish_resamples(MODEL, fit.theta[None, :], z, t, w, key,
                                          n_resamples=N_RESAMPLES, loss=loss, max_iter=60,
                                          ftol=1e-10)
    return thetas, values


@pytest.fixture(scope="module")
def coverage():
    # All datasets in one compiled call: the fit and the bootstrap of core.bootstrap (by
    # resample weights, polished from the full-data optimum), vmapped over datasets.
    z, t0 = design()
    truth = {"alpha": TRUTH["alpha"], "beta": TRUTH["beta"],
             "a": TRUTH["beta"] / (TRUTH["alpha"] + TRUTH["beta"])}
    rng = np.random.default_rng(2024)
    targets = t0 + SIGMA * rng.standard_normal((N_DATASETS,) + t0.shape)
    keys = jax.random.split(jax.random.key(0), N_DATASETS)
    # core's jit: the XLA:CPU options that halve compile time (see core._jit)
    run = jit(jax.vmap(_fit_and_bootstrap, in_axes=(None, 0, 0)))
    thetas, values = run(jnp.asarray(z), jnp.asarray(targets), keys)
    thetas, values = np.asarray(thetas), np.asarray(values)
    assert np.isfinite(values).mean() > 0.99
    lo_q, hi_q = 100 * (1 - LEVEL) / 2, 100 * (1 + LEVEL) / 2
    covered = {k: 0 for k in truth}
    for k in range(N_DATASETS):
        ok = np.isfinite(values[k])
        alpha, beta = thetas[k, ok, 3], thetas[k, ok, 4]
        draws = {"alpha": alpha, "beta": beta, "a": beta / (alpha + beta)}
        for name, v in draws.items():
            lo, hi = np.percentile(v, [lo_q, hi_q])
            covered[name] += int(lo <= truth[name] <= hi)
    print("coverage", covered)
    return covered


@pytest.mark.parametrize("quantity", ["alpha", "beta", "a"])
def test_percentile_intervals_cover_the_truth_at_about_the_nominal_rate(coverage, quantity):
    k = coverage[quantity]
    assert BAND[0] <= k <= BAND[1], (
        f"{quantity}: {k} of {N_DATASETS} nominal-{LEVEL:.0%} intervals covered the truth; "
        f"expected within {BAND} (Binomial({N_DATASETS}, {LEVEL}) and the small-sample "
        f"undercoverage of percentile intervals; see the module doc). All: {coverage}")
