"""Diagnostics of a multi-start robust fit: pure functions of arrays, and a host-side summary.

:func:`summarise` returns a JSON-ready dict (``FitResult.diagnostics``) with:

* ``converged`` and ``reason``: why the best start stopped (:class:`Reason`, with a human
  message, optimistix-style);
* ``n_at_best`` / ``n_polished``: how many polished starts reached the best objective (within
  ``AT_BEST_RTOL``); few means the optimum was found by luck of the grid;
* ``at_range``: parameters at or beyond their stated range (``realistic`` or the init range);
* ``condition``, ``max_correlation``: the condition number of the Gauss-Newton Hessian of the
  objective at the optimum (all points, J^T W J: the matrix of the linearised least squares,
  defined even when few points are in Huber's quadratic region) and the most correlated
  parameter pair of its inverse (the shape of the parameter covariance). alpha and beta of a
  Chinchilla fit with few model sizes, or A and alpha traded against each other, show up here;
* ``residuals``: median and max |r|, and the share of points outside the loss's quadratic region
  (Huber: |r| > delta; those points only pull with constant force, and Hessian standard errors
  rest on the others; 0 for losses without one);
* ``warnings``: the human-readable lines a report shows.
"""

from __future__ import annotations

import enum
from typing import Any, Dict, Optional, Sequence

import jax.numpy as jnp
import numpy as np

from ._jit import jit
from .model import Model, predict_and_jacobian
from .objectives import Loss, curvature_weights, loss_kind

# Heuristic thresholds. In the log-sum-exp parametrisation an intercept and its exponent (b and
# beta: b - beta log D with log D ~ 25, far from 0) correlate at ~0.999 on any Chinchilla design
# (0.9994 on the Besiroglu data, condition ~8e4); a design with too narrow a range of model sizes
# gives 0.99996 and conditions of ~1e6 and beyond.
CONDITION_WARN = 1e6  # condition number of the correlation form of J^T W J
CORRELATION_WARN = 0.9999
FEW_AT_BEST = 2  # fewer polished starts at the optimum than this: warn
LINEAR_SHARE_WARN = 0.5


class Reason(enum.Enum):
    """Why the best start stopped; ``value`` is the code, ``message`` the explanation."""

    successful = "converged: the relative decrease of the objective fell below ftol"
    gradient = "converged: the gradient norm fell below gtol"
    max_steps = ("the iteration cap was reached before convergence; increase `max_iter` or "
                 "check the parametrisation")
    nonfinite = "the objective became non-finite (check for zeros where logs are taken)"
    stalled = "no descent step could be found (damping overflowed); the point may be a kink"

    @property
    def message(self) -> str:
        return self.value


_OPTAX_REASONS = {1: Reason.successful, 2: Reason.gradient, 3: Reason.max_steps,
                  4: Reason.nonfinite, 5: Reason.stalled}


def reason_from_optax(code: int) -> Reason:
    return _OPTAX_REASONS.get(int(code), Reason.max_steps)


def reason_from_lm(converged: bool, iterations: int, max_iter: int, value: float) -> Reason:
    if not np.isfinite(value):
        return Reason.nonfinite
    if converged:
        return Reason.successful
    return Reason.max_steps if iterations >= max_iter else Reason.stalled


def local_curvature(model: Model, theta, x, target, weights, loss: Loss):
    """(J^T W J (all points, IRLS weights), residuals r, share of points in the linear region).

    Pure; jit-compatible. IRLS weights (psi(r)/r) keep every point's direction in the matrix, so
    it measures identifiability from the design, not only from the points near the fit.
    """
    y, jac = predict_and_jacobian(model, theta, x)
    live = weights > 0
    r = jnp.where(live, y - target, 0.0)
    jac = jnp.where(live[:, None], jac, 0.0)
    c = weights * curvature_weights(loss, r, "irls")
    h = jac.T @ (c[:, None] * jac)
    n = jnp.maximum(jnp.sum(live), 1)
    quadratic = loss_kind(loss.kind).quadratic_region(loss, r)
    linear = 0.0 * n if quadratic is None else jnp.sum(live & ~quadratic) / n
    return h, r, linear


_curvature_jit = jit(local_curvature, static_argnames=("model", "loss"))


