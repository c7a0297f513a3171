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


# One fit's starts and the mixture optimiser's draws, budgets and starts, on 4 simulated devices,
# against the unsharded programs in the same process (a 1-device mesh runs core.fit's plain
# program; jax.vmap of mixture.optimise.solve is the mixture's 1-device program).
SINGLE_FIT_AND_MIXTURE = textwrap.dedent(
    """
    import functools, itertools, json
    import jax, jax.numpy as jnp, numpy as np
    from scalinglaws import core
    from scalinglaws.core import sharding as sh
    from scalinglaws.laws.chinchilla import chinchilla
    from scalinglaws.mixture import frontier, solve, target

    assert jax.device_count() == 4, jax.devices()
    model = core.Model(chinchilla.log_predict, chinchilla.log_predict_and_jac)
    grid = list(itertools.product((-1.0, 1.0), (0.0, 10.0), (0.0, 10.0), (0.1, 0.8), (0.1, 0.8)))
    # 35 starts: padded to 36 (one copy of the last start, which must never be selected).
    starts = np.array(grid + [(0.5, 5.0, 7.0, 0.3, 0.3), (2.0, 30.0, 30.0, 2.0, 2.0),
                              (0.0, 1.0, 1.0, 0.5, 0.5)], dtype=np.float64)
    rng = np.random.default_rng(3)
    n = np.exp(rng.uniform(np.log(7e7), np.log(1.6e10), 40))
    d = np.exp(rng.uniform(np.log(5e9), np.log(5e11), 40))
    loss = (1.8 + 480.0 / n ** 0.35 + 2100.0 / d ** 0.37) * np.exp(0.01 * rng.standard_normal(40))
    x, t = chinchilla.prepare(np.column_stack([n, d])), np.log(loss)
    one = sh.batch_mesh(jax.devices()[:1])
    # Layouts: survivors split (32 of 35), padding kept to the end (FULL), survivors replicated
    # (18 and 6: not multiples of 4), and a split selection out of the padded rows (20, then 8).
    schedules = [core.DEFAULT_SCHEDULE, core.FULL_SCHEDULE,
                 core.Schedule(stages=((0, 3), (18, 3)), polish=6),
                 core.Schedule(stages=((20, 2),), polish=8, polish_curvature="irls")]
    fits = []
    for schedule in schedules:
        four = core.fit(model, starts, x, t, schedule=schedule)
        ref = core.fit(model, starts, x, t, schedule=schedule, mesh=one)
        fits.append({"devices": [len(four.value.sharding.device_set),
                                 len(ref.value.sharding.device_set)],
                     **{k: [np.asarray(getattr(r, k)).tolist() for r in (four, ref)]
                        for k in four._fields}})

    S, D, B = 6, 3, 10  # 10 draws: padded to 12
    def law(params, r, context):
        return params["c"] + jnp.exp(params["b"] @ r)
    base = {"c": np.array([2.0, 2.5, 3.0]), "b": -rng.uniform(0.5, 2.0, (D, S))}
    draws = {"c": base["c"] + 0.01 * rng.normal(size=(B, D)),
             "b": base["b"] * (1 + 0.05 * rng.normal(size=(B, D, S)))}
    built = target.build(law, base, s=S, names=list("abcdef"), weights=np.array([0.5, 0.3, 0.2]),
                      target=None, lower=None, upper=[0.5] * S, budget=None, unique_tokens=None,
                      max_epochs=None, penalty=None, cost_per_token=None, spend=None,
                      context=None)
    setup, prob = built.setup, built.prob
    dprob = prob._replace(params=jax.tree_util.tree_map(jnp.asarray, draws))
    dstarts = jax.random.dirichlet(jax.random.key(1), jnp.ones(S), (B, 4), dtype=jnp.float64)
    cfg = dict(iterations=60, polish=10)
    four = solve.solve_draws(setup, dprob, dstarts, **cfg)
    ref = jax.jit(jax.vmap(lambda p, s: solve.solve(setup, prob._replace(params=p), s, **cfg)))(
        dprob.params, dstarts)
    starts30 = jax.random.dirichlet(jax.random.key(2), jnp.ones(S), (30,), dtype=jnp.float64)
    point = solve.solve_point(setup, prob, starts30, **cfg)
    point_ref = jax.jit(functools.partial(solve.solve, setup, **cfg))(prob, starts30)
    front = frontier.mixture_frontier(law, base, weights=[0.5, 0.3, 0.2], sources=list("abcdef"),
                                   budgets=[1e9, 2e9, 4e9], unique_tokens=[1e9] * S, n_starts=10)
    budget_probs = [target.build(law, base, s=S, names=list("abcdef"),
                              weights=np.array([0.5, 0.3, 0.2]), target=None, lower=None,
                              upper=None, budget=b, unique_tokens=[1e9] * S, max_epochs=None,
                              penalty=None, cost_per_token=None, spend=None, context=None).prob
                    for b in (1e9, 2e9, 4e9)]
    fstarts = jax.random.dirichlet(jax.random.key(0), jnp.ones(S), (10,), dtype=jnp.float64)
    frontier_ref = [np.asarray(jax.jit(functools.partial(solve.solve, setup, iterations=300,
                                                         polish=30))(p, fstarts).r)
                    for p in budget_probs]
    print(json.dumps({
        "fits": fits,
        "draw_devices": len(four.r.sharding.device_set),
        "draws": {k: [np.asarray(getattr(s, k)).tolist() for s in (four, ref)]
                  for k in ("r", "value", "kkt_violation", "start_values")},
        "point": {k: [np.asarray(getattr(s, k)).tolist() for s in (point, point_ref)]
                  for k in ("r", "value", "start_values")},
        "frontier": [front.proportions.tolist(), np.stack(frontier_ref).tolist()],
    }))
    """)


