"""Ghorbani et al. (2022): NMT loss against encoder and decoder size.

.. math::

    L(N_e, N_d) = \\alpha \\left(\\frac{\\bar N_e}{N_e}\\right)^{p_e}
                  \\left(\\frac{\\bar N_d}{N_d}\\right)^{p_d} + L_\\infty

for an encoder-decoder Transformer with :math:`N_e` encoder and :math:`N_d` decoder
(non-embedding) parameters, trained to convergence on ample data. :math:`\\bar N_e, \\bar N_d` are
fixed normalisation constants (reference sizes), not fitted: with them free the law is not
identifiable (only :math:`\\alpha \\bar N_e^{p_e} \\bar N_d^{p_d}` is). The registered family uses
:data:`REFERENCE_SIZE` = 1e8 for both, so alpha is the reducible loss of a model with 1e8
encoder and 1e8 decoder parameters; :func:`nmt_bivariate_law` builds the law for other reference
sizes (the fitted alpha changes, the predictions do not). When encoder and decoder grow in
proportion the law reduces to a power law in the total size with exponent p_e + p_d.

Reference: Ghorbani, Firat, Freitag, Bapna, Krikun, Garcia, Chelba, Cherry (2022), "Scaling Laws
for Neural Machine Translation" (ICLR), arXiv:2109.07740, eq. (2). Fernandes et al. (2023) cite it
as :math:`L = \\beta N_e^{-p_e} N_d^{-p_d} + L_\\infty`, the same law with the constants folded
into beta.

Differences from LAWS.md and from the paper:

* LAWS.md gives the paper's form; it does not say that N_e-bar, N_d-bar are constants. The paper's
  reference sizes (those of its baseline model) could not be checked here, so the default 1e8 is
  ours; compare alphas across fits only with the same reference sizes.
* Default estimator: the catalogue's Huber recipe on log residuals (the paper's fitting details
  were not checked).
"""

from __future__ import annotations

import functools

import jax.numpy as jnp
import numpy as np

from .base import PUBLISHED_HUBER, LawFamily, Parameter

REFERENCE_SIZE = 1e8
"""Default N_e-bar and N_d-bar (parameters)."""


@functools.cache
def nmt_bivariate_law(nbar_e: float = REFERENCE_SIZE, nbar_d: float = REFERENCE_SIZE,
                      name: str = "nmt_bivariate") -> LawFamily:
    """The law with reference sizes ``nbar_e``, ``nbar_d`` (cached: one object per arguments)."""
    log_nbar_e, log_nbar_d = float(np.log(nbar_e)), float(np.log(nbar_d))

    def log_predict(theta, z):
        """theta = (log alpha, p_e, p_d, log L_inf); z = (log N_e, log N_d)."""
        log_red = theta[0] + theta[1] * (log_nbar_e - z[:, 0]) + theta[2] * (log_nbar_d - z[:, 1])
        return jnp.logaddexp(theta[3], log_red)

    return LawFamily(
        name=name,
        formula=(f"L(N_e, N_d) = alpha (Nbar_e / N_e)^p_e (Nbar_d / N_d)^p_d + L_inf, "
                 f"Nbar_e = {nbar_e:g}, Nbar_d = {nbar_d:g}"),
        reference=("Ghorbani et al. 2022, 'Scaling Laws for Neural Machine Translation' (ICLR), "
                   "arXiv:2109.07740, eq. (2)"),
        description=("Translation loss against encoder size N_e and decoder size N_d "
                     "(converged, data-rich)."),
        notes=(f"Nbar_e = {nbar_e:g} and Nbar_d = {nbar_d:g} are fixed reference sizes (not "
               "fitted); alpha is the reducible loss at those sizes. Other reference sizes: "
               "scalinglaws.laws.nmt_bivariate.nmt_bivariate_law(nbar_e, nbar_d)."),
        inputs=("N_e", "N_d"),
        parameters=(
            Parameter(name="alpha", transform="log", init=(-3.0, -1.5, 0.0, 1.0),
                      realistic=(0.2, 2.0), description="reducible loss at the reference sizes"),
            Parameter(name="p_e", init=(0.1, 0.3, 0.6), realistic=(0.1, 0.5),
                      description="encoder exponent"),
            Parameter(name="p_d", init=(0.1, 0.3, 0.6), realistic=(0.1, 0.6),
                      description="decoder exponent"),
            Parameter(name="L_inf", transform="log", init=(-1.0, 0.0, 0.5, 1.0),
                      realistic=(0.8, 2.5), description="irreducible loss"),
        ),
        log_predict=log_predict,
        prepare=np.log,
        default_estimator=PUBLISHED_HUBER,
    )


nmt_bivariate = nmt_bivariate_law()
FAMILIES = (nmt_bivariate,)
