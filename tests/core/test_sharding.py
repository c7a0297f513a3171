"""Sharding the batch axis over devices: helpers on one device, and 4 simulated CPU devices.

``--xla_force_host_platform_device_count`` only acts before JAX initialises its CPU backend, which
this test process has already done, so the 4-device check runs in a fresh interpreter
(``sys.executable -c``) and reports back as JSON.
"""

import json
import os
import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest

from scalinglaws.core import sharding as sh

FOUR_DEVICES = textwrap.dedent(
    """
    import itertools, json
    import jax, numpy as np
    from scalinglaws import core
    from scalinglaws.core import sharding as sh
    from scalinglaws.laws.chinchilla import chinchilla

    assert jax.device_count() == 4, jax.devices()
    model = core.Model(chinchilla.log_predict, chinchilla.log_predict_and_jac)
    starts = np.array(list(itertools.product((-1.0, 1.0), (0.0, 10.0), (0.0, 10.0), (0.1, 0.8),
                                             (0.1, 0.8))), dtype=np.float64)
    schedule = core.Schedule(stages=((0, 3),), polish=8)
    rng = np.random.default_rng(3)
    tables = []
    for m in (14, 23, 31, 18, 20, 12, 27, 16):
        n = np.exp(rng.uniform(np.log(7e7), np.log(1.6e10), m))
        d = np.exp(rng.uniform(np.log(5e9), np.log(5e11), m))
        loss = (1.8 + 480.0 / n ** 0.35 + 2100.0 / d ** 0.37) * np.exp(0.01 * rng.standard_normal(m))
        tables.append((chinchilla.prepare(np.column_stack([n, d])), np.log(loss)))
    xs, ts, ws = core.pad_datasets(tables, fill=np.nan)

    # 8 datasets, 4 devices, chunk 1: 2 chunks per device, no padding, so the outputs are the
    # program's own (sharded) arrays.
    four = core.fit_many(model, starts, xs, ts, ws, schedule=schedule, chunk_size=1)
    one = core.fit_many(model, starts, xs, ts, ws, schedule=schedule, chunk_size=None,
                        mesh=sh.batch_mesh(jax.devices()[:1]))
    # map_rows inside jit: 10 rows over 4 devices (padded to 12, padding dropped), with a
    # per-row while loop of a different length on each row.
    def halve(v, floor):
        return jax.vmap(lambda a: jax.lax.while_loop(lambda b: b > floor, lambda b: b / 2, a))(v)
    mapped = jax.jit(lambda v: sh.map_rows(halve, (v,), (np.float64(1.0),)))(
        np.arange(10.0) * 7.0)
    rows = sh.shard_leading(np.arange(10.0), pad=True)
    doubled = jax.jit(lambda a: 2.0 * a)(rows)
    print(json.dumps({
        "four": {k: np.asarray(v).tolist() for k, v in four._asdict().items()},
        "one": {k: np.asarray(v).tolist() for k, v in one._asdict().items()},
        "four_devices": len(four.value.sharding.device_set),
        "one_devices": len(one.value.sharding.device_set),
        "rows_shape": list(rows.shape),
        "rows_devices": len(rows.sharding.device_set),
        "rows_shard_shapes": sorted({tuple(s.data.shape) for s in rows.addressable_shards}),
        "doubled_devices": len(doubled.sharding.device_set),
        "doubled": np.asarray(doubled).tolist(),
        "mapped": np.asarray(mapped).tolist(),
    }))
    """
)


