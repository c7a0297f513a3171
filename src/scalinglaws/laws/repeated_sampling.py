"""Coverage against the number of samples: an exponentiated power law (Brown et al. 2024).

.. math::

    \\mathrm{coverage}(k) = \\exp(a \\, k^{b}), \\qquad a < 0, \\; b < 0

Coverage is the fraction of problems solved by at least one of k independent samples (pass@k).
log coverage is a power law in k that rises to 0, so coverage rises to 1.

Reference: Brown, Juravsky, Ehrlich, Clark, Le, Ré, Mirhoseini (2024), "Large Language Monkeys:
Scaling Inference Compute with Repeated Sampling" (arXiv:2407.21787).

Differences from LAWS.md: none. Fitted as log coverage = a k^b, least squares on log residuals
(the law is a power law in log coverage); a coverage of 0 has no log: drop those rows or fit on
linear residuals (``estimator: {space: linear}``). a and b are fitted as they are (negative), no
transform.

Source check: the paper's text could not be retrieved in the session that wrote this module; the
form is LAWS.md's and the paper's as we know it.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .base import EstimatorRecipe, LawFamily, Parameter


def _log_predict_and_jac(theta, z):
    a, b = theta[0], theta[1]
    kb = jnp.exp(b * z[:, 0])
    return a * kb, jnp.stack([kb, a * kb * z[:, 0]], axis=1)


repeated_sampling = LawFamily(
    name="repeated_sampling",
    formula="coverage(k) = exp(a k^b), a < 0, b < 0",
    reference=(
        "Brown et al. 2024, 'Large Language Monkeys: Scaling Inference Compute with Repeated "
        "Sampling' (arXiv:2407.21787)"
    ),
    description="Fraction of problems solved by at least one of k samples (pass@k).",
    notes=(
        "log coverage = a k^b: least squares on log residuals. Zero coverages need "
        "`space: linear`."
    ),
    inputs=("k",),
    parameters=(
        Parameter(name="a", realistic=(-5.0, -0.5), init=(-0.5, -1.0, -2.0, -4.0, -8.0),
                  description="log coverage at k = 1 (negative)"),
        Parameter(name="b", init=(-0.1, -0.25, -0.5, -1.0), description="exponent of k (negative)",
                  realistic=(-0.6, -0.1)),
    ),
    log_predict=lambda theta, z: _log_predict_and_jac(theta, z)[0],
    log_predict_and_jac=_log_predict_and_jac,
    prepare=np.log,
    default_estimator=EstimatorRecipe(loss="squared"),
)
FAMILIES = (repeated_sampling,)
