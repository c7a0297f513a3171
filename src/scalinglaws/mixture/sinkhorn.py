"""Entropic optimal transport between two weighted point clouds: log-domain Sinkhorn in JAX.

For clouds x (n, d) with weights a (n,) and y (m, d) with weights b (m,) (each summing to one),
cost C_ij = ||x_i - y_j||^2 (or a given matrix) and regularisation eps, Sinkhorn's iterations on the
dual potentials (Cuturi 2013; in the log domain, Peyre & Cuturi 2019, "Computational Optimal
Transport", sec. 4.4) are

    f_i = -eps log sum_j b_j exp((g_j - C_ij) / eps),   g_j = -eps log sum_i a_i exp((f_i - C_ij) / eps)

with the plan P_ij = a_i b_j exp((f_i + g_j - C_ij) / eps). The log-sum-exp form never overflows,
so eps can be small; ``eps`` is annealed geometrically from ``eps_start`` (a fraction of the largest
cost) to the target (epsilon scaling), which makes small eps converge in a few hundred iterations.
Returns the transport cost <P, C>, the dual potentials and the plan. The potential f is the gradient
of the OT cost with respect to the source weights a (up to an additive constant): projektor (Kang et
al. 2023) uses it to move a mixture's weights toward the validation distribution.

Pure, fixed iteration counts: jit and vmap over pairs of clouds. The projektor performance model
built on it (OT distances, calibrated gradients, log-N mapping between two pilot sizes) is in
:mod:`.projektor`.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from ..core import enable_float64
from ..core._jit import jit


class Transport(NamedTuple):
    cost: jax.Array  # <P, C>
    f: jax.Array  # (n,) dual potential of the source points
    g: jax.Array  # (m,) dual potential of the target points
    plan: jax.Array  # (n, m)
    marginal_error: jax.Array  # L1 error of the plan's row sums against a


def squared_distances(x, y):
    return jnp.sum((x[:, None, :] - y[None, :, :]) ** 2, axis=-1)


def sweep(cost, la, lb, f, g, e):
    """One log-domain Sinkhorn sweep at absolute ``e``: the potentials (f, g) updated in turn,
    ``la``/``lb`` the log weights."""
    f = -e * jax.nn.logsumexp((g[None, :] - cost) / e + lb[None, :], axis=1)
    g = -e * jax.nn.logsumexp((f[:, None] - cost) / e + la[:, None], axis=0)
    return f, g


def sinkhorn_cost(cost, a, b, *, eps: float = 1e-2, iterations: int = 500,
                  anneal: int = 200, eps_start: float = 1.0) -> Transport:
    """Log-domain Sinkhorn on a cost matrix (n, m); eps relative to max(cost)."""
    scale = jnp.maximum(jnp.max(cost), 1e-300)
    la, lb = jnp.log(a), jnp.log(b)

    def step(k, fg):
        frac = jnp.minimum(k / max(anneal, 1), 1.0)
        e = scale * jnp.exp((1 - frac) * jnp.log(eps_start) + frac * jnp.log(eps))
        return sweep(cost, la, lb, fg[0], fg[1], e)

    f0 = jnp.zeros(cost.shape[0], cost.dtype)
    g0 = jnp.zeros(cost.shape[1], cost.dtype)
    f, g = jax.lax.fori_loop(0, iterations, step, (f0, g0))
    e = scale * eps
    plan = jnp.exp((f[:, None] + g[None, :] - cost) / e + la[:, None] + lb[None, :])
    err = jnp.sum(jnp.abs(jnp.sum(plan, axis=1) - a))
    return Transport(jnp.sum(plan * cost), f, g, plan, err)


def _sinkhorn(x, a, y, b, *, eps, iterations, anneal):
    return sinkhorn_cost(squared_distances(x, y), a, b, eps=eps, iterations=iterations,
                         anneal=anneal)


_sinkhorn_jit = jit(_sinkhorn, static_argnames=("eps", "iterations", "anneal"))


def sinkhorn(x, a, y, b, *, eps: float = 1e-2, iterations: int = 500, anneal: int = 200) -> Transport:
    """OT between clouds ``x`` (n, d) weighted ``a`` and ``y`` (m, d) weighted ``b``, squared
    Euclidean cost; ``eps`` is relative to the largest cost. Jitted once per shape."""
    enable_float64()
    return _sinkhorn_jit(jnp.asarray(x, jnp.float64), jnp.asarray(a, jnp.float64),
                         jnp.asarray(y, jnp.float64), jnp.asarray(b, jnp.float64), eps=float(eps),
                         iterations=int(iterations), anneal=int(anneal))
