"""The core's view of a law: pure functions of a flat parameter vector and an input matrix."""

from __future__ import annotations

from typing import Callable, NamedTuple, Optional

import jax
import jax.numpy as jnp

Array = jax.Array
PredictFn = Callable[[Array, Array], Array]
PredictJacFn = Callable[[Array, Array], "tuple[Array, Array]"]


class Model(NamedTuple):
    """What the core fits.

    ``f(theta, x)`` maps a flat parameter vector ``theta`` (P,) in the fitting space and inputs
    ``x`` (n, k) to predictions (n,) in the residual space (log loss for log residuals).
    ``f_and_jac``, when given, returns the predictions and the Jacobian (n, P) in one pass; laws
    with a cheap analytic Jacobian (Chinchilla's log-sum-exp form) use it, others get forward mode.

    The tuple is hashable (functions hash by identity), so it is a static argument of the jitted
    solvers: one compilation per law and data shape.
    """

    f: PredictFn
    f_and_jac: Optional[PredictJacFn] = None


def predict_and_jacobian(model: Model, theta: Array, x: Array) -> tuple[Array, Array]:
    """Predictions and Jacobian, analytic when the model offers it, forward mode otherwise."""
    if model.f_and_jac is not None:
        return model.f_and_jac(theta, x)
    y = model.f(theta, x)
    jac = jax.jacfwd(model.f, argnums=0)(theta, x)
    return y, jnp.reshape(jac, (y.shape[0], theta.shape[0]))
