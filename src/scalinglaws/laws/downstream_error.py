"""Downstream error as an exponential function of loss (Gadre et al. 2024).

.. math::

    \\mathrm{Err}(L) = \\epsilon - k \\, e^{-\\gamma L}

L is a model's loss on a held-out pretraining-like set (the paper uses C4 validation loss) and
Err its average top-1 error over downstream tasks. The error approaches epsilon (chance-level
error, for high loss) from below; k and gamma set how fast it falls as the loss improves.

Reference: Gadre, Smyrnis, Shankar, Gururangan, Wortsman, Shao, Mercat, Fang, Li, Keh, Xin,
Nezhurina, Vasiljevic, Jitsev, Dimakis, Ilharco, Song, Kollar, Carmon, Dave, Heckel,
Muennighoff, Schmidt (2024), "Language models scale reliably with over-training and on downstream
tasks" (arXiv:2403.08540), their Equation for average top-1 error as a function of loss.

Differences from LAWS.md: none in the form. The paper chains it with its loss law (`overtrained`)
to predict error from compute. The target can be any error rate in [0, 1]; it is fitted on linear
residuals (squared error, as an ordinary least-squares curve fit does).

Source check: the form, with the constants epsilon = 0.857, k = 2.21, gamma = 0.715 attributed to
the paper, was seen in third-party code citing it; the paper's text could not be retrieved in the
session that wrote this module.
"""

from __future__ import annotations

import jax.numpy as jnp

from .base import EstimatorRecipe, LawFamily, Parameter


def _linear_predict(theta, z):
    eps, k, gamma = theta[0], jnp.exp(theta[1]), jnp.exp(theta[2])
    return eps - k * jnp.exp(-gamma * z[:, 0])


downstream_error = LawFamily(
    name="downstream_error",
    formula="Err(L) = epsilon - k exp(-gamma L)",
    reference=(
        "Gadre et al. 2024, 'Language models scale reliably with over-training and on downstream "
        "tasks' (arXiv:2403.08540)"
    ),
    description="Average downstream top-1 error as a function of a model's validation loss L.",
    notes=(
        "epsilon is the error at high loss (about chance level); k and gamma are fitted as logs. "
        "Linear residuals, squared error."
    ),
    inputs=("L",),
    parameters=(
        Parameter(name="epsilon", init=(0.6, 0.8, 1.0), description="error approached at high loss",
                  realistic=(0.75, 0.95)),
        Parameter(name="k", transform="log", fit_name="log k", init=(-1.0, 0.0, 1.0, 2.0, 3.0),
                  realistic=(1.0, 5.0),
                  description="scale of the exponential"),
        Parameter(name="gamma", realistic=(0.4, 1.2), transform="log", fit_name="log gamma",
                  init=(-1.5, -0.75, 0.0, 0.75), description="rate of the exponential in L"),
    ),
    linear_predict=_linear_predict,
    default_estimator=EstimatorRecipe(loss="squared", space="linear"),
)
FAMILIES = (downstream_error,)
