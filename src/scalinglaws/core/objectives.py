"""Robust objectives on residuals, summed over points.

The objective is the *sum* over points (not the mean), as in Hoffmann et al. (2022) and Besiroglu et
al. (2024): a mean makes objectives tiny and turns relative stopping rules into absolute ones, which
is how the original Chinchilla fit stopped early.
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp

LOSSES = ("huber", "squared")


class Loss(NamedTuple):
    """A per-point loss on residuals r.

    ``huber``: rho(r) = r^2 / 2 for |r| <= delta, delta (|r| - delta / 2) otherwise (Huber 1964;
    the form of ``scipy.special.huber``). ``squared``: rho(r) = r^2 / 2.
    """

    kind: str = "huber"
    delta: float = 1e-3


def rho(loss: Loss, r: jnp.ndarray) -> jnp.ndarray:
    """Per-point loss values."""
    if loss.kind == "squared":
        return 0.5 * r * r
    a = jnp.abs(r)
    return jnp.where(a <= loss.delta, 0.5 * r * r, loss.delta * (a - 0.5 * loss.delta))


def irls_weights(loss: Loss, r: jnp.ndarray) -> jnp.ndarray:
    """psi(r) / r: the weights that turn the loss into a weighted least-squares majoriser."""
    if loss.kind == "squared":
        return jnp.ones_like(r)
    a = jnp.abs(r)
    return jnp.where(a <= loss.delta, 1.0, loss.delta / jnp.maximum(a, loss.delta))


def objective(loss: Loss, r: jnp.ndarray, weights: jnp.ndarray) -> jnp.ndarray:
    """Sum over points of weight * rho(r); zero-weight points (padding, resampling) drop out."""
    return jnp.sum(weights * rho(loss, r), axis=-1)
