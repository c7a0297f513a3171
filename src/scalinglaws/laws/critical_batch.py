"""The critical batch size: the steps/examples trade-off and its dependence on loss.

``critical_batch`` -- McCandlish et al. (2018): to reach a given loss, the number of optimisation
steps S and of training examples E = B S at batch size B satisfy

.. math::

    \\left(\\frac{S}{S_{min}} - 1\\right)\\left(\\frac{E}{E_{min}} - 1\\right) = 1,
    \\qquad B_{crit} = E_{min} / S_{min},

which, with E = B S, is the same as

.. math::

    S(B) = S_{min} \\left(1 + \\frac{B_{crit}}{B}\\right), \\qquad
    E(B) = E_{min} \\left(1 + \\frac{B}{B_{crit}}\\right).

The family predicts the steps S needed at batch size B (rows: runs at different batch sizes, each
with the step at which it first reached the target loss); E_min = S_min B_crit follows.

``critical_batch_loss`` -- Kaplan et al. (2020): the critical batch size grows as the loss falls,

.. math::

    B_{crit}(L) = \\frac{B_*}{L^{1/\\alpha_B}},

with B_* about 2e8 tokens and alpha_B about 0.21 for their language models (:data:`KAPLAN`).

References: McCandlish, Kaplan, Amodei and the OpenAI Dota Team (2018), "An Empirical Model of
Large-Batch Training" (arXiv:1812.06162); Kaplan et al. (2020), "Scaling Laws for Neural Language
Models" (arXiv:2001.08361).

Differences from LAWS.md: none in the forms; LAWS.md states the relation implicitly, the family
uses its explicit solution S(B). McCandlish et al. define B_crit through this fit and relate it to
the gradient noise scale B_noise (B_crit ~ B_noise); the noise scale itself is not a fitted
quantity here. Both families are fitted by least squares on log residuals.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .base import EstimatorRecipe, LawFamily, Parameter

KAPLAN = {"B_star": 2e8, "alpha_B": 0.21}
"""Kaplan et al. (2020): B_crit(L) ~ 2e8 tokens / L^(1 / 0.21), L in nats."""


def _steps_log_predict_and_jac(theta, z):
    """log S = log S_min + softplus(log B_crit - log B)."""
    u = theta[1] - z[:, 0]
    y = theta[0] + jax.nn.softplus(u)
    return y, jnp.stack([jnp.ones_like(y), jax.nn.sigmoid(u)], axis=1)


def _bcrit_log_predict_and_jac(theta, z):
    """log B_crit = log B_* - exp(-log alpha_B) log L."""
    inv_alpha = jnp.exp(-theta[1])
    y = theta[0] - inv_alpha * z[:, 0]
    return y, jnp.stack([jnp.ones_like(y), inv_alpha * z[:, 0]], axis=1)


critical_batch = LawFamily(
    name="critical_batch",
    formula="(S / S_min - 1)(E / E_min - 1) = 1, E = B S, B_crit = E_min / S_min; "
            "i.e. S(B) = S_min (1 + B_crit / B)",
    reference=(
        "McCandlish et al. 2018, 'An Empirical Model of Large-Batch Training' (arXiv:1812.06162)"
    ),
    description=(
        "Steps S needed to reach a fixed loss at batch size B: perfect scaling below the critical "
        "batch size B_crit, diminishing returns above it."
    ),
    notes=(
        "Target: the steps at which each run first reaches the chosen loss. E_min = S_min B_crit "
        "examples. Least squares on log residuals. Fit each target loss separately to trace "
        "B_crit(L), then `critical_batch_loss`."
    ),
    inputs=("B",),
    parameters=(
        Parameter(name="S_min", transform="log", fit_name="log S_min",
                  init=(4.0, 7.0, 10.0, 13.0), realistic=(1e3, 1e5),
                  description="steps needed with unlimited batch"),
        Parameter(name="B_crit", transform="log", fit_name="log B_crit",
                  init=(5.0, 10.0, 15.0, 20.0), realistic=(1e5, 1e7),
                  description="critical batch size (units of B)"),
    ),
    log_predict=lambda theta, z: _steps_log_predict_and_jac(theta, z)[0],
    log_predict_and_jac=_steps_log_predict_and_jac,
    prepare=np.log,
    default_estimator=EstimatorRecipe(loss="squared"),
)

critical_batch_loss = LawFamily(
    name="critical_batch_loss",
    formula="B_crit(L) = B_* / L^(1 / alpha_B)",
    reference="Kaplan et al. 2020, 'Scaling Laws for Neural Language Models' (arXiv:2001.08361)",
    description="The critical batch size as a power of the loss it is measured at.",
    notes=(
        "Target: B_crit estimates (e.g. from `critical_batch` fits at several losses). Kaplan et "
        "al.: B_* ~ 2e8 tokens, alpha_B ~ 0.21. Linear in logs; least squares on log residuals."
    ),
    inputs=("L",),
    parameters=(
        Parameter(name="B_star", transform="log", fit_name="log B_star", init=(10.0, 20.0),
                  realistic=(3e7, 1e9), description="critical batch size at L = 1"),
        Parameter(name="alpha_B", transform="log", fit_name="log alpha_B",
                  init=(-2.5, -1.5, -0.5), realistic=(0.15, 0.3),
                  description="inverse exponent of L"),
    ),
    log_predict=lambda theta, z: _bcrit_log_predict_and_jac(theta, z)[0],
    log_predict_and_jac=_bcrit_log_predict_and_jac,
    prepare=np.log,
    default_estimator=EstimatorRecipe(loss="squared"),
)

FAMILIES = (critical_batch, critical_batch_loss)
