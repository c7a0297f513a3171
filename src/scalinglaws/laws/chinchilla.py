"""Chinchilla's parametric loss (Hoffmann et al. 2022, approach 3)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .base import LawFamily, Parameter

# Realistic values (for simulation and property tests): published fits have E ~ 1.7-1.9, A and B in
# the hundreds to thousands and exponents 0.25-0.45 (Hoffmann et al. 2022; Besiroglu et al. 2024).
CHINCHILLA_GRID = {
    # Besiroglu et al. 2024 (and Hoffmann et al. 2022): 6 x 5 x 5 x 6 x 5 = 4500 starts.
    "e": tuple(np.arange(-1.0, 1.0 + 1e-9, 0.5)),
    "a": tuple(np.arange(0.0, 25.0 + 1e-9, 5.0)),
    "b": tuple(np.arange(0.0, 25.0 + 1e-9, 5.0)),
    "alpha": tuple(np.arange(0.0, 2.0 + 1e-9, 0.5)),
    "beta": tuple(np.arange(0.0, 2.0 + 1e-9, 0.5)),
}


def log_predict(theta, z):
    """log L = LSE(e, a - alpha log N, b - beta log D) with z = (log N, log D)."""
    return jnp.logaddexp(jnp.logaddexp(theta[0], theta[1] - theta[3] * z[:, 0]),
                         theta[2] - theta[4] * z[:, 1])


def log_predict_and_jac(theta, z):
    """log L and its Jacobian in one pass: the Jacobian of a log-sum-exp is its softmax weights.

    With u = (e, a - alpha log N, b - beta log D), m = max(u) per point, t_i = exp(u_i - m) and
    L' = t_1 + t_2 + t_3: log L = m + log L', and the weights w_i = t_i / L' give the Jacobian
    (w_1, w_2, w_3, -log N w_2, -log D w_3). The max-shift keeps it exact and overflow-free from
    any parameters (the same arithmetic as a log-sum-exp).

    Why written term by term on (n,) vectors instead of stacking the terms into an (n, 3) array
    and reducing over its last axis (max, sum, then slicing the weights back out): with the same
    three exponentials per point, the stacked form made the warm default Chinchilla fit (4500
    starts, 240 points, ``core.fit``; 2 CPU cores) take about 88 ms, this form 63 ms. The stack
    and its row reductions, not the exponentials, were the overhead inside the core's fused pass
    over the points (``core.lm.evaluate``). Dropping the shift as well (t_i = exp(u_i), exp(e)
    once per start) saves one exponential per point (about 59 ms) but gives inf or log 0 once an
    exponent leaves about +-709, which trial steps from the 4500-point grid may reach.
    """
    log_n, log_d = z[:, 0], z[:, 1]
    u1 = theta[0]
    u2 = theta[1] - theta[3] * log_n
    u3 = theta[2] - theta[4] * log_d
    m = jnp.maximum(jnp.maximum(u1, u2), u3)
    t1 = jnp.exp(u1 - m)
    t2 = jnp.exp(u2 - m)
    t3 = jnp.exp(u3 - m)
    total = t1 + t2 + t3
    y = m + jnp.log(total)
    inv = 1.0 / total
    w1, w2, w3 = t1 * inv, t2 * inv, t3 * inv
    jac = jnp.stack([w1, w2, w3, -log_n * w2, -log_d * w3], axis=1)
    return y, jac


def _log_inputs(x):
    return np.log(x)


chinchilla = LawFamily(
    name="chinchilla",
    formula="L(N, D) = E + A / N^alpha + B / D^beta",
    reference=(
        "Hoffmann et al. 2022, 'Training Compute-Optimal Large Language Models' (approach 3); "
        "Besiroglu et al. 2024, 'Chinchilla Scaling: A replication attempt'"
    ),
    description="Loss of a language model with N parameters trained on D tokens.",
    notes=(
        "Fitted as log L = LSE(e, a - alpha log N, b - beta log D) with E = exp(e), A = exp(a), "
        "B = exp(b). Default recipe: Huber (delta 1e-3) on log residuals summed over points, "
        "4500-point initialisation grid."
    ),
    inputs=("N", "D"),
    parameters=(
        Parameter(name="E", transform="log", fit_name="e", init=CHINCHILLA_GRID["e"],
                  realistic=(1.5, 2.0), description="irreducible loss"),
        Parameter(name="A", transform="log", fit_name="a", init=CHINCHILLA_GRID["a"],
                  realistic=(200.0, 2000.0), description="scale of the parameter term"),
        Parameter(name="B", transform="log", fit_name="b", init=CHINCHILLA_GRID["b"],
                  realistic=(200.0, 3000.0), description="scale of the data term"),
        Parameter(name="alpha", init=CHINCHILLA_GRID["alpha"], realistic=(0.25, 0.45),
                  description="exponent of N"),
        Parameter(name="beta", init=CHINCHILLA_GRID["beta"], realistic=(0.25, 0.45),
                  description="exponent of D"),
    ),
    log_predict=log_predict,
    log_predict_and_jac=log_predict_and_jac,
    prepare=_log_inputs,
    default_estimator={"loss": "huber", "delta": 1e-3, "space": "log"},
)
FAMILIES = (chinchilla,)
