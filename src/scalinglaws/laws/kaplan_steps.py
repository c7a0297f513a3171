"""Kaplan et al. (2020): loss against parameters and training steps, L(N, S_min).

.. math::

    L = \\left(\\frac{N_c}{N}\\right)^{\\alpha_N} + \\left(\\frac{S_c}{S_{\\min}}\\right)^{\\alpha_S},
    \\qquad S_{\\min} = \\frac{S}{1 + B_{\\mathrm{crit}}(L) / B},
    \\qquad B_{\\mathrm{crit}}(L) = \\frac{B_*}{L^{1/\\alpha_B}}

for a model of N non-embedding parameters after S optimisation steps at batch size B (tokens),
in the infinite-data limit. :math:`S_{\\min}` converts the steps taken at batch size B into the
steps the same loss would need at a batch much larger than the critical batch
:math:`B_{\\mathrm{crit}}` (McCandlish et al. 2018), which depends on the loss reached.

Reference: Kaplan et al. (2020), "Scaling Laws for Neural Language Models", arXiv:2001.08361,
eqs. (1.6), (5.3), (5.4), (5.6); published values (:data:`KAPLAN_2020_STEPS`): Table 3,
:math:`\\alpha_N = 0.077, \\alpha_S = 0.76, N_c = 6.5 \\times 10^{13}, S_c = 2.1 \\times 10^3`;
eq. (5.3), :math:`B_* \\approx 2 \\times 10^8` tokens, :math:`\\alpha_B \\approx 0.21`. Also used by
Su et al. (2024), "Unraveling the Mystery of Scaling Laws: Part I".

An implicit law. :math:`B_{\\mathrm{crit}}` depends on the loss L being predicted, so L solves

.. math::

    g(L) = L - a - s\\,(1 + B_*/(B L^{1/\\alpha_B}))^{\\alpha_S} = 0, \\quad
    a = (N_c/N)^{\\alpha_N},\\ s = (S_c/S)^{\\alpha_S},

and g is strictly increasing in L, with the root in :math:`[a + s,\\ a + s (1 + B_*/(B (a +
s)^{1/\\alpha_B}))^{\\alpha_S}]`. It is found by the safeguarded Newton iteration of
:mod:`scalinglaws.laws.implicit` and differentiated by the implicit function theorem (a
``jax.custom_jvp`` rule on ``log_predict``; ``log_predict_and_jac`` gives the same Jacobian in
closed form from one root find, which the fits use). A table that
already holds :math:`S_{\\min}` can use it as S with a very large B (then S_min = S), or fix B_*
to a tiny value.

Differences from LAWS.md and from the paper:

* LAWS.md writes the law with :math:`S_{\\min}` as given; Kaplan et al. compute S_min from each
  run's *measured* loss (eq. 5.4 "for any given target value L") and fit eq. (5.6) on it. As a
  prediction of an unseen run the loss is not known in advance, so here S_min uses the
  *predicted* loss and the equation is solved for it; at a fit the two agree where the law fits.
* The paper fits B_* and alpha_B separately, from measured critical batch sizes (Figure 10), and
  then holds them fixed; here they are parameters of the law, identifiable only when the runs
  vary the batch size. Fix them (`fixed: {B_star: 2.0e8, alpha_B: 0.21}`) otherwise.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .base import PUBLISHED_HUBER, LawFamily, Parameter
from .implicit import monotone_root

KAPLAN_2020_STEPS = {"N_c": 6.5e13, "alpha_N": 0.077, "S_c": 2.1e3, "alpha_S": 0.76,
                     "B_star": 2.0e8, "alpha_B": 0.21}
"""Kaplan et al. (2020): Table 3 and eq. (5.3); B_* in tokens."""


def _excess_steps_term(L, log_s, alpha_s, log_bratio, inv_alpha_b):
    # s (1 + B*/(B L^(1/alpha_B)))^alpha_S, written with softplus to avoid overflow
    return jnp.exp(log_s + alpha_s * jax.nn.softplus(log_bratio - inv_alpha_b * jnp.log(L)))


def _g(L, a, log_s, alpha_s, log_bratio, inv_alpha_b):
    return L - a - _excess_steps_term(L, log_s, alpha_s, log_bratio, inv_alpha_b)


def _bracket(a, log_s, alpha_s, log_bratio, inv_alpha_b):
    lo = a + jnp.exp(log_s)
    return lo, a + _excess_steps_term(lo, log_s, alpha_s, log_bratio, inv_alpha_b)


def _init(a, log_s, alpha_s, log_bratio, inv_alpha_b):
    return _bracket(a, log_s, alpha_s, log_bratio, inv_alpha_b)[0]


_solve = monotone_root(_g, _bracket, init=_init)


def _parts(theta, z):
    alpha_n, alpha_s, alpha_b = jnp.exp(theta[1]), jnp.exp(theta[3]), jnp.exp(theta[5])
    a = jnp.exp(alpha_n * (theta[0] - z[:, 0]))
    log_s = alpha_s * (theta[2] - z[:, 1])
    log_bratio = theta[4] - z[:, 2]
    return alpha_n, alpha_s, alpha_b, a, log_s, log_bratio


@jax.jit  # eager callers (predict, simulate) compile the root find once per shape
def log_predict(theta, z):
    """theta = logs of (N_c, alpha_N, S_c, alpha_S, B_star, alpha_B); z = (log N, log S, log B)."""
    alpha_n, alpha_s, alpha_b, a, log_s, log_bratio = _parts(theta, z)
    return jnp.log(_solve(a, log_s, alpha_s, log_bratio, 1.0 / alpha_b))


@jax.jit
def log_predict_and_jac(theta, z):
    """log L and its Jacobian from one root find (the implicit function theorem, by hand).

    With T = s (1 + B*/(B L^k))^alpha_S, r = log(B*/B) - k log L, k = 1 / alpha_B:
    dL = (da + dT|_L) / (1 + k alpha_S T sigma(r) / L).
    """
    alpha_n, alpha_s, alpha_b, a, log_s, log_bratio = _parts(theta, z)
    k = 1.0 / alpha_b
    L = jax.lax.stop_gradient(_solve(a, log_s, alpha_s, log_bratio, k))
    log_l = jnp.log(L)
    r = log_bratio - k * log_l
    sp, sig = jax.nn.softplus(r), jax.nn.sigmoid(r)
    T = jnp.exp(log_s + alpha_s * sp)
    denom = 1.0 + k * alpha_s * T * sig / L
    zero = jnp.zeros_like(L)
    da = [a * alpha_n, a * alpha_n * (theta[0] - z[:, 0]), zero, zero, zero, zero]
    dT = [zero, zero, T * alpha_s, T * (alpha_s * (theta[2] - z[:, 1]) + alpha_s * sp),
          T * alpha_s * sig, T * alpha_s * sig * k * log_l]
    cols = [(da[i] + dT[i]) / (denom * L) for i in range(6)]
    return log_l, jnp.stack(cols, axis=1)


def _log_grid(*values):
    return tuple(float(v) for v in np.log(values))


kaplan_steps = LawFamily(
    name="kaplan_steps",
    formula=("L(N, S_min) = (N_c / N)^alpha_N + (S_c / S_min)^alpha_S, "
             "S_min = S / (1 + B_crit(L) / B), B_crit(L) = B_star / L^(1 / alpha_B)"),
    reference=("Kaplan et al. 2020, 'Scaling Laws for Neural Language Models', arXiv:2001.08361, "
               "eqs. (1.6), (5.3), (5.4); Su et al. 2024, 'Unraveling the Mystery of Scaling Laws: "
               "Part I'"),
    description=("Loss after S steps at batch size B (tokens) of a model with N non-embedding "
                 "parameters, in the infinite-data limit; solved for L since B_crit depends on it."),
    notes=("Implicit in L (B_crit depends on the loss), solved by a monotone root find. Published: "
           "N_c = 6.5e13, alpha_N = 0.077, S_c = 2.1e3, alpha_S = 0.76, B_star = 2e8 tokens, "
           "alpha_B = 0.21. B_star and alpha_B need runs at several batch sizes; fix them "
           "otherwise. Exponents fitted as logs."),
    inputs=("N", "S", "B"),
    parameters=(
        Parameter(name="N_c", transform="log", init=(25.0, 30.0, 35.0), realistic=(1e13, 3e14),
                  description="parameter scale"),
        Parameter(name="alpha_N", transform="log", init=_log_grid(0.04, 0.08, 0.16),
                  realistic=(0.06, 0.1), description="exponent of N"),
        Parameter(name="S_c", transform="log", init=(5.0, 8.0, 11.0), realistic=(1e3, 5e3),
                  description="step scale"),
        Parameter(name="alpha_S", transform="log", init=_log_grid(0.4, 0.8, 1.2),
                  realistic=(0.6, 0.9), description="exponent of S_min"),
        Parameter(name="B_star", transform="log", init=(15.0, 19.0, 23.0),
                  realistic=(1e8, 5e8), description="critical-batch scale (tokens)"),
        Parameter(name="alpha_B", transform="log", init=_log_grid(0.1, 0.2, 0.4),
                  realistic=(0.18, 0.25), description="critical-batch exponent"),
    ),
    log_predict=log_predict,
    log_predict_and_jac=log_predict_and_jac,
    prepare=np.log,
    default_estimator=PUBLISHED_HUBER,
)
FAMILIES = (kaplan_steps,)
