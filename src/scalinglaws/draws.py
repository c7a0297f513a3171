"""Parameter draws pushed through a law: the one place where a set of fitted parameter vectors
(bootstrap resamples, posterior draws, or a single optimum) becomes predictions.

Draws travel in the law's *fitting space* (``theta``, as the estimator fits it: ``log E`` for E),
one row per draw, so that a draw whose natural value underflows (E = exp(-800) = 0) still
predicts exactly. Every task that needs predictions under uncertainty (predict, allocate,
compare, evaluate, the report's confidence bands) calls :func:`predict_draws`; the prediction is
``jit(vmap(family.predict_fn("linear")))``, compiled once per family and input shape.
"""

from __future__ import annotations

import functools
from typing import Any, Dict, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from .core import enable_float64


def predict_draws(family, thetas, inputs: Mapping[str, Any], *, space: str = "linear"
                  ) -> np.ndarray:
    """(B, n) predictions of ``family`` for each row of ``thetas`` (B, P) at ``inputs``
    (input name -> (n,) values shared by every draw, or (B, n) values, one row per draw);
    ``space="log"`` gives the log prediction (exact where the prediction underflows)."""
    enable_float64()
    thetas = np.atleast_2d(np.asarray(thetas, dtype=np.float64))
    cols = [np.asarray(inputs[n], dtype=np.float64) for n in family.inputs]
    per_draw = any(c.ndim == 2 for c in cols)
    if per_draw:
        cols = [np.broadcast_to(c, (len(thetas), c.shape[-1])) for c in cols]
        x = np.stack(cols, axis=-1)
        z = jnp.asarray(np.asarray(family.prepare(x.reshape(-1, x.shape[-1]))).reshape(x.shape))
    else:
        z = jnp.asarray(family.prepare(np.column_stack(cols)))
    return np.asarray(_vmapped(family, per_draw, space)(jnp.asarray(thetas), z))


def predict_theta(family, theta, inputs: Mapping[str, Any]) -> np.ndarray:
    """(n,) prediction at one fitting-space parameter vector (exact where a natural value
    underflows)."""
    return predict_draws(family, np.asarray(theta)[None], inputs)[0]


@functools.cache
def _vmapped(family, per_draw_inputs: bool, space: str):
    """jit(vmap(predict)) over parameter rows (and input rows), compiled once per shape."""
    fn = family.predict_fn(space)
    return jax.jit(jax.vmap(fn, in_axes=(0, 0 if per_draw_inputs else None)))


def thetas_from_natural(family, draws: Mapping[str, Any]) -> np.ndarray:
    """{natural name: (B,)} -> (B, P) fitting-space rows (the inverse of
    :func:`natural_from_thetas`), vectorised over draws."""
    columns = [np.asarray(_to_fit(p, np.asarray(draws[p.name if p.name in draws else p.copy_of],
                                                dtype=np.float64)))
               for p in family.parameters]
    return np.column_stack(columns) if columns else np.zeros((0, 0))


def _to_fit(p, v: np.ndarray) -> np.ndarray:
    if p.transform == "log":
        with np.errstate(divide="ignore"):
            return np.log(v)
    if p.transform in ("logit", "bounded"):
        lo, hi = (0.0, 1.0) if p.transform == "logit" else (p.lower, p.upper)
        u = (v - lo) / (hi - lo)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(u) - np.log1p(-u)
    return v


def natural_from_thetas(family, thetas) -> Dict[str, np.ndarray]:
    """(B, P) fitting-space draws -> {natural name: (B,)}, tied names included."""
    thetas = np.atleast_2d(np.asarray(thetas, dtype=np.float64))
    out = {p.name: np.asarray(p.to_natural(thetas[:, i]), dtype=float)
           for i, p in enumerate(family.parameters)}
    out.update({t: out[s] for t, s in family.aliases.items() if s in out})
    return out


__all__ = ["predict_draws", "predict_theta", "thetas_from_natural", "natural_from_thetas"]
