"""Performance against reinforcement-learning compute: a saturating sigmoid (Khatri et al. 2025).

.. math::

    R(C) = R_0 + \\frac{A - R_0}{1 + (C_{mid} / C)^{B}}

R is the expected reward (e.g. mean pass rate on held-out prompts) after RL compute C (the paper
counts GPU-hours), R_0 its initial value, A the asymptotic performance, B the scaling exponent
(efficiency) and C_mid the compute at which half of the gain A - R_0 is reached.

Reference: Khatri et al. (2025), "The Art of Scaling Reinforcement Learning Compute for LLMs"
(ScaleRL, arXiv:2510.13786).

Differences from LAWS.md: none in the form. The paper leaves the early, noisy part of training
(about the first 1.5k GPU-hours) out of the fit; drop those rows. It is the `sigmoid_compute` curve
(floor = R_0, ceil = A, k = B, c0 = log C_mid) with C_mid on the compute scale. Fitted on linear
residuals by least squares, with C_mid and B as logs.

Source check: the abstract and summaries of the paper were retrieved in the session that wrote
this module (they confirm the roles of A, B and C_mid and the fit window); the equation is
LAWS.md's.
"""

from __future__ import annotations

import jax
import numpy as np

from .base import EstimatorRecipe, LawFamily, Parameter


def _linear_predict(theta, z):
    a, b, log_cmid, r0 = theta[0], jax.numpy.exp(theta[1]), theta[2], theta[3]
    return r0 + (a - r0) * jax.nn.sigmoid(b * (z[:, 0] - log_cmid))


rl_sigmoid = LawFamily(
    name="rl_sigmoid",
    formula="R(C) = R0 + (A - R0) / (1 + (C_mid / C)^B)",
    reference=(
        "Khatri et al. 2025, 'The Art of Scaling Reinforcement Learning Compute for LLMs' "
        "(arXiv:2510.13786)"
    ),
    description="Reward (pass rate) against RL training compute, saturating at A.",
    notes=(
        "A: asymptotic reward; B: efficiency exponent; C_mid: compute at half the gain. Drop the "
        "earliest low-compute points as the paper does. Linear residuals, squared error."
    ),
    inputs=("C",),
    parameters=(
        Parameter(name="A", realistic=(0.5, 0.8), init=(0.4, 0.6, 0.8, 1.0), description="asymptotic reward"),
        Parameter(name="B", realistic=(1.0, 3.0), transform="log", fit_name="log B", init=(-0.7, 0.0, 0.7),
                  description="scaling exponent"),
        Parameter(name="C_mid", realistic=(2e3, 2e4), transform="log", fit_name="log C_mid",
                  init=(2.0, 4.0, 6.0, 8.0, 10.0, 12.0), description="compute at half the gain"),
        Parameter(name="R0", realistic=(0.0, 0.3), init=(0.0, 0.2, 0.4), description="reward before RL"),
    ),
    linear_predict=_linear_predict,
    prepare=np.log,
    default_estimator=EstimatorRecipe(loss="squared", space="linear"),
)
FAMILIES = (rl_sigmoid,)
