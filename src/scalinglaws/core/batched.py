"""Fitting one law to many datasets at once: padded, masked, chunked and sharded.

Sweeps fit the same law to hundreds or thousands of small tables (one per architecture, data mix,
learning-rate schedule, or bootstrap of a bootstrap). One :func:`fit` call per table pays Python
dispatch and, worse, a new compilation whenever the table size changes. :func:`fit_many` fits all
of them in one compiled call:

* **Padding and masking.** Tables of different sizes n_d are padded to a common n; padding rows
  have weight 0 (:func:`pad_datasets`). The core masks zero-weight points before any product
  (``lm.evaluate`` selects their residuals and Jacobian rows away, ``objectives.objective`` drops
  them even when non-finite), so padding rows may hold anything, NaN and inf included, and a
  padded table gives the same fit as the unpadded one.
* **vmap over datasets** of the whole multi-start fit (``multistart.multistart``: screening, top-k
  pruning, polish), so every dataset gets exactly the algorithm of :func:`fit`. Under ``vmap`` the
  polish loop of a batch runs until the slowest dataset of the batch has converged; datasets that
  have converged are left unchanged by the extra iterations (the LM step is a no-op on a done
  state), so a dataset's result does not depend on which other datasets share its batch: batched,
  chunked and sharded results equal each other and :func:`fit`'s up to floating-point
  reassociation in the compiled code (tests: 1e-12 relative on the objective). One caveat: on an
  ill-conditioned table, where the best start creeps along a valley for hundreds of iterations,
  last-bit differences can move where it stops; seen once in 50 simulated tables, 1.6e-4
  relative on the objective, between a vmapped batch of one and :func:`fit`. Chunks of one
  dataset (the CPU default) run :func:`fit`'s own program, without a batch axis, and matched it
  exactly (relative difference 0.0) on the benchmark's 50 reference tables.
* **Sharding** (``sharding``): the dataset axis is split over a 1-D mesh of all devices with
  ``jax.shard_map``; each device fits its own block with no communication.
* **Chunking** bounds memory and sets the trade-off between vectorising over datasets and
  early exit: each device walks its block in chunks of ``chunk_size`` datasets with ``lax.map``
  (a sequential loop inside the one compiled program; the chunk's fit is compiled once). Only one
  chunk's working set is live at a time, and a chunk's polish loop stops when *its* slowest
  dataset has converged. On CPU the default is chunk 1 (each dataset's fit is already vectorised
  over its starts and points; batching datasets only adds waiting for the slowest), on
  accelerators 256 (to fill the device); see ``CPU_CHUNK``.

Memory bound (per device). Let C = chunk size (datasets), S = starts, n = padded points per
dataset, P = parameters, k = input columns. The working set of one chunk is the LM states,
S x (2P^2 + 2P + 6) numbers per dataset, and the evaluation of the model at every start, whose
largest intermediates are (S, n) and (S, n, P) arrays (predictions, Jacobian, the products of the
normal equations, which XLA fuses in part):

    peak bytes  ~  8 x C x S x (n x (P + c) + 2P^2 + 2P + 6)  +  8 x D x (n x (k + 2) + S x P)

with c a small constant (a few (S, n) temporaries; the second term is the inputs and outputs of
all D datasets, which are tiny: 10 000 tables of 60 points are ~10 MB). The first term does not
grow with D. ``benchmarks/bench_batched.py`` measures it (peak RSS of the whole process, ~190 MiB
of which is Python, JAX and XLA before any fit): chunk 32, 273 MiB at D = 1000 and 298 MiB at
D = 10 000 (the difference is the 10x larger inputs); chunk 1, 249 and 284 MiB; unchunked
D = 1000, 373 MiB. The unchunked run's extra ~120 MiB over chunk 1 fits c ~ 3 (C = 1000,
S = 32, n = 60, P = 5: 8 x 1000 x 32 x (60 x 8 + 66) = 140 MB); at C = 32 the term is ~5 MB.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple, Optional, Sequence, Union

import jax
import jax.numpy as jnp
import numpy as np

from . import multistart as ms
from . import sharding as sh
from ._jit import jit
from .model import Model
from .objectives import Loss

# Datasets per device per step of the chunk loop (``chunk_size="auto"``). On CPU, 1: the fit of
# one dataset is already vectorised over its starts and points, so a batch of datasets costs as
# much per dataset as one alone, plus waiting, since the polish loop of a batch runs until its
# slowest dataset has converged (median ~90 iterations, some 500). Measured by
# benchmarks/bench_batched.py (1000 tables of 20-60 points, 32 starts, 2 shared cores, warm):
# chunk 1 3.3 s, chunk 32 8.0 s, unchunked 8.6 s (and, in a noisier run, 5.3 s at chunk 4 and
# 6.4 s at chunk 8, CPU time). On GPU and TPU one dataset's 8 x 60 polish is far too small to
# fill the device, and batching datasets is what fills it: 256 (not measured here, no accelerator).
CPU_CHUNK = 1
ACCELERATOR_CHUNK = 256


class FitManyResult(NamedTuple):
    theta: jax.Array  # (D, P) best parameters of each dataset, in the fitting space
    value: jax.Array  # (D,) best objective of each dataset
    n_at_best: jax.Array  # (D,) polished survivors within AT_BEST_RTOL of that best
    converged: jax.Array  # (D,) bool: the best survivor met the tolerance before max_iter
    iterations: jax.Array  # (D,) total iterations of the best survivor


def pad_datasets(datasets: Sequence, n: Optional[int] = None, *, fill: float = 0.0):
    """Stack tables of different sizes into padded arrays with zero-weight padding rows.

    Args:
      datasets: a sequence of ``(x, y)`` or ``(x, y, w)``: inputs x (n_d, k) (or (n_d,) for one
        input column), targets y (n_d,), optional positive weights w (n_d,); each may have its own
        n_d, all the same k.
      n: padded length (default: the largest n_d). A fixed n lets sweeps of varying tables reuse
        one compiled program.
      fill: value of the padding rows of x and y. Any value works (the core masks zero-weight
        points, even non-finite ones); 0 keeps the arrays printable.

    Returns ``(xs (D, n, k), targets (D, n), weights (D, n))`` as float64 numpy arrays.
    """
    rows = []
    for i, d in enumerate(datasets):
        if len(d) not in (2, 3):
            raise ValueError(f"dataset {i}: expected (x, y) or (x, y, w), got {len(d)} arrays")
        x = np.asarray(d[0], dtype=np.float64)
        x = x[:, None] if x.ndim == 1 else x
        y = np.asarray(d[1], dtype=np.float64).ravel()
        w = np.ones_like(y) if len(d) == 2 else np.asarray(d[2], dtype=np.float64).ravel()
        if x.ndim != 2 or x.shape[0] != y.shape[0] or w.shape != y.shape:
            raise ValueError(f"dataset {i}: x {x.shape}, y {y.shape}, w {w.shape} do not match")
        rows.append((x, y, w))
    if not rows:
        raise ValueError("pad_datasets needs at least one dataset")
    k = rows[0][0].shape[1]
    if any(x.shape[1] != k for x, _, _ in rows):
        raise ValueError("all datasets need the same number of input columns")
    longest = max(y.shape[0] for _, y, _ in rows)
    n = longest if n is None else int(n)
    if n < longest:
        raise ValueError(f"n={n} is shorter than the largest dataset ({longest} points)")
    xs = np.full((len(rows), n, k), fill, dtype=np.float64)
    targets = np.full((len(rows), n), fill, dtype=np.float64)
    weights = np.zeros((len(rows), n), dtype=np.float64)
    for i, (x, y, w) in enumerate(rows):
        xs[i, : len(y)] = x
        targets[i, : len(y)] = y
        weights[i, : len(y)] = w
    return xs, targets, weights


def _fit_one(starts, x, target, weights, *, model, loss, schedule, max_iter, ftol):
    r = ms.multistart(model, starts, x, target, weights, loss=loss, schedule=schedule,
                      max_iter=max_iter, ftol=ftol)
    return r.theta, r.value, r.n_at_best, r.converged[0], r.iterations[0]


def _fit_block(xs, targets, weights, starts, *, starts_batched: bool, chunk: int, **config):
    """One device's rows, in chunks of ``chunk`` datasets (rows: a multiple of ``chunk``)."""
    one = partial(_fit_one, **config)
    if chunk == 1:
        # No batch axis at all: the body is core.fit's program for one dataset (it matched
        # core.fit exactly on the benchmark's 50 reference tables). A vmap over a batch of one
        # compiles to different fusions, and on ill-conditioned tables (a polish creeping for
        # hundreds of iterations) that rounding can move where a start stops (seen: 1.6e-4
        # relative on 1 table in 50).
        def fit_chunk(s, x, t, w):
            out = one(s[0] if starts_batched else s, x[0], t[0], w[0])
            return tuple(o[None] for o in out)
    else:
        fit_chunk = jax.vmap(one, in_axes=(0 if starts_batched else None, 0, 0, 0))
    m = xs.shape[0] // chunk

    def split(a):  # (m * chunk, ...) -> (m, chunk, ...): lax.map walks the first axis
        return jnp.reshape(a, (m, chunk) + a.shape[1:])

    if starts_batched:
        out = jax.lax.map(lambda a: fit_chunk(*a),
                          (split(starts), split(xs), split(targets), split(weights)))
    else:
        # The shared grid is closed over: one copy, not one per chunk.
        out = jax.lax.map(lambda a: fit_chunk(starts, *a), (split(xs), split(targets),
                                                            split(weights)))
    return tuple(jnp.reshape(o, (m * chunk,) + o.shape[2:]) for o in out)


