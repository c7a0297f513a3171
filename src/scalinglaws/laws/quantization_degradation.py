"""Quantization-induced degradation of a trained LLM (Ouyang et al. 2024).

.. math::

    \\Delta q L(N, D, P) = k \\, \\frac{D^{\\beta}}{N^{\\alpha} P^{\\gamma}}

Delta_q L is the increase in cross-entropy loss when a 16-bit model with N (non-embedding)
parameters trained on D tokens is quantized to P bits after training; more training tokens
increase it, larger models and more bits reduce it.

Reference: Ouyang, Ge, Hartvigsen, Zhang, Mi, Yu (2024), "Low-Bit Quantization Favors
Undertrained LLMs: Scaling Laws for Quantized LLMs with 100T Training Tokens" (arXiv:2411.17691;
ACL 2025 as "Low-Bit Quantization Favors Undertrained LLMs").

Differences from LAWS.md: none in the form (the paper first fits one factor at a time, e.g.
Delta_q L(N) = k / N^alpha, then the unified law above). The law has no constant term, so it is
linear in logs: log Delta_q L = log k + beta log D - alpha log N - gamma log P, fitted here by
least squares on log residuals. Measured degradations that are zero or negative (noise at high
bit widths) cannot be fitted in log space: drop them, or fit on linear residuals with
``estimator: {space: linear}``.

Source check: the abstract and a summary could be retrieved in the session that wrote this
module (they confirm the variables: Delta_q L is the cross-entropy of the quantized minus the
16-bit model, N non-embedding parameters, D training tokens, P bits); the equation is as we know
the paper.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .base import EstimatorRecipe, LawFamily, Parameter


def _log_predict_and_jac(theta, z):
    y = theta[0] - theta[1] * z[:, 0] + theta[2] * z[:, 1] - theta[3] * z[:, 2]
    jac = jnp.stack([jnp.ones_like(y), -z[:, 0], z[:, 1], -z[:, 2]], axis=1)
    return y, jac


def _log_predict(theta, z):
    return _log_predict_and_jac(theta, z)[0]


quantization_degradation = LawFamily(
    name="quantization_degradation",
    formula="Delta_q L(N, D, P) = k D^beta / (N^alpha P^gamma)",
    reference=(
        "Ouyang et al. 2024, 'Low-Bit Quantization Favors Undertrained LLMs: Scaling Laws for "
        "Quantized LLMs with 100T Training Tokens' (arXiv:2411.17691)"
    ),
    description=(
        "Loss increase from post-training quantization to P bits of a model with N parameters "
        "trained on D tokens."
    ),
    notes=(
        "Linear in logs; least squares on log residuals. Zero or negative degradations need "
        "`space: linear`."
    ),
    inputs=("N", "D", "P"),
    parameters=(
        Parameter(name="k", realistic=(0.005, 0.1), transform="log", fit_name="log k", init=(-5.0, 0.0, 5.0),
                  description="scale"),
        Parameter(name="alpha", init=(0.25,), description="exponent of N (model size)",
                  realistic=(0.15, 0.35)),
        Parameter(name="beta", init=(0.5,), description="exponent of D (training tokens)",
                  realistic=(0.4, 0.6)),
        Parameter(name="gamma", init=(2.0, 5.0), description="exponent of P (bit width)",
                  realistic=(4.0, 6.0)),
    ),
    log_predict=_log_predict,
    log_predict_and_jac=_log_predict_and_jac,
    prepare=np.log,
    default_estimator=EstimatorRecipe(loss="squared"),
)
FAMILIES = (quantization_degradation,)
