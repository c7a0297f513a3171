"""Alabdulmohsin et al. (2023): performance against one shape dimension and compute.

.. math::

    f(x, t) = \\alpha x^{-a} + (\\beta x^{b} + \\xi)\\, t^{-c} + \\varepsilon

f is an error (e.g. ImageNet 10-shot error) of a model whose shape dimension x (width, depth or
MLP size) is varied with the others held fixed, trained with compute t; all seven parameters are
positive. With unbounded compute the error falls as a power law in x to :math:`\\varepsilon`; at
finite compute a larger x also needs more compute (:math:`\\beta x^{b}` grows), so for each t
there is an optimal x. Setting :math:`\\partial f / \\partial x = 0` gives the compute-optimal
shape (:func:`optimal_shape`)

.. math::

    x^*(t) = \\left(\\frac{a \\alpha}{b \\beta}\\, t^{c}\\right)^{1/(a + b)} \\propto t^{c / (a + b)},

so shape dimension k should grow with compute with exponent :math:`s_k = c / (a + b)`.

Reference: Alabdulmohsin, Zhai, Kolesnikov, Beyer (2023), "Getting ViT in Shape: Scaling Laws for
Compute-Optimal Model Design" (NeurIPS), arXiv:2305.13035, eq. (2) (one law per shape dimension
k, with :math:`\\alpha_k, a_k, \\beta_k, b_k, c, \\xi_k, \\varepsilon_k > 0`).

Fitted in log space: log f = LSE(log alpha - a log x, log beta + b log x - c log t, log xi - c log
t, log eps), every parameter on the log scale.

Differences from LAWS.md and from the paper:

* LAWS.md gives the paper's eq. (2) for one dimension; nothing to correct. The paper shares c
  across the dimensions of a star sweep (one compute exponent); fit one dimension at a time here,
  or fix c to a shared value.
* The paper's fitting details were not checked; the default is squared error of log f from random
  starts within the init ranges (seven positive parameters make a full grid too large).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax.scipy.special import logsumexp

from .base import EstimatorRecipe, LawFamily, Parameter


def log_predict(theta, z):
    """theta = logs of (alpha, a, beta, b, c, xi, eps); z = (log x, log t)."""
    a, b, c = jnp.exp(theta[1]), jnp.exp(theta[3]), jnp.exp(theta[4])
    log_x, log_t = z[:, 0], z[:, 1]
    terms = jnp.stack([
        theta[0] - a * log_x,
        theta[2] + b * log_x - c * log_t,
        theta[5] - c * log_t,
        jnp.broadcast_to(theta[6], log_x.shape),
    ], axis=1)
    return logsumexp(terms, axis=1)


def optimal_shape(params, t):
    """The compute-optimal x at compute t: (a alpha t^c / (b beta))^(1 / (a + b))."""
    p = params
    t = np.asarray(t, dtype=np.float64)
    return (p["a"] * p["alpha"] * t ** p["c"] / (p["b"] * p["beta"])) ** (1.0 / (p["a"] + p["b"]))


shape = LawFamily(
    name="shape",
    formula="f(x, t) = alpha x^-a + (beta x^b + xi) t^-c + eps",
    reference=("Alabdulmohsin, Zhai, Kolesnikov, Beyer 2023, 'Getting ViT in Shape: Scaling Laws "
               "for Compute-Optimal Model Design' (NeurIPS), arXiv:2305.13035, eq. (2)"),
    description=("Error against one shape dimension x (width, depth, MLP size) and compute t; the "
                 "compute-optimal shape is x*(t) = (a alpha t^c / (b beta))^(1 / (a + b))."),
    notes=("All seven parameters > 0, fitted as logs. Compute-optimal shape: "
           "scalinglaws.laws.shape.optimal_shape(params, t), exponent c / (a + b)."),
    inputs=("x", "t"),
    parameters=(
        Parameter(name="alpha", transform="log", init=(-2.0, 4.0), realistic=(0.5, 5.0),
                  description="scale of x^-a"),
        Parameter(name="a", transform="log", init=(-3.0, 0.5), realistic=(0.3, 1.0),
                  description="exponent of x"),
        Parameter(name="beta", transform="log", init=(-4.0, 4.0), realistic=(0.01, 0.2),
                  description="scale of the compute penalty of x"),
        Parameter(name="b", transform="log", init=(-3.0, 0.5), realistic=(0.3, 1.0),
                  description="exponent of x in the compute term"),
        Parameter(name="c", transform="log", init=(-3.0, 0.0), realistic=(0.3, 0.8),
                  description="exponent of t"),
        Parameter(name="xi", transform="log", init=(-4.0, 2.0), realistic=(0.5, 5.0),
                  description="shape-independent compute term"),
        Parameter(name="eps", transform="log", init=(-4.0, 0.0), realistic=(0.05, 0.3),
                  description="irreducible error"),
    ),
    log_predict=log_predict,
    prepare=np.log,
    default_estimator=EstimatorRecipe(loss="squared", starts="random", n_random=1000),
)
FAMILIES = (shape,)
