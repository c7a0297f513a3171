"""Robust objectives on residuals, summed over points.

The objective is the *sum* over points (not the mean), as in Hoffmann et al. (2022) and Besiroglu et
al. (2024): a mean makes objectives tiny and turns relative stopping rules into absolute ones, which
is how the original Chinchilla fit stopped early.

For a per-point loss rho the solvers need three functions of the residual r:

* ``rho(r)``, the loss, summed into the objective;
* ``psi(r) = rho'(r)``, the influence function: the gradient of the objective is ``J^T (w psi(r))``
  with J the Jacobian of the predictions and w the point weights;
* a curvature weight ``c(r)`` for the Gauss-Newton matrix ``J^T diag(w c) J``. Two choices:
  ``irls`` takes ``c = psi(r) / r`` (Holland & Welsch 1977), whose quadratic model majorises
  rho, so steps are safe far from the optimum, but it overstates the curvature of points in
  Huber's linear region (delta / |r| instead of 0) and converges only linearly near the optimum;
  ``newton`` takes ``c = rho''(r)`` (1 inside the quadratic region, 0 outside), the exact
  Gauss-Newton curvature of the Huber objective: once the set of points in the linear region stops
  changing, the problem is a weighted least squares on the inliers and the steps converge like
  Gauss-Newton (fast), but the model no longer majorises rho and it is singular when fewer than P
  points are inliers, so it suits the polish, not the screening of far-away starts (``lm``'s
  ``hybrid`` curvature uses it only with at least P quadratic-region points).
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp

LOSSES = ("huber", "squared")
CURVATURES = ("irls", "newton")


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


def psi(loss: Loss, r: jnp.ndarray) -> jnp.ndarray:
    """rho'(r): r for squared error, r clipped to [-delta, delta] for Huber."""
    if loss.kind == "squared":
        return r
    return jnp.clip(r, -loss.delta, loss.delta)


def irls_weights(loss: Loss, r: jnp.ndarray) -> jnp.ndarray:
    """psi(r) / r: the weights that turn the loss into a weighted least-squares majoriser."""
    if loss.kind == "squared":
        return jnp.ones_like(r)
    a = jnp.abs(r)
    return jnp.where(a <= loss.delta, 1.0, loss.delta / jnp.maximum(a, loss.delta))


def curvature_weights(loss: Loss, r: jnp.ndarray, curvature: str) -> jnp.ndarray:
    """Per-point weights of the Gauss-Newton matrix: ``irls`` psi(r)/r or ``newton`` rho''(r)."""
    if curvature == "irls":
        return irls_weights(loss, r)
    if curvature != "newton":
        raise ValueError(f"curvature must be one of {CURVATURES}, got {curvature!r}")
    if loss.kind == "squared":
        return jnp.ones_like(r)
    return (jnp.abs(r) <= loss.delta).astype(r.dtype)


def objective(loss: Loss, r: jnp.ndarray, weights: jnp.ndarray) -> jnp.ndarray:
    """Sum over points of weight * rho(r); zero-weight points (padding, resampling) drop out.

    They drop out even when their residual is not finite (0 * inf would be nan).
    """
    return jnp.sum(jnp.where(weights > 0, weights * rho(loss, r), 0.0), axis=-1)
