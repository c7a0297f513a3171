"""Chinchilla's parametric loss (Hoffmann et al. 2022, approach 3).

Besides the prediction, the family declares what follows from its form: its linear structure
(L is linear in E, A, B once alpha, beta are fixed: variable-projection starts), the derived
quantities a, b, G of Hoffmann et al. (2022), eq. 4, and the closed-form compute-optimal allocation.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ..core.varpro import LOG_FLOOR, LinearStructure
from .base import PUBLISHED_HUBER, LawFamily, Parameter

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


def _terms(theta, z):
    e, a, b, alpha, beta = theta[0], theta[1], theta[2], theta[3], theta[4]
    log_n, log_d = z[:, 0], z[:, 1]
    return jnp.stack([jnp.broadcast_to(e, log_n.shape), a - alpha * log_n, b - beta * log_d], axis=1)


def log_predict(theta, z):
    """log L = LSE(e, a - alpha log N, b - beta log D) with z = (log N, log D)."""
    return jnp.logaddexp(jnp.logaddexp(theta[0], theta[1] - theta[3] * z[:, 0]),
                         theta[2] - theta[4] * z[:, 1])


def log_predict_and_jac(theta, z):
    """The Jacobian of a log-sum-exp is its softmax weights: one pass gives both."""
    t = _terms(theta, z)
    y = jnp.max(t, axis=1)
    s = jnp.exp(t - y[:, None])
    total = jnp.sum(s, axis=1)
    y = y + jnp.log(total)
    s = s / total[:, None]
    jac = jnp.stack([s[:, 0], s[:, 1], s[:, 2], -z[:, 0] * s[:, 1], -z[:, 1] * s[:, 2]], axis=1)
    return y, jac


def _log_inputs(x):
    return np.log(x)


def _basis(nl, z):
    """Columns (1, N^-alpha, D^-beta) of E, A, B at nonlinear parameters nl = (alpha, beta)."""
    ones = jnp.ones_like(z[:, 0])
    return jnp.stack([ones, jnp.exp(-nl[0] * z[:, 0]), jnp.exp(-nl[1] * z[:, 1])], axis=1)


def _to_theta(nl, coef):
    logs = jnp.log(jnp.maximum(coef, jnp.exp(LOG_FLOOR)))
    return jnp.concatenate([logs, nl])


# Variable projection's grid: alpha, beta each on 0.05, 0.075, ..., 1.5 (59 x 59 pairs).
_EXPONENTS = tuple(np.round(np.arange(0.05, 1.5 + 1e-9, 0.025), 6))
LINEAR_STRUCTURE = LinearStructure(nonlinear=("alpha", "beta"), basis=_basis, to_theta=_to_theta,
                                   axes=(_EXPONENTS, _EXPONENTS))


def derived(p):
    """a = beta / (alpha + beta), b = alpha / (alpha + beta) and G = (alpha A / (beta B))^(1 /
    (alpha + beta)) (Hoffmann et al. 2022, eq. 4), from floats or arrays (NumPy or JAX) of
    alpha, beta, A, B."""
    alpha, beta, A, B = p["alpha"], p["beta"], p["A"], p["B"]
    s = alpha + beta
    return {"a": beta / s, "b": alpha / s, "G": (alpha * A / (beta * B)) ** (1.0 / s)}


def allocation(p, budgets):
    """N_opt = G (C/6)^a, D_opt = G^-1 (C/6)^b and tokens per parameter at compute ``budgets``
    (C = 6 N D), broadcast: parameters of shape (B,) and budgets (K,) give (B, K). NumPy or JAX."""
    d = derived(p)
    c6 = np.asarray(budgets, dtype=float) / 6.0
    # (B,) parameters meet (K,) budgets on a new last axis; scalars broadcast as they are
    a, b, g = (d[k][..., None] if np.ndim(d[k]) else d[k] for k in ("a", "b", "G"))
    n_opt = g * c6 ** a
    d_opt = c6 ** b / g
    return {"N_opt": n_opt, "D_opt": d_opt, "tokens_per_param": d_opt / n_opt}


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
    default_estimator=PUBLISHED_HUBER,
    linear_structure=LINEAR_STRUCTURE,
    derived=derived,
    allocation=allocation,
)
FAMILIES = (chinchilla,)
