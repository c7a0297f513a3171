"""Kaplan et al. (2020): loss against parameters and tokens, L(N, D).

.. math::

    L(N, D) = \\left[\\left(\\frac{N_c}{N}\\right)^{\\alpha_N / \\alpha_D}
              + \\frac{D_c}{D}\\right]^{\\alpha_D}

N is the number of non-embedding parameters, D the number of training tokens. As D grows the law
tends to :math:`(N_c / N)^{\\alpha_N}` and as N grows to :math:`(D_c / D)^{\\alpha_D}`; there is no
irreducible term. Published joint fit (Kaplan et al. 2020, Table 2, "Fits to L(N, D)", WebText2,
tokens and non-embedding parameters): :math:`\\alpha_N = 0.076`, :math:`\\alpha_D = 0.103`,
:math:`N_c = 6.4 \\times 10^{13}`, :math:`D_c = 1.8 \\times 10^{13}` (:data:`KAPLAN_2020`). The
one-variable fits L(N) and L(D) of eqs. (1.1)-(1.2) have alpha_D = 0.095, N_c = 8.8e13 and
D_c = 5.4e13 instead; do not mix the two sets.

Reference: Kaplan, McCandlish, Henighan, Brown, Chess, Child, Gray, Radford, Wu, Amodei (2020),
"Scaling Laws for Neural Language Models", arXiv:2001.08361, eq. (1.5) / (4.1).

Fitted as log L = alpha_D * logaddexp((alpha_N / alpha_D)(log N_c - log N), log D_c - log D)
with both exponents fitted on the log scale (they are positive and small).

Differences from LAWS.md: none; LAWS.md gives the paper's eq. (1.5). The paper fits it by
minimising squared error of the loss on its early-stopped runs; the default here is the Huber
recipe on log residuals used across the catalogue (on noise-free data both give the same fit).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .base import PUBLISHED_HUBER, LawFamily, Parameter

KAPLAN_2020 = {"N_c": 6.4e13, "alpha_N": 0.076, "D_c": 1.8e13, "alpha_D": 0.103}
"""The published joint fit of eq. (1.5) (Kaplan et al. 2020, Table 2)."""


def log_predict(theta, z):
    """theta = (log N_c, log alpha_N, log D_c, log alpha_D); z = (log N, log D)."""
    alpha_n, alpha_d = jnp.exp(theta[1]), jnp.exp(theta[3])
    return alpha_d * jnp.logaddexp((alpha_n / alpha_d) * (theta[0] - z[:, 0]), theta[2] - z[:, 1])


kaplan = LawFamily(
    name="kaplan",
    formula="L(N, D) = [(N_c / N)^(alpha_N / alpha_D) + D_c / D]^alpha_D",
    reference=("Kaplan et al. 2020, 'Scaling Laws for Neural Language Models', arXiv:2001.08361, "
               "eq. (1.5)"),
    description="Loss of a language model with N non-embedding parameters trained on D tokens.",
    notes=("Published (Table 2): N_c = 6.4e13, alpha_N = 0.076, D_c = 1.8e13, alpha_D = 0.103. No "
           "irreducible term. Exponents fitted as logs."),
    inputs=("N", "D"),
    parameters=(
        Parameter(name="N_c", transform="log", init=(20.0, 25.0, 30.0, 35.0, 40.0),
                  realistic=(3e12, 3e14), description="parameter scale"),
        Parameter(name="alpha_N", transform="log", init=tuple(np.log([0.03, 0.07, 0.15, 0.3])),
                  realistic=(0.05, 0.12), description="exponent of N"),
        Parameter(name="D_c", transform="log", init=(20.0, 25.0, 30.0, 35.0, 40.0),
                  realistic=(3e12, 3e14), description="token scale"),
        Parameter(name="alpha_D", transform="log", init=tuple(np.log([0.03, 0.07, 0.15, 0.3])),
                  realistic=(0.07, 0.15), description="exponent of D"),
    ),
    log_predict=log_predict,
    prepare=np.log,
    default_estimator=PUBLISHED_HUBER,
)
FAMILIES = (kaplan,)
