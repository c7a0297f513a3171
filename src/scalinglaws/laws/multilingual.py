"""Fernandes et al. (2023): multilingual NMT loss against model size and a pair's mixture weight.

.. math::

    L_i(N; p) = \\beta_i \\left(f_i(p)\\, N\\right)^{-\\alpha_i} + L_\\infty^{(i)}, \\qquad
    f_i(p) = p + c_1 p^{c_2} (1 - p)^{c_3}

for language pair (task) i of a multilingual model with N (non-embedding) parameters trained with
weight (sampling probability) p on pair i. :math:`f_i(p)` is the *effective fraction of
parameters* the pair gets: the model performs on pair i like a single-task model of
:math:`f_i(p) N` parameters (eqs. 8-10). :math:`\\beta_i, \\alpha_i, L_\\infty^{(i)}` are the pair's
single-task (p = 1) law. :math:`c_1 > 0` means the other pairs help (positive transfer,
f > p), :math:`c_1 < 0` that they compete, :math:`c_1 = 0` a neutral split (f = p).

Reference: Fernandes, Ghorbani, Garcia, Freitag, Firat (2023), "Scaling Laws for Multilingual
Neural Machine Translation" (ICML), arXiv:2302.09650: the joint law eq. (7), the effective
fraction eqs. (8)-(10), the prediction eq. (11) and the parametrisation of f, eq. (12).

One family per language pair: fit it to the rows of one pair, with inputs N and p (the pair's
weight, 0 < p <= 1). Pairs of the same model share nothing in eq. (11), so separate fits are the
paper's model.

Differences from LAWS.md and from the paper:

* LAWS.md leaves f_i open ("read the paper for f_i"): the paper's eq. (12) is used,
  :math:`f_i(p) = p + c_1 p^{c_2}(1 - p)^{c_3}`, with :math:`c_2, c_3 > 0` (fitted as logs) so that
  f(1) = 1 and f(0) = 0; c_1 may be negative. The paper notes that a plain linear f is enough with
  few weightings (its Appendix E); fix c_2 = c_3 = 1 for the quadratic p + c_1 p (1 - p).
* p = 0 (zero-shot) is outside the law (f = 0, infinite loss) and rejected as an input.
* The paper's fitting details (loss, weights) were not checked; the default is the catalogue's
  Huber recipe on log residuals.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .base import PUBLISHED_HUBER, LawFamily, Parameter


def log_predict(theta, z):
    """theta = (log beta, alpha, log L_inf, c1, log c2, log c3); z = (log N, log p, log(1 - p))."""
    c1, c2, c3 = theta[3], jnp.exp(theta[4]), jnp.exp(theta[5])
    log_p, log_q = z[:, 1], z[:, 2]
    inner = jnp.isfinite(log_q)  # p < 1; at p = 1 the transfer term is exactly 0
    safe_log_q = jnp.where(inner, log_q, 0.0)  # keeps the derivatives finite at p = 1
    f = jnp.exp(log_p) + c1 * jnp.where(inner, jnp.exp(c2 * log_p + c3 * safe_log_q), 0.0)
    log_red = theta[0] - theta[1] * (jnp.log(f) + z[:, 0])
    return jnp.logaddexp(theta[2], log_red)


def _prepare(x):
    n, p = x[:, 0], x[:, 1]
    if not np.all((p > 0) & (p <= 1)):
        bad = p[~((p > 0) & (p <= 1))][0]
        raise ValueError(f"the weight p of a language pair must lie in (0, 1], got {bad!r}")
    with np.errstate(divide="ignore"):
        log_q = np.log1p(-p)  # -inf at p = 1, where f(1) = 1
    return np.column_stack([np.log(n), np.log(p), log_q])


multilingual = LawFamily(
    name="multilingual",
    formula="L(N, p) = beta (f(p) N)^-alpha + L_inf,  f(p) = p + c1 p^c2 (1 - p)^c3",
    reference=("Fernandes et al. 2023, 'Scaling Laws for Multilingual Neural Machine "
               "Translation' (ICML), arXiv:2302.09650, eqs. (11)-(12)"),
    description=("Loss on one language pair of a multilingual model with N parameters trained "
                 "with weight p on that pair; f(p) N is the pair's effective number of "
                 "parameters."),
    notes=("One fit per language pair; inputs N and p (0 < p <= 1). c1 > 0: positive transfer, "
           "c1 < 0: interference. Fix c2 = c3 = 1 for the simpler p + c1 p (1 - p)."),
    inputs=("N", "p"),
    parameters=(
        Parameter(name="beta", transform="log", init=(0.0, 3.0, 6.0),
                  realistic=(5.0, 2000.0), description="single-task scale"),
        Parameter(name="alpha", init=(0.1, 0.3, 0.6), realistic=(0.15, 0.4),
                  description="exponent of the size"),
        Parameter(name="L_inf", transform="log", init=(-1.0, 0.0, 0.7),
                  realistic=(0.8, 2.0), description="irreducible loss"),
        Parameter(name="c1", init=(-0.5, 0.0, 0.5, 1.0), realistic=(-0.5, 1.0),
                  description="strength of the transfer"),
        Parameter(name="c2", transform="log", init=(-1.0, 0.0, 1.0),
                  realistic=(0.5, 2.0), description="shape of f near p = 0"),
        Parameter(name="c3", transform="log", init=(-1.0, 0.0, 1.0),
                  realistic=(0.5, 2.0), description="shape of f near p = 1"),
    ),
    log_predict=log_predict,
    prepare=_prepare,
    default_estimator=PUBLISHED_HUBER,
)
FAMILIES = (multilingual,)
