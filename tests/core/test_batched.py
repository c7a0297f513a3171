"""``core.fit_many``: many datasets in one compiled call equal separate ``core.fit`` calls.

Small noisy Chinchilla-like tables of different sizes (random N and D), the 32-point start grid
and one screening stage, as in ``test_core_fit_bootstrap``. Each distinct (D, chunk) program is a
compilation of a few seconds, so the tests share a handful of them.
"""

import itertools

import numpy as np
import pytest

from scalinglaws import core
from scalinglaws.core import batched
from scalinglaws.laws.chinchilla import chinchilla

MODEL = core.Model(chinchilla.log_predict, chinchilla.log_predict_and_jac)
STARTS = np.array(list(itertools.product((-1.0, 1.0), (0.0, 10.0), (0.0, 10.0), (0.1, 0.8),
                                         (0.1, 0.8))), dtype=np.float64)
SCHEDULE = core.Schedule(stages=((0, 3),), polish=8)
SIZES = (14, 23, 31, 18)


def simulate(m: int, rng):
    n = np.exp(rng.uniform(np.log(7e7), np.log(1.6e10), m))
    d = np.exp(rng.uniform(np.log(5e9), np.log(5e11), m))
    loss = 1.8 + 480.0 / n ** 0.35 + 2100.0 / d ** 0.37
    loss = loss * np.exp(0.01 * rng.standard_normal(m))
    return chinchilla.prepare(np.column_stack([n, d])), np.log(loss)


@pytest.fixture(scope="module")
def datasets():
    rng = np.random.default_rng(7)
    return [simulate(m, rng) for m in SIZES]


@pytest.fixture(scope="module")
def padded(datasets):
    return core.pad_datasets(datasets)


@pytest.fixture(scope="module")
def many(padded):
    # The default chunk_size ("auto"): on CPU one dataset per step of the chunk loop.
    return core.fit_many(MODEL, STARTS, *padded, schedule=SCHEDULE)


def predictions(theta, x):
    return np.asarray(chinchilla.log_predict(np.asarray(theta), x))


def test_pad_datasets_shapes_and_weights(datasets, padded):
    xs, targets, weights = padded
    assert xs.shape == (4, max(SIZES), 2) and targets.shape == weights.shape == (4, max(SIZES))
    assert xs.dtype == targets.dtype == weights.dtype == np.float64
    np.testing.assert_array_equal(weights.sum(axis=1), SIZES)
    for i, (x, t) in enumerate(datasets):
        np.testing.assert_array_equal(xs[i, : len(t)], x)
        np.testing.assert_array_equal(targets[i, : len(t)], t)
    with pytest.raises(ValueError, match="shorter"):
        core.pad_datasets(datasets, n=10)
    with pytest.raises(ValueError, match="do not match"):
        core.pad_datasets([(np.ones((3, 2)), np.ones(4))])


def test_fit_many_equals_separate_fits(datasets, padded, many):
    assert many.theta.shape == (4, 5)
    assert many.value.shape == many.n_at_best.shape == many.converged.shape == (4,)
    xs, targets, weights = padded
    # Two compilations of core.fit: one on a table as it is, one shared by the padded tables.
    singles = [core.fit(MODEL, STARTS, *datasets[0], schedule=SCHEDULE)]
    singles += [core.fit(MODEL, STARTS, xs[i], targets[i], weights[i], schedule=SCHEDULE)
                for i in range(4)]
    for i, one in [(0, singles[0])] + list(enumerate(singles[1:])):
        x, t = datasets[i]
        assert abs(float(many.value[i]) - float(one.value)) <= 1e-9 * abs(float(one.value))
        assert int(many.n_at_best[i]) == int(one.n_at_best)
        assert bool(many.converged[i]) == bool(one.converged[0])
        # Compare fits by their predictions: a flat direction (E -> 0 with log E anywhere far
        # below zero) gives equal fits with different parameters.
        np.testing.assert_allclose(predictions(many.theta[i], x), predictions(one.theta, x),
                                   rtol=1e-7)


def test_nan_padding_changes_nothing(datasets, padded, many):
    xs, targets, weights = padded
    nan_xs, nan_targets, nan_weights = core.pad_datasets(datasets, fill=np.nan)
    assert np.isnan(nan_xs).any() and np.isnan(nan_targets).any()
    np.testing.assert_array_equal(nan_weights, weights)
    got = core.fit_many(MODEL, STARTS, nan_xs, nan_targets, nan_weights, schedule=SCHEDULE)
    assert np.all(np.isfinite(np.asarray(got.value)))
    for a, b in zip(got, many):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-12, atol=0)


def test_chunk_three_with_per_dataset_starts_equals_chunk_one(padded, many):
    # One compilation for two properties (compiling is most of this file's time): a per-dataset
    # (D, S, P) grid, every row the shared grid, and chunk 3 on 4 datasets (padded to 6 with
    # copies of the last one, walked in 2 chunks) give the shared-grid fits of chunk 1.
    # (Unchunked runs are compared with chunked ones in test_sharding.)
    xs, targets, weights = padded
    assert batched.plan(4, 1, 3) == (3, 6)
    per = np.ascontiguousarray(np.broadcast_to(STARTS, (4,) + STARTS.shape))
    chunked = core.fit_many(MODEL, per, xs, targets, weights, schedule=SCHEDULE, chunk_size=3)
    assert chunked.theta.shape == (4, 5)
    np.testing.assert_allclose(chunked.value, many.value, rtol=1e-12, atol=0)
    np.testing.assert_array_equal(chunked.n_at_best, many.n_at_best)
    np.testing.assert_array_equal(chunked.iterations, many.iterations)
    np.testing.assert_allclose(chunked.theta, many.theta, rtol=1e-6, atol=1e-9)


def test_input_checks(padded):
    xs, targets, weights = padded
    with pytest.raises(TypeError, match="float64"):
        core.fit_many(MODEL, STARTS, xs.astype(np.float32), targets, weights)
    with pytest.raises(ValueError, match="starts"):
        core.fit_many(MODEL, np.zeros((3, 8, 5)), xs, targets, weights)
    with pytest.raises(ValueError, match=r"\(D, n, k\)"):
        core.fit_many(MODEL, STARTS, xs[0], targets, weights)


def test_auto_chunk_size():
    assert batched.resolve_chunk("auto", "cpu") == batched.CPU_CHUNK == 1
    assert batched.resolve_chunk("auto", "gpu") == batched.ACCELERATOR_CHUNK
    assert batched.resolve_chunk(None, "cpu") is None and batched.resolve_chunk(5, "tpu") == 5
    with pytest.raises(ValueError, match="chunk_size"):
        batched.resolve_chunk(0, "cpu")


def test_plan_bounds_chunks_and_pads_to_devices_times_chunk():
    assert batched.plan(1000, 1, None) == (1000, 1000)
    assert batched.plan(1000, 4, None) == (250, 1000)
    assert batched.plan(1001, 4, None) == (251, 1004)
    assert batched.plan(1000, 4, 64) == (64, 1024)
    assert batched.plan(10, 4, 64) == (3, 12)  # small batches are not padded up to a big chunk
