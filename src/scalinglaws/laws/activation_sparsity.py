"""Activation ratio of LLMs against training data: the Sparsing Law (Luo et al. 2024).

The activation ratio A (1 - sparsity ratio, measured with the paper's PPL-p% metric) of a model
evolves with the number of training tokens D in opposite directions for the two activation
functions the paper studies, so there are two families:

``activation_sparsity_silu`` -- a convergent increasing power law:

.. math::

    A(D) = A_0 - \\frac{c}{D^{\\alpha}}

``activation_sparsity_relu`` -- a decreasing "logspace" power law (log(A - A_0) is a power law
in D with a negative sign):

.. math::

    A(D) = \\exp(-c \\, D^{\\alpha} + b) + A_0

A_0 is the limit activation ratio with unlimited data (c, alpha > 0 in both).

Reference: Luo, Song, Han, Chen, Xiao, Liu, Sun (2024), "Sparsing Law: Towards Large Language
Models with Greater Activation Sparsity" (arXiv:2411.02335).

Differences from LAWS.md: LAWS.md gives the SiLU form as A0 - c D^-alpha (the same) and names the
ReLU form without a formula; the ReLU formula above is the paper's as we read it. The equations
could not be re-read from the paper text in this session (only its abstract was reachable), so
check them against Section 5 of the paper before relying on the fitted constants. D may be in any
unit (tokens, billions of tokens): c absorbs it. Both are fitted by least squares on linear
residuals (A is a ratio in (0, 1)).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .base import EstimatorRecipe, LawFamily, Parameter

REFERENCE = (
    "Luo et al. 2024, 'Sparsing Law: Towards Large Language Models with Greater Activation "
    "Sparsity' (arXiv:2411.02335)"
)


def _silu(theta, z):
    a0, log_c, alpha = theta[0], theta[1], jnp.exp(theta[2])
    return a0 - jnp.exp(log_c - alpha * z[:, 0])


def _relu(theta, z):
    a0, log_c, alpha, b = theta[0], theta[1], jnp.exp(theta[2]), theta[3]
    return jnp.exp(b - jnp.exp(log_c + alpha * z[:, 0])) + a0


activation_sparsity_silu = LawFamily(
    name="activation_sparsity_silu",
    formula="A(D) = A0 - c / D^alpha",
    reference=REFERENCE,
    description=(
        "Activation ratio of a SiLU-activated LLM against training tokens D: rises towards A0."
    ),
    notes="c and alpha are fitted as logs. Linear residuals, squared error.",
    inputs=("D",),
    parameters=(
        Parameter(name="A0", init=(0.2, 0.4, 0.6), realistic=(0.3, 0.5),
                  description="limit activation ratio"),
        Parameter(name="c", transform="log", fit_name="log c", init=(-2.0, 0.0, 2.0, 4.0, 6.0),
                  realistic=(0.4, 1e3), description="scale (in units of D^alpha, D in tokens)"),
        Parameter(name="alpha", transform="log", fit_name="log alpha",
                  init=(-2.5, -1.5, -0.5, 0.5), realistic=(0.1, 0.4), description="exponent of D"),
    ),
    linear_predict=_silu,
    prepare=np.log,
    default_estimator=EstimatorRecipe(loss="squared", space="linear"),
)

activation_sparsity_relu = LawFamily(
    name="activation_sparsity_relu",
    formula="A(D) = exp(-c D^alpha + b) + A0",
    reference=REFERENCE,
    description=(
        "Activation ratio of a ReLU-activated LLM against training tokens D: falls towards A0, "
        "log(A - A0) following a power law in D."
    ),
    notes="c and alpha are fitted as logs. Linear residuals, squared error.",
    inputs=("D",),
    parameters=(
        Parameter(name="A0", init=(0.05, 0.2, 0.4), realistic=(0.05, 0.15),
                  description="limit activation ratio"),
        Parameter(name="c", transform="log", fit_name="log c", init=(-6.0, -4.0, -2.0, 0.0),
                  realistic=(3e-6, 0.2), description="scale of D^alpha (D in tokens)"),
        Parameter(name="alpha", transform="log", fit_name="log alpha",
                  init=(-2.5, -1.5, -0.5), realistic=(0.2, 0.5), description="exponent of D"),
        Parameter(name="b", init=(-3.0, -1.5, 0.0), realistic=(-2.0, -0.5),
                  description="offset of the log excess"),
    ),
    linear_predict=_relu,
    prepare=np.log,
    default_estimator=EstimatorRecipe(loss="squared", space="linear"),
)

FAMILIES = (activation_sparsity_silu, activation_sparsity_relu)