def _program(xs, targets, weights, starts, *, mesh, starts_batched, chunk, model, loss, schedule,
             max_iter, ftol):
    body = partial(_fit_block, starts_batched=starts_batched, chunk=chunk, model=model, loss=loss,
                   schedule=schedule, max_iter=max_iter, ftol=ftol)
    if starts_batched:
        # Every array is per dataset: all four are split over the devices.
        return sh.sharded_batch_map(lambda s, x, t, w: body(x, t, w, s), mesh, n_batched=4)(
            starts, xs, targets, weights)
    return sh.sharded_batch_map(body, mesh, n_batched=3, n_shared=1)(xs, targets, weights, starts)


_program_jit = jit(_program, static_argnames=("mesh", "starts_batched", "chunk", "model", "loss",
                                              "schedule", "max_iter", "ftol"))


def resolve_chunk(chunk_size: Union[int, str, None], platform: str) -> Optional[int]:
    """The chunk size for ``chunk_size`` on devices of ``platform`` ("auto": see ``CPU_CHUNK``)."""
    if chunk_size == "auto":
        return CPU_CHUNK if platform == "cpu" else ACCELERATOR_CHUNK
    if chunk_size is None:
        return None
    if isinstance(chunk_size, str) or int(chunk_size) < 1:
        raise ValueError(f"chunk_size must be a positive int, None or 'auto', got {chunk_size!r}")
    return int(chunk_size)


