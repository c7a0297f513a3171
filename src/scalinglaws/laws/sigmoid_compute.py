"""Benchmark accuracy as a sigmoid in log compute.

.. math::

    \\mathrm{acc}(C) = \\mathrm{floor} + (\\mathrm{ceil} - \\mathrm{floor}) \\,
        \\sigma\\big(k (\\log C - c_0)\\big)

sigma is the logistic function and log the natural logarithm: c0 is the log compute at the
midpoint between floor (chance accuracy) and ceil (the saturating accuracy), k the steepness per
e-fold of compute.

Reference: no single paper; common practice for downstream accuracy, discussed by Schaeffer et al.
(2024), "Why Has Predicting Downstream Capabilities of Frontier AI Models with Scale Remained
Elusive?" (arXiv:2406.04391) and Hu et al. (2024), "Unlock Predictable Scaling from Emergent
Abilities" (PassUntil), which explain why accuracy is harder to predict than loss.

Differences from LAWS.md: none; LAWS.md's formula is implemented as written (it has no single
source paper to check against). `rl_sigmoid` is the same curve parametrised by the compute at the
midpoint, C_mid = exp(c0), and exponent B = k.
"""

from __future__ import annotations

import jax
import numpy as np

from .base import EstimatorRecipe, LawFamily, Parameter


def _linear_predict(theta, z):
    floor, ceil, k, c0 = theta[0], theta[1], jax.numpy.exp(theta[2]), theta[3]
    return floor + (ceil - floor) * jax.nn.sigmoid(k * (z[:, 0] - c0))


sigmoid_compute = LawFamily(
    name="sigmoid_compute",
    formula="acc = floor + (ceil - floor) sigmoid(k (log C - c0))",
    reference=(
        "Common practice; see Schaeffer et al. 2024, 'Why Has Predicting Downstream Capabilities "
        "of Frontier AI Models with Scale Remained Elusive?' and Hu et al. 2024, 'Unlock "
        "Predictable Scaling from Emergent Abilities' (PassUntil)"
    ),
    description="Benchmark accuracy against training compute C, saturating at both ends.",
    notes=(
        "log is natural: c0 = log of the compute at the midpoint (log 1e21 = 48.4). k is fitted "
        "as a log. Linear residuals, squared error. Fix `floor` at chance accuracy when the data "
        "do not reach the lower plateau."
    ),
    inputs=("C",),
    parameters=(
        Parameter(name="floor", init=(0.0, 0.25), description="accuracy at low compute (chance)",
                  realistic=(0.2, 0.3)),
        Parameter(name="ceil", init=(0.6, 0.8, 1.0), description="accuracy at high compute",
                  realistic=(0.6, 0.95)),
        Parameter(name="k", transform="log", fit_name="log k", init=(-1.5, -0.75, 0.0, 0.75),
                  realistic=(0.5, 2.0),
                  description="steepness per e-fold of compute"),
        Parameter(name="c0", realistic=(46.0, 53.0), init=(35.0, 40.0, 45.0, 50.0, 55.0, 60.0, 65.0),
                  description="natural log of the compute at the midpoint"),
    ),
    linear_predict=_linear_predict,
    prepare=np.log,
    default_estimator=EstimatorRecipe(loss="squared", space="linear"),
)
FAMILIES = (sigmoid_compute,)
