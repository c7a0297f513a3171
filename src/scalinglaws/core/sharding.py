"""Sharding the batch axis of the core's programs over every available device.

The core's programs are batches of independent problems (starts x resamples x datasets): no row
of the batch ever reads another row, except for cheap reductions such as "is any row still
iterating". So the natural layout is a 1-D device mesh with one axis, ``"batch"``, and the leading
axis of every batched array split over it (``NamedSharding(mesh, PartitionSpec("batch"))``);
shared arrays (a start grid used by every dataset, static configuration) are replicated.

The same code then runs unchanged on one CPU (a 1-device mesh: the sharding is a no-op), on a GPU,
on a TPU slice, and on several hosts:

* one process, several devices: nothing to do, ``jax.devices()`` lists them all;
* several hosts: start every process with ``jax.distributed.initialize()`` (coordinator address,
  number of processes and process id from the arguments or the cluster's environment: SLURM,
  Cloud TPU, Open MPI are detected), *then* import and call the core with the same host arrays on
  every process. ``jax.devices()`` is then the global device list, :func:`batch_mesh` spans all
  hosts, and :func:`shard_leading` builds global arrays with
  ``jax.make_array_from_callback``, each process materialising only the rows of its own devices.
  Results are global arrays of which each process holds its rows;
  ``jax.experimental.multihost_utils.process_allgather`` gathers them (``fit_many`` does so when
  its outputs are not fully addressable). This path is documented, not tested here (one host).

What is sharded, whenever JAX sees more than one device (on one device every caller runs its
plain program: no mesh, no copy, no extra compilation):

* ``batched.fit_many``: the datasets (:func:`sharded_batch_map`; no communication);
* ``bootstrap.polish_resamples``: the (resample, start) rows (:func:`map_rows`);
* ``multistart.fit``: the starts of one fit (``multistart.multistart_sharded``): every device
  screens its block of starts; a pruning step gathers the objective values (:func:`all_rows`),
  every device takes the same global top-k (padding rows masked to +inf) and only the chosen
  rows move (:func:`take_rows`); survivors are split again when the device count divides their
  number (:func:`local_block`), else every device polishes all of them; the survivors are
  gathered at the end;
* ``mixture.optimise``: the bootstrap draws, the token budgets of the frontier, and the
  screening of the starts of the point solve (:func:`map_rows`).

On CPU, several devices can be simulated with ``XLA_FLAGS=--xla_force_host_platform_device_count=4``
set before JAX initialises (tests do it in a subprocess). Simulated devices share the same cores:
they test the layout, not a speed-up (``benchmarks/bench_batched.py``: 2 simulated devices on 2
cores ran no faster than one; their programs did not overlap).

Padding: a mesh of d devices needs the batch to be a multiple of d (and of the chunk size, for
chunked programs). :func:`pad_leading` repeats the last row, so padded rows are valid problems
(their results are dropped); padding with zeros or NaN would also be safe for the solvers (zero
weights mask points), but a copy of a real row is safe for any function.
"""

from __future__ import annotations

from typing import Optional, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

BATCH_AXIS = "batch"


def batch_mesh(devices: Optional[Sequence] = None) -> Mesh:
    """A 1-D mesh with axis ``"batch"`` over ``devices`` (default: all devices, all hosts)."""
    devs = list(jax.devices() if devices is None else devices)
    if not devs:
        raise ValueError("batch_mesh needs at least one device")
    return Mesh(np.array(devs, dtype=object), (BATCH_AXIS,))


def batch_sharding(mesh: Optional[Mesh] = None) -> NamedSharding:
    """Leading axis split over the mesh's batch axis; other axes whole."""
    return NamedSharding(batch_mesh() if mesh is None else mesh, PartitionSpec(BATCH_AXIS))


def replicated(mesh: Optional[Mesh] = None) -> NamedSharding:
    """Every device holds the whole array (shared inputs: a common start grid)."""
    return NamedSharding(batch_mesh() if mesh is None else mesh, PartitionSpec())


