"""Power law plus constant in one scale variable."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .base import PUBLISHED_HUBER, LawFamily, Parameter


def log_predict(theta, z):
    """log L = LSE(e, a - alpha log x) with z = log x."""
    return jnp.logaddexp(theta[0], theta[1] - theta[2] * z[:, 0])


def log_predict_and_jac(theta, z):
    t1 = theta[1] - theta[2] * z[:, 0]
    y = jnp.logaddexp(theta[0], t1)
    s_e = jnp.exp(theta[0] - y)
    s_a = jnp.exp(t1 - y)
    return y, jnp.stack([s_e, s_a, -z[:, 0] * s_a], axis=1)


power_law = LawFamily(
    name="power_law",
    formula="L(x) = E + A / x^alpha",
    reference=(
        "Hestness et al. 2017, 'Deep Learning Scaling is Predictable, Empirically'; Henighan et al. "
        "2020, 'Scaling Laws for Autoregressive Generative Modeling'"
    ),
    description="Loss against one scale variable x (parameters, tokens, compute or steps).",
    notes="Fitted as log L = LSE(e, a - alpha log x); map x to a column with `inputs: {x: C}`.",
    inputs=("x",),
    parameters=(
        Parameter(name="E", transform="log", fit_name="e", init=(-1.0, -0.5, 0.0, 0.5, 1.0),
                  realistic=(0.5, 3.0), description="irreducible loss"),
        Parameter(name="A", transform="log", fit_name="a", init=tuple(np.arange(0.0, 25.1, 5.0)),
                  realistic=(5.0, 500.0), description="scale"),
        Parameter(name="alpha", init=(0.0, 0.25, 0.5, 1.0, 1.5), realistic=(0.1, 0.8),
                  description="exponent"),
    ),
    log_predict=log_predict,
    log_predict_and_jac=log_predict_and_jac,
    prepare=np.log,
    default_estimator=PUBLISHED_HUBER,
)
FAMILIES = (power_law,)
