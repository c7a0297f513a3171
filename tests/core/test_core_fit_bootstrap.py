"""The JAX fitting core on small simulated Chinchilla data: recovery, dtype guard, bootstrap, SEs.

Everything here is noiseless or seeded and runs on a 6 x 6 (N, D) grid from a 32-point start grid,
so each test takes a fraction of a second once the module fixtures have compiled the programs.
"""

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from scalinglaws import core
from scalinglaws.laws.chinchilla import chinchilla

TRUTH = {"E": 1.8, "A": 480.0, "B": 2100.0, "alpha": 0.35, "beta": 0.37}
MODEL = core.Model(chinchilla.log_predict, chinchilla.log_predict_and_jac)
# Two values per parameter (e = log E, a = log A, b = log B, alpha, beta): 32 starts, none at
# the truth (e 0.588, a 6.17, b 7.65).
STARTS = np.array(list(itertools.product((-1.0, 1.0), (0.0, 10.0), (0.0, 10.0), (0.1, 0.8),
                                         (0.1, 0.8))), dtype=np.float64)
# One screening stage: fewer stages, fewer programs to compile (this is a test, not a benchmark).
SCHEDULE = core.Schedule(stages=((0, 3),), polish=8)


def simulate(noise: float = 0.0, seed: int = 0):
    """log inputs z (36, 2) and log losses t (36,) on a 6 x 6 product grid of N and D."""
    n, d = np.meshgrid(np.geomspace(7e7, 1.6e10, 6), np.geomspace(5e9, 5e11, 6), indexing="ij")
    n, d = n.ravel(), d.ravel()
    loss = TRUTH["E"] + TRUTH["A"] / n ** TRUTH["alpha"] + TRUTH["B"] / d ** TRUTH["beta"]
    if noise:
        loss = loss * np.exp(noise * np.random.default_rng(seed).standard_normal(loss.shape))
    return chinchilla.prepare(np.column_stack([n, d])), np.log(loss)


def rel_err(theta) -> dict:
    got = chinchilla.to_natural(np.asarray(theta))
    return {k: abs(got[k] - v) / v for k, v in TRUTH.items()}


@pytest.fixture(scope="module")
def noiseless():
    z, t = simulate()
    return z, t, core.fit(MODEL, STARTS, z, t, schedule=SCHEDULE)


@pytest.fixture(scope="module")
def boot(noiseless):
    z, t, result = noiseless
    return core.bootstrap(MODEL, STARTS, z, t, n_resamples=64, seed=3, result=result)


def test_fit_recovers_known_parameters_from_noiseless_data(noiseless):
    _, _, result = noiseless
    assert max(rel_err(result.theta).values()) < 1e-6
    assert float(result.value) < 1e-20
    assert bool(np.asarray(result.converged)[0])
    assert result.thetas.shape == (8, 5) and result.values.shape == (8,)
    assert np.all(np.diff(np.asarray(result.values)) >= 0)  # best first
    assert 1 <= int(result.n_at_best) <= 8


def test_fit_with_forward_mode_jacobian_and_full_schedule(noiseless):
    # A law without an analytic Jacobian goes through jax.jacfwd; FULL polishes every start.
    z, t, result = noiseless
    generic = core.fit(core.Model(chinchilla.log_predict), STARTS, z, t,
                       schedule=core.FULL_SCHEDULE)
    assert generic.values.shape == (len(STARTS),)
    assert max(rel_err(generic.theta).values()) < 1e-6
    np.testing.assert_allclose(generic.theta, result.theta, rtol=1e-8, atol=1e-10)


def test_zero_weight_padding_is_ignored_even_when_not_finite():
    from scalinglaws.core.lm import evaluate

    z, t = simulate(noise=0.01)
    theta = jnp.asarray(chinchilla.to_fit(TRUTH))
    zp = np.vstack([z, np.full((4, 2), np.nan)])
    tp = np.concatenate([t, [np.inf, -np.inf, np.nan, 1e300]])
    w = np.concatenate([np.ones_like(t), np.zeros(4)])
    ev = jax.jit(evaluate, static_argnums=(0, 5, 6))
    for curvature in ("irls", "hybrid"):
        plain = ev(MODEL, theta, z, t, np.ones_like(t), core.Loss(), curvature)
        padded = ev(MODEL, theta, zp, tp, w, core.Loss(), curvature)
        for a, b in zip(plain, padded):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-300)
        assert np.isfinite(float(padded.value))


def test_unrolled_sums_match_matrix_products(monkeypatch):
    # The variadic-reduce path (P <= UNROLL_MAX_P) and the matmul path (larger P) agree.
    from scalinglaws.core import lm

    z, t = simulate(noise=0.01)
    theta = jnp.asarray(chinchilla.to_fit(TRUTH)) + 0.01
    w = np.linspace(0.5, 2.0, len(t))
    unrolled = jax.jit(lm.evaluate, static_argnums=(0, 5, 6))(MODEL, theta, z, t, w, core.Loss(),
                                                               "hybrid")
    monkeypatch.setattr(lm, "UNROLL_MAX_P", 0)
    products = jax.jit(lm.evaluate, static_argnums=(0, 5, 6))(MODEL, theta, z, t, w, core.Loss(),
                                                               "hybrid")
    for a, b in zip(unrolled, products):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-300)