def condition_and_correlation(h: np.ndarray, names: Sequence[str]):
    """Condition number of the scaled matrix and the most correlated parameter pair of h^-1.

    The matrix is scaled to unit diagonal first (condition of the correlation form), so
    parameters in different units do not inflate it.
    """
    h = np.asarray(h, dtype=np.float64)
    p = h.shape[0]
    d = np.sqrt(np.maximum(np.diag(h), 1e-300))
    hs = h / np.outer(d, d)
    cond = float(np.linalg.cond(hs))
    pair, corr = None, 0.0
    try:
        cov = np.linalg.inv(hs)
        s = np.sqrt(np.abs(np.diag(cov)))
        corr_m = cov / np.outer(s, s)
        for i in range(p):
            for j in range(i + 1, p):
                if np.isfinite(corr_m[i, j]) and abs(corr_m[i, j]) > abs(corr):
                    pair, corr = (names[i], names[j]), float(corr_m[i, j])
    except np.linalg.LinAlgError:
        cond = float("inf")
    return cond, pair, corr


def starts_message(n_at_best: int, n_polished: int) -> Optional[str]:
    if n_at_best < FEW_AT_BEST:
        return (f"only {n_at_best} of {n_polished} polished starts reached the best objective: the "
                "optimum may depend on the starting grid. Try `schedule: full`, `starts: sobol` "
                "with more points, or `starts: varpro`.")
    return None


def summarise(*, model: Model, theta, x, target, weights, loss: Loss, param_names: Sequence[str],
              natural: Dict[str, float], ranges: Dict[str, tuple], reason: Reason,
              n_at_best: int, n_polished: int, iterations: int) -> Dict[str, Any]:
    """The host-side diagnostics dict of one fit (see module doc)."""
    theta = jnp.asarray(theta)
    x = np.asarray(x, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    weights = np.ones_like(target) if weights is None else np.asarray(weights, dtype=np.float64)
    # Pad the points to a power of two (zero weight, copies of the first row): one compilation
    # per size bucket instead of one per data size (sweeps fit many sizes; ~0.5 s each).
    n = len(target)
    size = max(16, 1 << (n - 1).bit_length())
    pad = size - n
    if pad:
        x = np.concatenate([x, np.repeat(x[:1], pad, axis=0)])
        target = np.concatenate([target, np.repeat(target[:1], pad)])
        weights = np.concatenate([weights, np.zeros(pad)])
    h, r, linear = _curvature_jit(model, theta, jnp.asarray(x), jnp.asarray(target),
                                  jnp.asarray(weights), loss=loss)
    r = np.asarray(r)[:n]
    weights = weights[:n]
    cond, pair, corr = condition_and_correlation(np.asarray(h), param_names)
    live = np.asarray(weights) > 0
    absr = np.abs(np.asarray(r))[live]
    warnings = []
    if reason not in (Reason.successful, Reason.gradient):
        warnings.append(f"the best start did not converge: {reason.message}")
    msg = starts_message(n_at_best, n_polished)
    if msg:
        warnings.append(msg)
    at_range: dict = {}
    for name, (lo, hi) in ranges.items():
        v = natural.get(name)
        if v is None or lo is None or hi is None:
            continue
        if v <= lo or v >= hi:
            at_range[name] = {"value": float(v), "range": [float(lo), float(hi)]}
    if at_range:
        warnings.append("parameters at or beyond their stated range: " + ", ".join(
            f"{k}={v['value']:.4g} (range {v['range'][0]:.4g}-{v['range'][1]:.4g})"
            for k, v in at_range.items()))
    if not np.isfinite(cond) or cond > CONDITION_WARN or abs(corr) > CORRELATION_WARN:
        detail = f"; {pair[0]} and {pair[1]} correlate at {corr:+.4f}" if pair else ""
        warnings.append(f"parameters may not be identifiable: condition number {cond:.3g} of the "
                        f"Gauss-Newton Hessian{detail}. Fix a parameter, add runs that vary "
                        "the inputs more, or report bootstrap intervals.")
    share = float(linear)
    if share > LINEAR_SHARE_WARN:
        warnings.append(f"{share:.0%} of points are in the linear region of the loss, "
                        f"{loss_kind(loss.kind).describe(loss)}: Hessian standard errors rest on "
                        "the rest; prefer the bootstrap.")
    return {
        "converged": reason in (Reason.successful, Reason.gradient),
        "reason": reason.name,
        "message": reason.message,
        "iterations": int(iterations),
        "n_at_best": int(n_at_best),
        "n_polished": int(n_polished),
        "at_range": at_range,
        "condition": cond,
        "max_correlation": {"pair": list(pair) if pair else None, "value": corr},
        "residuals": {"median_abs": float(np.median(absr)) if absr.size else 0.0,
                      "max_abs": float(np.max(absr)) if absr.size else 0.0,
                      "share_linear_region": share},
        "warnings": warnings,
    }
