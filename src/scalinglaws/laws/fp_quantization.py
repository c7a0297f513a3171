"""Loss of LLMs trained in floating-point quantization (Sun et al. 2025, the "Capybara" law).

.. math::

    L(N, D, E, M, B) = \\frac{n}{N^{\\alpha}} + \\frac{d}{D^{\\beta}} + \\epsilon
        + \\frac{D^{\\beta}}{N^{\\alpha}} \\cdot
          \\frac{\\log_2 B}{\\gamma \\, (E + 0.5)^{\\delta} (M + 0.5)^{\\nu}}

N parameters, D training tokens, E exponent bits and M mantissa bits of the floating-point format
used in training, B the block size over which a scaling factor is shared. The first three terms
are Chinchilla's law; the last is the precision penalty: it grows with the data per parameter
(D^beta / N^alpha, the source of the paper's "critical data size" beyond which more data hurts)
and with the block size, and shrinks with more exponent and mantissa bits.

Reference: Sun, Li, Xie, Han, Wu, Yang, Li, Wang, Li, Xue, Cheng, Tao, Kang, Xu, Wang, Jiang
(2025), "Scaling Laws for Floating-Point Quantization Training" (arXiv:2501.02423, ICML 2025).

Differences from LAWS.md: LAWS.md only names the inputs; this is the paper's unified law as we
read it: the precision term reuses the Chinchilla exponents alpha and beta, and the +0.5 offsets
on E and M keep the term finite for E = 0 or M = 0 (integer-like formats). The equation could not
be re-read from the paper text in this session (only its abstract was reachable); check the
exact offsets and the log2 B dependence against the paper before relying on extrapolations. With
B = 1 (a scale per element) the precision term vanishes.

Fitted as log L = LSE of the four terms' logs, each linear in (log n, log d, log eps, log gamma,
alpha, beta, delta, nu) given log N, log D, log log2 B, log(E + 0.5), log(M + 0.5): the Jacobian is
the softmax weights of the terms, as for `chinchilla`. Huber (delta 1e-3) on log residuals.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .base import PUBLISHED_HUBER, LawFamily, Parameter

BIT_OFFSET = 0.5
"""The offset added to exponent and mantissa bit counts, (E + 0.5) and (M + 0.5)."""


def prepare(x):
    """(N, D, E, M, B) -> (log N, log D, log log2 B, log(E + 0.5), log(M + 0.5)).

    B = 1 gives log log2 B = -inf: a vanishing precision term, handled exactly by the
    log-sum-exp.
    """
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(divide="ignore"):
        log_log2_b = np.log(np.log2(x[:, 4]))
    return np.column_stack([np.log(x[:, 0]), np.log(x[:, 1]), log_log2_b,
                            np.log(x[:, 2] + BIT_OFFSET), np.log(x[:, 3] + BIT_OFFSET)])


def _terms(theta, z):
    log_n, alpha, log_d, beta, log_eps, log_gamma, delta, nu = (theta[i] for i in range(8))
    ln_n, ln_d, ln_log2b, ln_e, ln_m = (z[:, i] for i in range(5))
    t1 = log_n - alpha * ln_n
    t2 = log_d - beta * ln_d
    t3 = jnp.broadcast_to(log_eps, ln_n.shape)
    t4 = beta * ln_d - alpha * ln_n + ln_log2b - log_gamma - delta * ln_e - nu * ln_m
    return jnp.stack([t1, t2, t3, t4], axis=1)


def _log_predict_and_jac(theta, z):
    t = _terms(theta, z)
    top = jnp.max(t, axis=1)
    s = jnp.exp(t - top[:, None])
    total = jnp.sum(s, axis=1)
    y = top + jnp.log(total)
    s = s / total[:, None]
    ln_n, ln_d, ln_e, ln_m = z[:, 0], z[:, 1], z[:, 3], z[:, 4]
    jac = jnp.stack([
        s[:, 0],                                   # log n
        -ln_n * (s[:, 0] + s[:, 3]),               # alpha
        s[:, 1],                                   # log d
        ln_d * (s[:, 3] - s[:, 1]),                # beta
        s[:, 2],                                   # log eps
        -s[:, 3],                                  # log gamma
        -ln_e * s[:, 3],                           # delta
        -ln_m * s[:, 3],                           # nu
    ], axis=1)
    return y, jac


def _log_predict(theta, z):
    return _log_predict_and_jac(theta, z)[0]


fp_quantization = LawFamily(
    name="fp_quantization",
    formula=("L(N, D, E, M, B) = n / N^alpha + d / D^beta + epsilon + "
             "(D^beta / N^alpha) log2(B) / (gamma (E + 0.5)^delta (M + 0.5)^nu)"),
    reference=(
        "Sun et al. 2025, 'Scaling Laws for Floating-Point Quantization Training' "
        "(arXiv:2501.02423)"
    ),
    description=(
        "Loss of a model with N parameters trained on D tokens in a floating-point format with E "
        "exponent bits and M mantissa bits, scaling factors shared over blocks of B elements."
    ),
    notes=(
        "The precision penalty grows with D^beta / N^alpha (more data per parameter hurts a "
        "low-precision model). B = 1 removes it. Fitted as a log-sum-exp of four terms with the "
        "analytic Jacobian; Huber (delta 1e-3) on log residuals."
    ),
    inputs=("N", "D", "E", "M", "B"),
    parameters=(
        Parameter(name="n", realistic=(30.0, 150.0), transform="log", fit_name="log n", init=(2.0, 5.0),
                  description="scale of the parameter term"),
        Parameter(name="alpha", realistic=(0.2, 0.35), init=(0.25, 0.5), description="exponent of N"),
        Parameter(name="d", realistic=(1e4, 3e5), transform="log", fit_name="log d", init=(5.0, 10.0),
                  description="scale of the data term"),
        Parameter(name="beta", realistic=(0.4, 0.6), init=(0.25, 0.5), description="exponent of D"),
        Parameter(name="epsilon", transform="log", fit_name="log epsilon", init=(0.0, 0.75),
                  realistic=(1.6, 2.1),
                  description="irreducible loss"),
        Parameter(name="gamma", realistic=(3e3, 3e4), transform="log", fit_name="log gamma", init=(5.0, 10.0),
                  description="inverse scale of the precision term"),
        Parameter(name="delta", realistic=(2.5, 3.5), init=(1.0, 3.0), description="exponent of E + 0.5"),
        Parameter(name="nu", realistic=(2.5, 3.5), init=(1.0, 3.0), description="exponent of M + 0.5"),
    ),
    log_predict=_log_predict,
    log_predict_and_jac=_log_predict_and_jac,
    prepare=prepare,
    positive_inputs=False,  # E and M may be 0 bits
    default_estimator=PUBLISHED_HUBER,
)
FAMILIES = (fp_quantization,)