def test_sharded_fit_many_on_four_cpu_devices_equals_one_device():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4",
               JAX_PLATFORMS="cpu")
    proc = subprocess.run([sys.executable, "-c", FOUR_DEVICES], env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["four_devices"] == 4 and out["one_devices"] == 1
    four, one = out["four"], out["one"]
    assert len(four["value"]) == 8
    np.testing.assert_allclose(four["value"], one["value"], rtol=1e-12, atol=0)
    # Parameters to sqrt of the objective's agreement: near a minimum the objective is flat to
    # second order, so a last-bit difference in a sum moves the stopping point by ~1e-8.
    np.testing.assert_allclose(four["theta"], one["theta"], rtol=1e-6, atol=1e-9)
    assert four["n_at_best"] == one["n_at_best"] and four["converged"] == one["converged"]
    assert four["iterations"] == one["iterations"]
    assert all(np.isfinite(four["value"]))
    # shard_leading: 10 rows padded to 12, 3 per device; a jitted function keeps the layout.
    assert out["rows_shape"] == [12] and out["rows_devices"] == 4
    assert out["rows_shard_shapes"] == [[3]]
    assert out["doubled_devices"] == 4
    np.testing.assert_array_equal(out["doubled"], 2.0 * np.r_[np.arange(10.0), 9.0, 9.0])
    np.testing.assert_array_equal(out["mapped"], [halve_until(7.0 * i) for i in range(10)])


def halve_until(a: float, floor: float = 1.0) -> float:
    while a > floor:
        a /= 2
    return a


def test_helpers_on_the_default_devices():
    mesh = sh.batch_mesh()
    assert mesh.axis_names == (sh.BATCH_AXIS,) and mesh.devices.size == jax.device_count()
    assert sh.round_up(10, 4) == 12 and sh.round_up(12, 4) == 12
    padded = sh.pad_leading(np.arange(6.0).reshape(3, 2), 4)
    np.testing.assert_array_equal(padded, [[0, 1], [2, 3], [4, 5], [4, 5]])
    with pytest.raises(ValueError, match="empty"):
        sh.pad_leading(np.zeros((0, 2)), 4)
    a = sh.shard_leading(np.arange(8.0).reshape(4, 2), mesh)
    np.testing.assert_array_equal(np.asarray(a), np.arange(8.0).reshape(4, 2))
    assert a.sharding.spec == jax.sharding.PartitionSpec(sh.BATCH_AXIS)
    np.testing.assert_array_equal(sh.gather_to_host(a), np.arange(8.0).reshape(4, 2))
    doubled = jax.jit(lambda v: sh.map_rows(lambda r, c: c * r, (v,), (np.float64(2.0),)))(
        np.arange(5.0))
    np.testing.assert_array_equal(doubled, 2.0 * np.arange(5.0))


BOOTSTRAP = textwrap.dedent(
    """
    import itertools, json, sys
    import jax, numpy as np
    from scalinglaws import core
    from scalinglaws.laws.chinchilla import chinchilla

    model = core.Model(chinchilla.log_predict, chinchilla.log_predict_and_jac)
    rng = np.random.default_rng(5)
    n, d = (a.ravel() for a in np.meshgrid(np.geomspace(7e7, 1.6e10, 6), np.geomspace(5e9, 5e11, 6)))
    loss = (1.8 + 480.0 / n ** 0.35 + 2100.0 / d ** 0.37) * np.exp(0.01 * rng.standard_normal(n.size))
    x, t = chinchilla.prepare(np.column_stack([n, d])), np.log(loss)
    starts = np.array(list(itertools.product((-1.0, 1.0), (0.0, 10.0), (0.0, 10.0), (0.1, 0.8),
                                             (0.1, 0.8))), dtype=np.float64)
    out = core.bootstrap(model, starts, x, t, n_resamples=30, seed=7)
    print(json.dumps({"devices": jax.device_count(), "thetas": np.asarray(out.thetas).tolist(),
                      "values": np.asarray(out.values).tolist()}))
    """)


def _bootstrap_in(devices: int) -> dict:
    env = dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}",
               JAX_PLATFORMS="cpu")
    proc = subprocess.run([sys.executable, "-c", BOOTSTRAP], env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_bootstrap_rows_sharded_over_four_devices_equal_one_device():
    """The bootstrap's (resample x start) rows split over 4 devices give the 1-device numbers."""
    one, four = _bootstrap_in(1), _bootstrap_in(4)
    assert (one["devices"], four["devices"]) == (1, 4)
    np.testing.assert_allclose(four["values"], one["values"], rtol=1e-10)
    np.testing.assert_allclose(four["thetas"], one["thetas"], rtol=1e-6, atol=1e-9)
