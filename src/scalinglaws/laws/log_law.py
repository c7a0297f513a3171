"""Downstream translation quality against pretraining data size: the log law (Isik et al. 2024).

.. math::

    f(D_p) = \\left(\\log(A \\, D_p^{\\alpha})\\right)^{\\beta}

D_p is the number of pretraining tokens (the model is then fine-tuned on the translation task)
and f a translation-quality score such as BLEU (or COMET, ROUGE). log is the natural logarithm.

Reference: Isik, Ponomareva, Hazimeh, Paparas, Vassilvitskii, Koyejo (2024), "Scaling Laws for
Downstream Task Performance of Large Language Models" (arXiv:2402.04177). The same paper uses a
power law plus constant, L(D_p) = E + A / D_p^alpha, for the downstream cross-entropy: that is
`power_law` with x = D_p.

Differences from LAWS.md: none in the form. The law holds when pretraining and downstream data
are sufficiently aligned; the paper shows BLEU can fluctuate or fall with more pretraining data
when they are not, so a poor fit is itself a finding.

Fitted on linear residuals (squared error: scores may be 0) with A and alpha positive; the
prediction needs log(A D_p^alpha) > 0, i.e. D_p > A^(-1/alpha): steps of the solver that leave
this region are rejected.

Source check: only the paper's abstract could be retrieved in the session that wrote this module
(it confirms the log law for BLEU and the power law for cross-entropy); the equation is LAWS.md's,
as we know the paper.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .base import EstimatorRecipe, LawFamily, Parameter


def _linear_predict(theta, z):
    log_a, alpha, beta = theta[0], jnp.exp(theta[1]), theta[2]
    return (log_a + alpha * z[:, 0]) ** beta


log_law = LawFamily(
    name="log_law",
    formula="f(D_p) = (log(A D_p^alpha))^beta",
    reference=(
        "Isik et al. 2024, 'Scaling Laws for Downstream Task Performance of Large Language "
        "Models' (arXiv:2402.04177)"
    ),
    description=(
        "A downstream quality score (BLEU, COMET) against the pretraining data size D_p of the "
        "fine-tuned model."
    ),
    notes=(
        "Natural log; A and alpha are fitted as logs. Linear residuals, squared error. For the "
        "downstream cross-entropy the paper uses a power law plus constant (`power_law`)."
    ),
    inputs=("D_p",),
    parameters=(
        Parameter(name="A", transform="log", fit_name="log A", init=(-4.0, -2.0, 0.0, 2.0),
                  realistic=(0.007, 1.8),
                  description="scale inside the logarithm"),
        Parameter(name="alpha", realistic=(0.1, 0.4), transform="log", fit_name="log alpha",
                  init=(-3.0, -2.0, -1.0, 0.0), description="exponent of D_p inside the logarithm"),
        Parameter(name="beta", realistic=(0.8, 2.5), init=(0.5, 1.0, 2.0, 3.0), description="outer exponent"),
    ),
    linear_predict=_linear_predict,
    prepare=np.log,
    default_estimator=EstimatorRecipe(loss="squared", space="linear"),
)
FAMILIES = (log_law,)
