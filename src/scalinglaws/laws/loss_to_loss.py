"""Loss-to-loss prediction: one loss as a shifted power law of another (Brandfonbrener et al. 2024).

.. math::

    L_y = K \\, (L_x - E_x)^{\\kappa} + E_y

L_x and L_y are two losses of the same model (train-to-test: its training loss and its loss on a
downstream distribution), or of two models trained on different data and paired by training
compute (train-to-train, test-to-test). E_x and E_y are the irreducible losses of the two, K and
kappa the scale and exponent of the shifted power law between the reducible parts.

Reference: Brandfonbrener, Anand, Vyas, Malach, Kakade (2024), "Loss-to-Loss Prediction: Scaling
Laws for All Datasets" (arXiv:2411.12925).

Differences from LAWS.md and the paper: LAWS.md gives the same formula. In the paper E_x and E_y
are not free parameters of this fit: they are the irreducible losses E of the two single-dataset
scaling laws L(C) = E + A C^-alpha fitted first (e.g. with `power_law` on compute), and only K and
kappa are then fitted. Here all four are free by default, which needs a curve that spans a wide
range of L_x; to follow the paper, fix them: ``fixed: {E_x: ..., E_y: ...}``.

Fitted as log L_y = logaddexp(log K + kappa log(L_x - E_x), log E_y); points with L_x <= E_x have
no prediction (the solver rejects such steps).

Source check: only the paper's abstract could be retrieved in the session that wrote this module;
the equation and the way E_x, E_y are obtained are as we know the paper.
"""

from __future__ import annotations

import jax.numpy as jnp

from .base import PUBLISHED_HUBER, LawFamily, Parameter


def _log_predict(theta, z):
    log_k, kappa, e_x, log_e_y = theta[0], theta[1], jnp.exp(theta[2]), theta[3]
    return jnp.logaddexp(log_k + kappa * jnp.log(z[:, 0] - e_x), log_e_y)


loss_to_loss = LawFamily(
    name="loss_to_loss",
    formula="L_y = K (L_x - E_x)^kappa + E_y",
    reference=(
        "Brandfonbrener et al. 2024, 'Loss-to-Loss Prediction: Scaling Laws for All Datasets' "
        "(arXiv:2411.12925)"
    ),
    description=(
        "A loss predicted from another loss (train-to-train, train-to-test, test-to-test) as a "
        "shifted power law between their reducible parts."
    ),
    notes=(
        "Map the predicting loss to the input L_x and the predicted loss to the target. The "
        "paper takes E_x and E_y from separate compute scaling-law fits and fits only K and "
        "kappa: use `fixed: {E_x: ..., E_y: ...}` to do the same. Huber (delta 1e-3) on log "
        "residuals."
    ),
    inputs=("L_x",),
    parameters=(
        Parameter(name="K", realistic=(0.5, 2.0), transform="log", fit_name="log K", init=(-1.0, 0.0, 1.0),
                  description="scale of the shifted power law"),
        Parameter(name="kappa", realistic=(0.7, 1.5), init=(0.5, 1.0, 1.5, 2.0), description="exponent"),
        Parameter(name="E_x", realistic=(1.5, 2.0), transform="log", fit_name="log E_x",
                  init=(-1.0, -0.5, 0.0, 0.25, 0.5), description="irreducible part of L_x"),
        Parameter(name="E_y", realistic=(1.0, 3.0), transform="log", fit_name="log E_y",
                  init=(-1.0, -0.5, 0.0, 0.5, 1.0), description="irreducible part of L_y"),
    ),
    log_predict=_log_predict,
    default_estimator=PUBLISHED_HUBER,
)
FAMILIES = (loss_to_loss,)