def plan(n_datasets: int, n_devices: int, chunk_size: Optional[int]) -> tuple[int, int]:
    """(chunk, padded D): chunk datasets per device per step, D padded to n_devices x chunk x m.

    ``chunk_size=None`` puts each device's whole block in one chunk (no chunk loop; memory grows
    with D, and on CPU it is the slowest choice, see ``CPU_CHUNK``). A chunk larger than a
    device's share is shrunk to that share, so small batches are not padded up to a big chunk.
    """
    per_device = -(-n_datasets // n_devices)
    chunk = per_device if chunk_size is None else max(1, min(int(chunk_size), per_device))
    return chunk, sh.round_up(n_datasets, n_devices * chunk)


def fit_many(model: Model, starts, xs, targets, weights=None, *, loss: Loss = Loss(),
             schedule: ms.Schedule = ms.DEFAULT_SCHEDULE, max_iter: int = 500,
             ftol: float = 1e-12, chunk_size: Union[int, str, None] = "auto",
             mesh: Optional[jax.sharding.Mesh] = None) -> FitManyResult:
    """Multi-start robust fits of one law to D datasets, in one compiled call.

    Args:
      model, loss, schedule, max_iter, ftol: as for :func:`fit`, applied to every dataset.
      starts: (S, P) starts shared by every dataset, or (D, S, P) one grid per dataset.
      xs: (D, n, k) inputs; targets: (D, n); weights: (D, n) per-point weights, 0 on padding rows
        (default all ones: no padding). Build the three with :func:`pad_datasets`.
      chunk_size: datasets per device per step of the chunk loop (bounds memory, see the module
        docstring); ``None``: no chunking; ``"auto"``: 1 on CPU, 256 on accelerators (see
        ``CPU_CHUNK``). Results do not depend on it, speed and memory do.
      mesh: a 1-D device mesh with axis ``"batch"`` (``sharding.batch_mesh``); default all of
        ``jax.devices()``. The dataset axis is padded (copies of the last dataset, whose results
        are dropped) to a multiple of devices x chunk.

    Returns per-dataset best parameters, objectives, ``n_at_best``, converged flags and
    iterations, in the order of the datasets. When no padding was needed the arrays keep their
    sharding over the mesh (on several hosts they are gathered to every host).
    """
    ms.enable_float64()
    starts = np.asarray(starts)
    xs = np.asarray(xs)
    targets = np.asarray(targets)
    weights = np.ones_like(targets) if weights is None else np.asarray(weights)
    ms.require_float64(starts=starts, xs=xs, targets=targets, weights=weights)
    ms.check_schedule(schedule)
    if xs.ndim != 3 or targets.shape != xs.shape[:2] or weights.shape != targets.shape:
        raise ValueError(f"expected xs (D, n, k), targets and weights (D, n); got {xs.shape}, "
                         f"{targets.shape}, {weights.shape}")
    n_data = xs.shape[0]
    starts_batched = starts.ndim == 3
    if starts.ndim not in (2, 3) or (starts_batched and starts.shape[0] != n_data):
        raise ValueError(f"starts must be (S, P) or (D={n_data}, S, P), got {starts.shape}")
    mesh = sh.batch_mesh() if mesh is None else mesh
    platform = mesh.devices.flat[0].platform
    chunk, padded = plan(n_data, mesh.devices.size, resolve_chunk(chunk_size, platform))

    def place(a):
        return sh.shard_leading(sh.pad_leading(a, padded) if padded != n_data else a, mesh)

    batched_starts = place(starts) if starts_batched else sh.replicate(starts, mesh)
    out = _program_jit(place(xs), place(targets), place(weights), batched_starts, mesh=mesh,
                       starts_batched=starts_batched, chunk=chunk, model=model, loss=loss,
                       schedule=schedule, max_iter=max_iter, ftol=ftol)
    if any(not o.is_fully_addressable for o in out):  # several hosts: every host gets all rows
        out = tuple(jnp.asarray(sh.gather_to_host(o)) for o in out)
    if padded != n_data:
        out = tuple(o[:n_data] for o in out)
    return FitManyResult(*out)
