"""Gadre et al. (2024): loss against compute and the amount of over-training.

.. math::

    L(C, M) = E + \\left(a M^{\\eta} + b M^{-\\eta}\\right) C^{-\\eta}

C is the training compute (C = 6 N D FLOPs) and M = D / N the token multiplier (tokens per
parameter; Chinchilla-optimal is M ~ 20, "32x over-trained" is M = 640). For fixed M the loss is
a power law in compute with the same exponent for every M; over-training (larger M) only shifts
the scale factor :math:`a M^{\\eta} + b M^{-\\eta}`, which is smallest at the compute-optimal
:math:`M^* = (b / a)^{1 / (2\\eta)}`.

It is Chinchilla's law with tied exponents rewritten in (C, M): with
:math:`L = E + A N^{-\\alpha} + B D^{-\\alpha}`, N = (C / (6M))^(1/2) and D = (C M / 6)^(1/2), so
:math:`\\eta = \\alpha / 2`, :math:`a = A\\,6^{\\eta}`, :math:`b = B\\,6^{\\eta}`.

Reference: Gadre, Smyrnis, Shankar, Gururangan, Wortsman, Shao, Mercat, Fang, Li, Keh, Xin,
Nezhurina, Vasiljevic, Jitsev, Dimakis, Ilharco, Song, Kollar, Carmon, Dave, Heckel, Muennighoff,
Schmidt (2024), "Language models scale reliably with over-training and on downstream tasks",
arXiv:2403.08540; code mlfoundations/scaling (``scaling/laws.py``).

Inputs are C and M. A table with N and D gives C as a derived column (C = 6 N D); M = D / N has to
be a column of the table (or computed before loading).

Differences from LAWS.md and from the paper:

* LAWS.md gives the paper's form. The authors' code fits the equivalent
  ``alpha N^b + beta 6^(b/2) (M N)^b + E`` in (N, M) with b = -2 eta; their (alpha, beta) map to
  a = alpha 6^eta and b = beta here.
* Their fit (``curve_fit_powlaw_ours``) is unweighted least squares of the loss from a 4 x 4 x 2 x
  4 grid of starts; ``default_estimator`` follows it (squared error, linear residuals). The grid
  here is in the fitting space of (log E, log a, log b, eta).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .base import EstimatorRecipe, LawFamily, Parameter


def log_predict(theta, z):
    """theta = (log E, log a, log b, eta); z = (log C, log M)."""
    eta = theta[3]
    shift = -eta * z[:, 0]
    return jnp.logaddexp(jnp.logaddexp(theta[0], theta[1] + eta * z[:, 1] + shift),
                         theta[2] - eta * z[:, 1] + shift)


overtrained = LawFamily(
    name="overtrained",
    formula="L(C, M) = E + (a M^eta + b M^-eta) C^-eta,  M = D / N,  C = 6 N D",
    reference=("Gadre et al. 2024, 'Language models scale reliably with over-training and on "
               "downstream tasks', arXiv:2403.08540"),
    description=("Loss against training compute C and token multiplier M = D / N (over-training); "
                 "Chinchilla with tied exponents, eta = alpha / 2."),
    notes=("Inputs C (FLOPs) and M (tokens per parameter). The authors' code uses "
           "alpha N^b + beta 6^(b/2) (M N)^b + E: a = alpha 6^eta, b = beta, b_code = -2 eta. "
           "Default fit as theirs: least squares of the loss."),
    inputs=("C", "M"),
    parameters=(
        Parameter(name="E", transform="log", fit_name="e", init=(-0.5, 0.0, 0.5, 1.0),
                  realistic=(1.5, 2.5), description="irreducible loss"),
        Parameter(name="a", transform="log", init=(2.0, 5.0, 8.0, 11.0), realistic=(100.0, 3000.0),
                  description="scale of the parameter-limited term"),
        Parameter(name="b", transform="log", init=(2.0, 5.0, 8.0, 11.0), realistic=(100.0, 3000.0),
                  description="scale of the data-limited term"),
        Parameter(name="eta", init=(0.05, 0.1, 0.2, 0.3), realistic=(0.12, 0.2),
                  description="compute exponent"),
    ),
    log_predict=log_predict,
    prepare=np.log,
    default_estimator=EstimatorRecipe(loss="squared", space="linear"),
)
FAMILIES = (overtrained,)
