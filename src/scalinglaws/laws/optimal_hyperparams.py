"""Optimal learning rate and batch size as power laws of model and data size (Step Law).

``optimal_lr``:

.. math::

    \\eta_{opt}(N, D) = c_{\\eta} \\, N^{a} D^{b}

``optimal_batch``:

.. math::

    B_{opt}(D) = c_B \\, D^{g}

N is the number of (non-embedding) parameters, D the number of training tokens, B the batch size
in tokens. Fit them to the best learning rate and batch size found by a grid search at each
(N, D).

Reference: Li et al. (2025), "Predictable Scale: Part I -- Optimal Hyperparameter
Scaling Law in Large Language Model Pretraining" (the "Step Law", arXiv:2503.04715), which
reports eta_opt = 1.79 N^-0.713 D^0.307 and B_opt = 0.58 D^0.571 (:data:`STEP_LAW`). Related:
Porian et al. (2024), "Resolving Discrepancies in Compute-Optimal Scaling of Language Models", and
Zhang et al. (2024), "How Does Critical Batch Size Scale in Pre-training?", who also find the
batch size to scale with data, not model size.

Differences from LAWS.md: none in the forms. The paper's two targets are two families here
because they are fitted to different columns and the batch law has no N dependence. Both are
linear in logs and fitted by least squares on log residuals (ordinary regression of log eta on
log N and log D).

Source check: the constants are those of the Step Law paper's abstract as we know it; its text
could not be retrieved in the session that wrote this module.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .base import EstimatorRecipe, LawFamily, Parameter

REFERENCE = (
    "Li et al. 2025, 'Predictable Scale: Part I -- Optimal Hyperparameter Scaling Law in Large "
    "Language Model Pretraining' (Step Law); Porian et al. 2024; Zhang et al. 2024"
)

STEP_LAW = {
    "optimal_lr": {"c_eta": 1.79, "a": -0.713, "b": 0.307},
    "optimal_batch": {"c_B": 0.58, "g": 0.571},
}
"""The published Step Law fits (B in tokens)."""


def _lr_log_predict_and_jac(theta, z):
    y = theta[0] + theta[1] * z[:, 0] + theta[2] * z[:, 1]
    return y, jnp.stack([jnp.ones_like(y), z[:, 0], z[:, 1]], axis=1)


def _batch_log_predict_and_jac(theta, z):
    y = theta[0] + theta[1] * z[:, 0]
    return y, jnp.stack([jnp.ones_like(y), z[:, 0]], axis=1)


optimal_lr = LawFamily(
    name="optimal_lr",
    formula="eta_opt(N, D) = c_eta N^a D^b",
    reference=REFERENCE,
    description="The best peak learning rate for N parameters trained on D tokens.",
    notes=(
        "Linear in logs; least squares on log residuals. Step Law: c_eta = 1.79, a = -0.713, "
        "b = 0.307."
    ),
    inputs=("N", "D"),
    parameters=(
        Parameter(name="c_eta", transform="log", fit_name="log c_eta", init=(-5.0, 0.0, 5.0),
                  realistic=(0.5, 5.0), description="scale"),
        Parameter(name="a", init=(-1.0, 0.0), realistic=(-0.9, -0.5), description="exponent of N"),
        Parameter(name="b", init=(0.0, 0.5), realistic=(0.2, 0.4), description="exponent of D"),
    ),
    log_predict=lambda theta, z: _lr_log_predict_and_jac(theta, z)[0],
    log_predict_and_jac=_lr_log_predict_and_jac,
    prepare=np.log,
    default_estimator=EstimatorRecipe(loss="squared"),
)

optimal_batch = LawFamily(
    name="optimal_batch",
    formula="B_opt(D) = c_B D^g",
    reference=REFERENCE,
    description="The best batch size (in tokens) for training on D tokens.",
    notes="Linear in logs; least squares on log residuals. Step Law: c_B = 0.58, g = 0.571.",
    inputs=("D",),
    parameters=(
        Parameter(name="c_B", transform="log", fit_name="log c_B", init=(-5.0, 0.0, 5.0),
                  realistic=(0.2, 2.0), description="scale"),
        Parameter(name="g", init=(0.0, 0.5, 1.0), realistic=(0.4, 0.7), description="exponent of D"),
    ),
    log_predict=lambda theta, z: _batch_log_predict_and_jac(theta, z)[0],
    log_predict_and_jac=_batch_log_predict_and_jac,
    prepare=np.log,
    default_estimator=EstimatorRecipe(loss="squared"),
)

FAMILIES = (optimal_lr, optimal_batch)
