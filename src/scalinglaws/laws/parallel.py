"""Chen et al. (2025): the parallel scaling law (ParScale).

.. math::

    L(N, P) = \\left(\\frac{A}{N\\,(k \\log P + 1)}\\right)^{\\alpha} + E

for a model with N parameters run as P parallel streams (P learned input transformations whose
outputs are aggregated; P = 1 is the ordinary model). P streams act like multiplying the
parameters by :math:`k \\log P + 1`, i.e. an O(log P) increase in effective size.

Reference: Chen, Hui, Cui, Yang, Liu, Sun, Lin, Liu (2025), "Parallel Scaling Law for Language
Models", arXiv:2505.10475 (NeurIPS 2025).

Fitted as log L = logaddexp(log E, alpha (log A - log N - log(1 + k log P))) with log P the natural
logarithm (k absorbs the base of any other logarithm: k_2 = k ln 2 for log2).

Differences from LAWS.md and from the paper:

* LAWS.md writes L = A / (N (k log P + 1))^alpha + E, with A outside the power. The paper's law
  puts A inside: ((A / (N (k log P + 1)))^alpha. They are the same family with
  A_LAWS = A_paper^alpha; here A is the paper's (a parameter count, of the order of N).
* The base of the logarithm is not material (see above); natural log here.
* The paper's fitting recipe was not checked; the default is the catalogue's Huber recipe on log
  residuals (Hoffmann et al. 2022, which the paper's law generalises).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .base import PUBLISHED_HUBER, LawFamily, Parameter


def log_predict(theta, z):
    """theta = (log A, log k, alpha, log E); z = (log N, log P)."""
    k = jnp.exp(theta[1])
    log_red = theta[2] * (theta[0] - z[:, 0] - jnp.log1p(k * z[:, 1]))
    return jnp.logaddexp(theta[3], log_red)


parallel = LawFamily(
    name="parallel",
    formula="L(N, P) = (A / (N (k log P + 1)))^alpha + E",
    reference=("Chen et al. 2025, 'Parallel Scaling Law for Language Models', arXiv:2505.10475"),
    description="Loss of a model with N parameters and P parallel streams (ParScale).",
    notes=("A inside the power, as in the paper (LAWS.md's A = A_paper^alpha). Natural log of P; "
           "P = 1 is the plain model. k > 0."),
    inputs=("N", "P"),
    parameters=(
        Parameter(name="A", transform="log", init=(5.0, 10.0, 15.0, 20.0, 25.0),
                  realistic=(1e6, 1e9), description="parameter scale"),
        Parameter(name="k", transform="log", init=(-3.0, -1.5, 0.0, 1.0),
                  realistic=(0.2, 0.8), description="gain per log stream"),
        Parameter(name="alpha", init=(0.05, 0.15, 0.3, 0.6), realistic=(0.1, 0.3),
                  description="exponent"),
        Parameter(name="E", transform="log", fit_name="e", init=(-1.0, -0.5, 0.0, 0.5, 1.0),
                  realistic=(0.8, 2.0), description="irreducible loss"),
    ),
    log_predict=log_predict,
    prepare=np.log,
    default_estimator=PUBLISHED_HUBER,
)
FAMILIES = (parallel,)
