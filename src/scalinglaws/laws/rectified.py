"""Fine-tuning loss against fine-tuning data size with a pre-learned data size (Lin et al. 2024).

``rectified``:

.. math::

    L(D) = \\frac{B}{D_l + D^{\\beta}} + E

``rectified_power``, the same law inside an outer power:

.. math::

    L(D) = \\left(\\frac{B}{D_l + D^{\\beta}} + E\\right)^{\\alpha}

D is the number of fine-tuning examples and :math:`D_l` the *pre-learned data size*: what the
pre-trained model already knows about the task, in units of :math:`D^{\\beta}`. For
:math:`D^{\\beta} \\ll D_l` the curve is flat (the "pre-power phase"); for
:math:`D^{\\beta} \\gg D_l` it is the usual power law plus constant (the "power phase").

Reference: Lin, Huang, Ye, Chen, Wang, Li, Ma, Wan, Zou, Liang (2024), "Selecting Large Language
Model to Fine-tune via Rectified Scaling Law" (ICML 2024, arXiv:2402.02314).

Differences from LAWS.md: LAWS.md gives ``rectified``'s form. The authors' project page
(rectified-scaling-law.github.io) writes both their vanilla law and the rectified law inside an
outer exponent, :math:`(B/(D_l + D^{\\beta}) + E)^{\\alpha}`; that form is ``rectified_power``
(``rectified`` is its alpha = 1 case). With few fine-tuning sizes, as in the paper's selection
setting, the five parameters of ``rectified_power`` are weakly determined (alpha trades off
against B, E and beta); prefer ``rectified`` unless the curve is long and clean.

Both are fitted as log L = LSE(e, b - logaddexp(d_l, beta log D)) (times alpha), with
E = exp(e), B = exp(b), D_l = exp(d_l): positive by construction and well conditioned.

Source check: the outer-power form was read on the authors' project page; the paper's own text
could not be retrieved in the session that wrote this module.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .base import PUBLISHED_HUBER, LawFamily, Parameter

REFERENCE = (
    "Lin et al. 2024, 'Selecting Large Language Model to Fine-tune via Rectified Scaling Law' "
    "(ICML 2024, arXiv:2402.02314)"
)


def _log_rectified(theta, z):
    """log(B / (D_l + D^beta) + E) with theta = (log B, log E, log D_l, beta), z = log D."""
    log_b, log_e, log_dl, beta = theta[0], theta[1], theta[2], theta[3]
    return jnp.logaddexp(log_e, log_b - jnp.logaddexp(log_dl, beta * z[:, 0]))


def _log_rectified_power(theta, z):
    return theta[4] * _log_rectified(theta, z)


def _parameters(b_init, e_init, dl_init, beta_init):
    return (
        Parameter(name="B", transform="log", fit_name="log B", init=b_init, realistic=(10.0, 3e4),
                  description="scale of the data term"),
        Parameter(name="E", transform="log", fit_name="log E", init=e_init, realistic=(0.5, 2.0),
                  description="loss with unlimited fine-tuning data"),
        Parameter(name="D_l", transform="log", fit_name="log D_l", init=dl_init,
                  realistic=(10.0, 1e4), description="pre-learned data size, in units of D^beta"),
        Parameter(name="beta", init=beta_init, realistic=(0.3, 1.0), description="exponent of D"),
    )


rectified = LawFamily(
    name="rectified",
    formula="L(D) = B / (D_l + D^beta) + E",
    reference=REFERENCE,
    description=(
        "Fine-tuning loss against the number of fine-tuning examples D, with a pre-learned data "
        "size D_l that flattens the curve at small D."
    ),
    notes=(
        "Fitted as log L = LSE(log E, log B - logaddexp(log D_l, beta log D)), Huber (delta 1e-3) "
        "on log residuals. The authors' project page writes the law inside an outer power alpha: "
        "that form is `rectified_power`."
    ),
    inputs=("D",),
    parameters=_parameters(b_init=(0.0, 3.0, 6.0, 9.0, 12.0), e_init=(-1.0, -0.5, 0.0, 0.5),
                           dl_init=(0.0, 3.0, 6.0, 9.0, 12.0), beta_init=(0.25, 0.5, 1.0, 1.5)),
    log_predict=_log_rectified,
    prepare=np.log,
    default_estimator=PUBLISHED_HUBER,
)

rectified_power = LawFamily(
    name="rectified_power",
    formula="L(D) = (B / (D_l + D^beta) + E)^alpha",
    reference=REFERENCE + "; form as written on the authors' project page",
    description=(
        "The rectified fine-tuning law inside an outer power alpha (alpha = 1 gives `rectified`)."
    ),
    notes=(
        "Fitted as log L = alpha * LSE(log E, log B - logaddexp(log D_l, beta log D)), Huber "
        "(delta 1e-3) on log residuals. alpha is weakly determined by short curves: consider "
        "fixing it (`fixed: {alpha: 1}` is `rectified`)."
    ),
    inputs=("D",),
    parameters=_parameters(b_init=(0.0, 4.0, 8.0, 12.0), e_init=(-0.5, 0.0, 0.5),
                           dl_init=(0.0, 4.0, 8.0, 12.0), beta_init=(0.3, 0.6, 1.2))
    + (Parameter(name="alpha", init=(0.5, 1.0, 2.0), realistic=(0.5, 2.0),
                 description="outer exponent"),),
    log_predict=_log_rectified_power,
    prepare=np.log,
    default_estimator=PUBLISHED_HUBER,
)

FAMILIES = (rectified, rectified_power)