def round_up(n: int, multiple: int) -> int:
    return -(-int(n) // int(multiple)) * int(multiple)


def pad_leading(a, multiple: int) -> np.ndarray:
    """Host array ``a`` with its leading axis padded to a multiple of ``multiple``.

    Padded rows repeat the last row: a valid problem for any batched function, whose results the
    caller drops. An empty leading axis cannot be padded this way and is an error.
    """
    a = np.asarray(a)
    n = a.shape[0]
    if n == 0:
        raise ValueError("cannot pad an empty batch")
    extra = round_up(n, multiple) - n
    if extra == 0:
        return a
    return np.concatenate([a, np.repeat(a[-1:], extra, axis=0)], axis=0)


def shard_leading(a, mesh: Optional[Mesh] = None, *, pad: bool = False) -> jax.Array:
    """A global ``jax.Array`` of ``a`` with its leading axis sharded over the mesh's devices.

    ``a`` is a host array holding every row, the same on every process. The leading axis must be
    a multiple of the number of devices, unless ``pad`` (then rows are added as in
    :func:`pad_leading`; the caller keeps track of the original length). Built with
    ``jax.make_array_from_callback``, so each process copies only the rows of its addressable
    devices, which is what several hosts need; on one host it is the same as ``jax.device_put``.

    This is the hook for any batched computation (``fit_many``'s datasets, the bootstrap's
    resample rows): place its batched inputs with this, and a jitted function of them runs
    sharded (XLA partitions the batch), or use :func:`sharded_batch_map` for an explicit
    per-device program.
    """
    mesh = batch_mesh() if mesh is None else mesh
    a = np.asarray(a)
    ndev = mesh.devices.size
    if pad:
        a = pad_leading(a, ndev)
    elif a.shape[0] % ndev:
        raise ValueError(f"leading axis {a.shape[0]} is not a multiple of the {ndev} devices; "
                         "pass pad=True or pad with pad_leading")
    return jax.make_array_from_callback(a.shape, batch_sharding(mesh), lambda idx: a[idx])


def replicate(a, mesh: Optional[Mesh] = None) -> jax.Array:
    """A global ``jax.Array`` of host array ``a``, whole on every device of the mesh."""
    a = np.asarray(a)
    return jax.make_array_from_callback(a.shape, replicated(mesh), lambda idx: a[idx])


def sharded_batch_map(fun, mesh: Mesh, n_batched: int, n_shared: int = 0):
    """``fun`` run independently on every device, on that device's rows of the batched arguments.

    ``fun(*batched, *shared)`` takes ``n_batched`` arrays whose leading axis is the batch (each
    device gets its block of rows) followed by ``n_shared`` arrays every device gets whole; its
    outputs are batched along their leading axis too. This is ``jax.shard_map``: each device runs
    its own copy of the program with no communication, so a device's ``while_loop`` stops when
    *its* rows have converged instead of waiting for the slowest row of the whole batch (which a
    single partitioned program would do, with an all-reduce per iteration).
    """
    batched = PartitionSpec(BATCH_AXIS)
    in_specs = (batched,) * n_batched + (PartitionSpec(),) * n_shared
    # check_vma off: the solvers' loops carry per-device values whose "varying over the mesh"
    # annotation JAX cannot always infer through while_loop/top_k; every output is per-row anyway.
    return jax.shard_map(fun, mesh=mesh, in_specs=in_specs, out_specs=batched, check_vma=False)


def map_rows(fun, batched: tuple, shared: tuple = (), mesh: Optional[Mesh] = None):
    """``fun(*batched, *shared)`` with the rows of ``batched`` split over the mesh's devices.

    Usable inside ``jax.jit`` (shapes are static): the batched arrays (same leading length R)
    are padded to a multiple of the device count by repeating their last row, each device runs
    ``fun`` on its block (:func:`sharded_batch_map`), and the padded rows of the (batched)
    outputs are dropped. ``fun`` must treat rows independently (a ``vmap``, or the core's
    batched solvers, whose converged rows stay put while others iterate), so the result equals
    ``fun(*batched, *shared)`` on one device.

    This is the hook for the bootstrap: its polish of the B x m (resample, start) rows is such a
    function of ``(theta0, w_rows)`` with ``(x, target)`` shared. The batched arguments may be
    pytrees (the mixture optimiser's draws of a law's parameters); every leaf has the R rows.
    """
    mesh = batch_mesh() if mesh is None else mesh
    rows = jax.tree_util.tree_leaves(batched)[0].shape[0]
    extra = round_up(rows, mesh.devices.size) - rows
    if extra:
        batched = jax.tree_util.tree_map(
            lambda a: jnp.concatenate([a, jnp.repeat(a[-1:], extra, axis=0)], axis=0), batched)
    out = sharded_batch_map(fun, mesh, len(batched), len(shared))(*batched, *shared)
    return jax.tree_util.tree_map(lambda a: a[:rows], out) if extra else out


# Collectives for programs written per device (inside ``jax.shard_map`` over ``BATCH_AXIS``) whose
# rows are split in equal contiguous blocks: device i holds global rows i * m ... (i + 1) * m - 1.


def all_rows(tree, axis_name: str = BATCH_AXIS):
    """Every device's block of rows, concatenated in global order on every device."""
    return jax.tree_util.tree_map(lambda a: jax.lax.all_gather(a, axis_name, tiled=True), tree)


def take_rows(tree, idx, axis_name: str = BATCH_AXIS):
    """Global rows ``idx`` (the same on every device) of a row-split pytree, on every device.

    Each device contributes only the chosen rows it owns (a (len(idx), ...) block, the rest
    arbitrary), the blocks are gathered, and every row is read from its owner's block: the
    communication is d x len(idx) rows, not the whole batch, and the rows are copied bit for bit
    (no arithmetic, unlike a masked ``psum``).
    """
    m = jax.tree_util.tree_leaves(tree)[0].shape[0]
    owner = idx // m
    local = jnp.clip(idx - jax.lax.axis_index(axis_name) * m, 0, m - 1)
    picks = jnp.arange(idx.shape[0])

    def one(a):
        blocks = jax.lax.all_gather(a[local], axis_name)  # (d, len(idx), ...)
        return blocks[owner, picks]

    return jax.tree_util.tree_map(one, tree)


def local_block(tree, axis_name: str = BATCH_AXIS):
    """This device's contiguous block of rows of a pytree every device holds whole."""
    n = jax.lax.axis_size(axis_name)

    def one(a):
        m = a.shape[0] // n
        return jax.lax.dynamic_slice_in_dim(a, jax.lax.axis_index(axis_name) * m, m, axis=0)

    return jax.tree_util.tree_map(one, tree)


def gather_to_host(a) -> np.ndarray:
    """A host numpy copy of a (possibly multi-host, sharded) array."""
    if isinstance(a, jax.Array) and not a.is_fully_addressable:
        from jax.experimental import multihost_utils

        return np.asarray(multihost_utils.process_allgather(a, tiled=True))
    return np.asarray(a)