@pytest.mark.parametrize("which", ["starts", "x", "target", "weights"])
def test_float32_input_raises_type_error(which):
    z, t = simulate()
    args = {"starts": STARTS, "x": z, "target": t, "weights": np.ones_like(t)}
    args[which] = np.asarray(args[which], dtype=np.float32)
    with pytest.raises(TypeError, match="float64"):
        core.fit(MODEL, args["starts"], args["x"], args["target"], args["weights"])
    if which != "starts":
        with pytest.raises(TypeError, match="float64"):
            core.bootstrap(MODEL, args["starts"], args["x"], args["target"], args["weights"])


def test_schedule_is_validated():
    z, t = simulate()
    with pytest.raises(ValueError, match="polish_curvature"):
        core.fit(MODEL, STARTS, z, t, schedule=core.Schedule(polish_curvature="newtonian"))


def test_jit_falls_back_when_xla_rejects_the_compiler_options():
    from scalinglaws.core._jit import jit

    f = jit(lambda v: v + 1.0, options={"xla_cpu_no_such_option_in_any_version": True})
    np.testing.assert_array_equal(f(jnp.ones(3)), 2.0)
    if jax.default_backend() == "cpu":
        assert f.use_tuned is False


def test_unrolled_cholesky_solves_spd_systems():
    from scalinglaws.core.lm import solve_spd

    rng = np.random.default_rng(0)
    for p in (5, 9):  # 9 > UNROLL_MAX_P: the LAPACK path
        m = rng.standard_normal((p, p + 3))
        a = m @ m.T + 1e-3 * np.eye(p)
        b = rng.standard_normal(p)
        np.testing.assert_allclose(jax.jit(solve_spd)(jnp.asarray(a), jnp.asarray(b)),
                                   np.linalg.solve(a, b), rtol=1e-9, atol=1e-12)


def test_bootstrap_shapes_and_resample_counts(boot, noiseless):
    z, _, _ = noiseless
    n = z.shape[0]
    assert boot.thetas.shape == (64, 5)
    assert boot.values.shape == boot.converged.shape == boot.iterations.shape == (64,)
    counts = np.asarray(boot.counts)
    assert counts.shape == (64, n)
    np.testing.assert_array_equal(counts.sum(axis=1), n)  # n draws with replacement
    assert np.all(counts == np.round(counts)) and counts.min() >= 0
    assert len(np.unique(counts, axis=0)) > 60  # resamples differ
    assert boot.starts.shape[1] == 5 and 1 <= boot.starts.shape[0] <= 4


def test_bootstrap_is_deterministic_under_the_seed(boot, noiseless):
    z, t, result = noiseless
    again = core.bootstrap(MODEL, STARTS, z, t, n_resamples=64, seed=3, result=result)
    np.testing.assert_array_equal(again.counts, boot.counts)
    np.testing.assert_array_equal(again.thetas, boot.thetas)
    other = core.bootstrap(MODEL, STARTS, z, t, n_resamples=64, seed=4, result=result)
    assert not np.array_equal(other.counts, boot.counts)


def test_bootstrap_of_noiseless_data_collapses_to_the_truth(boot):
    # Every resample of exact data is fitted exactly by the true parameters.
    assert bool(np.all(np.asarray(boot.converged)))
    worst = max(max(rel_err(th).values()) for th in np.asarray(boot.thetas))
    assert worst < 1e-6
    assert float(np.max(boot.values)) < 1e-20


def test_bootstrap_never_draws_zero_weight_points():
    from scalinglaws.core.bootstrap import resample_counts

    w = jnp.asarray([1.0, 0.0, 2.0, 0.0, 1.0, 1.0])
    counts = np.asarray(jax.jit(resample_counts, static_argnums=2)(jax.random.key(0), w, 200))
    assert np.all(counts[:, [1, 3]] == 0)
    np.testing.assert_array_equal(counts.sum(axis=1), 4)


def test_hessian_se_matches_textbook_least_squares_formula():
    # Squared error: method "hessian" is sigma^2 (J^T J)^-1 with sigma^2 = RSS / (n - P), an
    # identity at any theta (at the optimum it is the usual estimate), so no fit is needed.
    z, t = simulate(noise=0.02, seed=1)
    theta = jnp.asarray(chinchilla.to_fit(TRUTH))
    loss = core.Loss("squared")
    se = core.hessian_se(MODEL, theta, z, t, loss=loss, method="hessian")
    y, jac = jax.jit(chinchilla.log_predict_and_jac)(theta, jnp.asarray(z))
    r, jac = np.asarray(y) - t, np.asarray(jac)
    cov = (r @ r) / (len(t) - 5) * np.linalg.inv(jac.T @ jac)
    np.testing.assert_allclose(se.cov, cov, rtol=1e-6)
    np.testing.assert_allclose(se.se, np.sqrt(np.diag(cov)), rtol=1e-6)
    sandwich = core.hessian_se(MODEL, theta, z, t, loss=loss)
    assert np.all(np.isfinite(sandwich.se)) and np.all(np.asarray(sandwich.se) > 0)
    # Delta method: se(E) = E se(e) for E = exp(e).
    nat = core.hessian_se(MODEL, theta, z, t, loss=loss, method="hessian", transform=jnp.exp)
    e = float(theta[0])
    assert math.isclose(float(nat.se[0]), math.exp(e) * float(se.se[0]), rel_tol=1e-9)