@pytest.fixture(scope="module")
def single_fit_and_mixture_on_four_devices() -> dict:
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4",
               JAX_PLATFORMS="cpu")
    proc = subprocess.run([sys.executable, "-c", SINGLE_FIT_AND_MIXTURE], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _ties_ordered(values, thetas, rtol=1e-12):
    """The order of survivors by objective, with those whose objectives tie (within ``rtol``)
    ordered by their parameters. Distinct points of a flat direction (log E -> -inf with the same
    objective to 1e-15) have no order of their own: rounding, which differs between one device
    and a shard of starts, decides it."""
    values, thetas = np.asarray(values), np.asarray(thetas)
    group = np.concatenate([[0], np.cumsum(np.abs(np.diff(values)) > rtol * np.abs(values[1:]))])
    return np.lexsort((thetas[:, 0], group))


def test_single_fit_starts_sharded_over_four_devices_equal_one_device(
        single_fit_and_mixture_on_four_devices):
    for fit in single_fit_and_mixture_on_four_devices["fits"]:
        assert fit["devices"] == [4, 1]
        (four_v, one_v), (four_t, one_t) = fit["values"], fit["thetas"]
        np.testing.assert_allclose(fit["value"][0], fit["value"][1], rtol=1e-12, atol=0)
        np.testing.assert_allclose(four_v, one_v, rtol=1e-12, atol=0)
        np.testing.assert_allclose(fit["theta"][0], fit["theta"][1], rtol=1e-6, atol=1e-9)
        four_o, one_o = _ties_ordered(four_v, four_t), _ties_ordered(one_v, one_t)
        np.testing.assert_allclose(np.asarray(four_t)[four_o], np.asarray(one_t)[one_o],
                                   rtol=1e-6, atol=1e-9)
        for key in ("iterations", "converged"):
            four_k, one_k = (np.asarray(k) for k in fit[key])
            assert (four_k[four_o] == one_k[one_o]).all() if four_k.ndim else four_k == one_k
        assert fit["n_at_best"][0] == fit["n_at_best"][1]
    # FULL_SCHEDULE polishes every start: the padding copy is dropped, 35 survivors remain.
    assert len(single_fit_and_mixture_on_four_devices["fits"][1]["values"][0]) == 35


def test_mixture_draws_budgets_and_starts_sharded_over_four_devices_equal_one_device(
        single_fit_and_mixture_on_four_devices):
    out = single_fit_and_mixture_on_four_devices
    assert out["draw_devices"] == 4
    for name in ("draws", "point"):
        for key, (four, one) in out[name].items():
            np.testing.assert_allclose(four, one, rtol=1e-12, atol=1e-15, err_msg=f"{name}.{key}")
    np.testing.assert_allclose(*out["frontier"], rtol=1e-12, atol=1e-15)
