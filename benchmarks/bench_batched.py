"""Many small fits in one call: ``scalinglaws.core.fit_many`` against a loop of ``core.fit``.

What it measures
  * D simulated Chinchilla-like tables (20-60 points each: 4-8 model sizes N, token counts D
    log-uniform, truths drawn per table from published ranges, lognormal noise 1-2%), the same law
    (Huber 1e-3 on log residuals), a modest start grid (two values per parameter: 32 starts; one
    screening stage of 3 IRLS iterations, the best 8 polished), all fitted by ``core.fit_many``
    in one compiled call: cold (first call, includes XLA compilation) and warm (best and median of
    ``--repeats`` calls; the machine is shared, so the best is the cleaner number).
  * memory: every configuration runs in its own child process (this script re-invoked with
    ``--part``), which reports its peak RSS (``getrusage`` ``ru_maxrss``: interpreter, JAX runtime,
    compilation and fits) and the rise of that peak during the fits. The bound of
    ``core.batched`` says the fit's working set depends on the chunk size, not on D: compare
    D = ``--datasets`` and D = ``--big`` at the same chunk size (and the unchunked run).
  * reference: ``core.fit`` called once per table (tables padded to the same n, so one
    compilation), warm, on the first ``--ref`` tables, time extrapolated to D; and the check that
    both reach the same objectives on those tables (max relative difference; target <= 1e-9).

Run (from the repo root):
    python benchmarks/bench_batched.py                       # D = 1000 and 10 000, ~6 min on 2 cores
    python benchmarks/bench_batched.py --big 0               # D = 1000 only
    python benchmarks/bench_batched.py --chunks auto,8,64 --repeats 5
    python benchmarks/bench_batched.py --cpu-devices 0       # skip the 2-CPU-device run

The ``Ndev`` row shards the datasets over N simulated CPU devices
(``--xla_force_host_platform_device_count``): it exercises the sharded path end to end and shows
whether the devices' blocks run in parallel on the cores. Measured here (jaxlib 0.10, 2 cores):
they did not (2 devices: 3.2 s wall for 3.2 s of CPU time, the same as 1 device), so simulated
devices test the layout, not a speed-up.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve()
SEED = 0
STARTS = np.array(list(itertools.product((-1.0, 1.0), (0.0, 10.0), (0.0, 10.0), (0.1, 0.8),
                                         (0.1, 0.8))), dtype=np.float64)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux reports KiB


def simulate_tables(n_tables: int, seed: int = SEED):
    """(log N, log D) inputs and log losses of ``n_tables`` Chinchilla-like tables."""
    rng = np.random.default_rng(seed)
    tables = []
    for _ in range(n_tables):
        m = int(rng.integers(20, 61))
        sizes = np.geomspace(7e7, 1.6e10, int(rng.integers(4, 9))) * np.exp(rng.normal(0, 0.1))
        n = rng.choice(sizes, m)
        d = np.exp(rng.uniform(np.log(5e9), np.log(5e11), m))
        e_, a_, b_ = rng.uniform(1.5, 2.0), rng.uniform(200, 2000), rng.uniform(200, 3000)
        alpha, beta = rng.uniform(0.25, 0.45, 2)
        loss = e_ + a_ / n ** alpha + b_ / d ** beta
        loss = loss * np.exp(rng.uniform(0.01, 0.02) * rng.standard_normal(m))
        tables.append((np.column_stack([np.log(n), np.log(d)]), np.log(loss)))
    return tables


def import_core():
    try:
        import scalinglaws.core  # noqa: F401
    except ImportError:
        sys.path.insert(0, str(HERE.parents[1] / "src"))
    import scalinglaws.core as core
    from scalinglaws.laws.chinchilla import chinchilla as law
    return core, law


def part_many(n_tables: int, chunk, repeats: int, n_report: int) -> dict:
    core, law = import_core()
    import jax
    import jax.numpy as jnp

    model = core.Model(law.log_predict, law.log_predict_and_jac)
    schedule = core.Schedule(stages=((0, 3),), polish=8)
    xs, ts, ws = core.pad_datasets(simulate_tables(n_tables), n=60)
    jnp.zeros(1).block_until_ready()  # start the runtime: the rise below is compile + fit
    rss0 = peak_rss_mib()

    cpu = []

    def timed():
        t0, c0 = time.perf_counter(), time.process_time()
        r = core.fit_many(model, STARTS, xs, ts, ws, schedule=schedule, chunk_size=chunk)
        jax.block_until_ready(r)
        cpu.append(time.process_time() - c0)
        return time.perf_counter() - t0, r

    cold, r = timed()
    warm = [timed()[0] for _ in range(repeats)]
    return {
        "cold_s": cold, "warm_s": warm, "cpu_s": cpu,
        "converged": float(np.mean(np.asarray(r.converged))),
        "n_at_best_1": float(np.mean(np.asarray(r.n_at_best) == 1)),
        "iter_median": float(np.median(np.asarray(r.iterations))),
        "iter_max": int(np.max(np.asarray(r.iterations))),
        "values": np.asarray(r.value)[:n_report].tolist(),
        "peak_rss_mib": peak_rss_mib(), "fit_rss_mib": peak_rss_mib() - rss0,
        "devices": jax.device_count(), "backend": jax.default_backend(),
    }


def part_loop(n_tables: int) -> dict:
    core, law = import_core()
    import jax

    model = core.Model(law.log_predict, law.log_predict_and_jac)
    schedule = core.Schedule(stages=((0, 3),), polish=8)
    xs, ts, ws = core.pad_datasets(simulate_tables(n_tables), n=60)
    core.fit(model, STARTS, xs[0], ts[0], ws[0], schedule=schedule).value.block_until_ready()
    values = []
    t0 = time.perf_counter()
    for i in range(n_tables):
        r = core.fit(model, STARTS, xs[i], ts[i], ws[i], schedule=schedule)
        values.append(float(jax.block_until_ready(r.value)))
    return {"per_fit_s": (time.perf_counter() - t0) / n_tables, "values": values,
            "peak_rss_mib": peak_rss_mib()}


def child(args: list, cpu_devices: int = 0) -> dict:
    env = dict(os.environ)
    if cpu_devices:  # must be set before JAX starts: hence a child process
        env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") +
                            f" --xla_force_host_platform_device_count={cpu_devices}").strip()
    proc = subprocess.run([sys.executable, str(HERE), "--part", *map(str, args)],
                          capture_output=True, text=True, env=env)
    if proc.returncode:
        raise RuntimeError(f"part {args} failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--datasets", type=int, default=1000)
    p.add_argument("--big", type=int, default=10000, help="second D for the memory check (0: skip)")
    p.add_argument("--chunks", default="auto,32,0",
                   help="chunk sizes to run at D=--datasets, comma-separated (auto: the default, "
                        "1 on CPU; 0: unchunked)")
    p.add_argument("--big-chunks", default="auto,32",
                   help="chunk sizes to run at D=--big (the memory check)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--ref", type=int, default=50, help="tables fitted one by one by core.fit")
    p.add_argument("--cpu-devices", type=int, default=2,
                   help="also run D=--datasets sharded over this many CPU devices (XLA's "
                        "host-platform device count; 0: skip)")
    p.add_argument("--part", nargs="+", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.part:
        kind, rest = args.part[0], args.part[1:]
        if kind == "many":
            chunk = None if rest[1] == "0" else rest[1] if rest[1] == "auto" else int(rest[1])
            out = part_many(int(rest[0]), chunk, int(rest[2]), int(rest[3]))
        else:
            out = part_loop(int(rest[0]))
        print(json.dumps(out))
        return

    d = args.datasets
    def label(dd, chunk, ndev=0):
        what = "unchunked" if chunk == "0" else f"chunk={chunk}"
        return f"fit_many D={dd} {what}" + (f" {ndev}dev" if ndev else "")

    chunks = args.chunks.split(",")
    runs = [(label(d, c), d, c, args.repeats, 0) for c in chunks]
    if args.cpu_devices:
        runs.append((label(d, chunks[0], args.cpu_devices), d, chunks[0], args.repeats,
                     args.cpu_devices))
    if args.big:
        runs += [(label(args.big, c), args.big, c, 0, 0) for c in args.big_chunks.split(",")]
    results = [(name, dd, child(["many", dd, chunk, reps, args.ref], ndev))
               for name, dd, chunk, reps, ndev in runs]
    loop = child(["loop", args.ref])
    loop_s = loop["per_fit_s"] * d

    info = results[0][2]
    print(f"{d} simulated Chinchilla-like tables of 20-60 points (padded to 60), seed {SEED}; "
          f"{len(STARTS)} starts, screen 3 IRLS steps, polish best 8; backend "
          f"{info['backend']}, {info['devices']} device(s)")
    head = (f"{'approach':<34}{'cold s':>8}{'warm best':>10}{'warm med':>10}{'per fit ms':>11}"
            f"{'loop/this':>10}{'cpu s':>8}{'peak MiB':>10}{'fit +MiB':>10}")
    print(head)
    print("-" * len(head))
    for name, dd, r in results:
        best = min(r["warm_s"]) if r["warm_s"] else r["cold_s"]
        med = statistics.median(r["warm_s"]) if r["warm_s"] else float("nan")
        warm_txt = f"{best:>10.2f}{med:>10.2f}" if r["warm_s"] else f"{'-':>10}{'-':>10}"
        ratio = loop["per_fit_s"] * dd / best
        cpu = min(r["cpu_s"][1:]) if r["warm_s"] else r["cpu_s"][0]
        print(f"{name:<34}{r['cold_s']:>8.2f}{warm_txt}{1e3 * best / dd:>11.2f}{ratio:>10.1f}"
              f"{cpu:>8.2f}{r['peak_rss_mib']:>10.0f}{r['fit_rss_mib']:>10.0f}")
    print(f"{f'core.fit loop (x{d}) *':<34}{'':>8}{loop_s:>10.2f}{'':>10}"
          f"{1e3 * loop['per_fit_s']:>11.2f}{1.0:>10.1f}{'':>8}{loop['peak_rss_mib']:>10.0f}"
          f"{'':>10}")
    print(f"* core.fit warm, one table at a time, on the first {args.ref} tables; time "
          f"extrapolated to {d}. Rows without warm times ran once (cold, compile included); their "
          "per-fit and ratio columns use the cold time. cpu s: process CPU time of the best warm "
          "call (all threads; less sensitive than wall time to other users of the machine).")
    for name, _, r in results:
        print(f"{name}: converged {100 * r['converged']:.1f}%, n_at_best == 1 in "
              f"{100 * r['n_at_best_1']:.1f}%, iterations of the best start median "
              f"{r['iter_median']:.0f}, max {r['iter_max']}")
    ref = np.array(loop["values"])
    for name, _, r in results:
        got = np.array(r["values"][: len(ref)])
        diff = np.max(np.abs(got - ref) / np.abs(ref))
        print(f"check {name} vs core.fit on {len(ref)} tables: max relative objective "
              f"difference {diff:.1e} ({'ok' if diff <= 1e-9 else 'FAIL'} at 1e-9)")


if __name__ == "__main__":
    main()
