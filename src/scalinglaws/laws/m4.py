"""The M4 estimator of Alabdulmohsin, Neyshabur and Zhai (2022): an implicit scaling law.

.. math::

    \\frac{L - \\varepsilon_\\infty}{(\\varepsilon_0 - L)^{\\alpha}} = \\beta x^{c}

L is the loss or error at scale x (data size, model size or compute), :math:`\\varepsilon_\\infty`
the limit as x grows, :math:`\\varepsilon_0 > \\varepsilon_\\infty` the loss of a random guess
(the limit as x shrinks), and :math:`c < 0` the scaling exponent of the excess loss; the factor
:math:`(\\varepsilon_0 - L)^{\\alpha}` bends the curve into a sigmoid in log x, so the law follows
a power law in the middle and saturates at both ends.

Reference: Alabdulmohsin, Neyshabur, Zhai (2022), "Revisiting Neural Scaling Laws in Language and
Vision" (NeurIPS), arXiv:2209.06640; official code google-research/revisiting_neural_scaling_laws
(``methods/m4.py``). Their benchmark of 92 learning curves (``data/``) with fixed fit/extrapolate
splits is the standard test of one-dimensional extrapolation.

Prediction. L has no closed form, so :func:`m4_loss` solves the equation pointwise. With
:math:`w = L - \\varepsilon_\\infty = b\\,\\sigma(u)`, :math:`b = \\varepsilon_0 - \\varepsilon_\\infty`,
the equation becomes, in the unconstrained variable u,

.. math::

    h(u) = \\log\\sigma(u) - \\alpha \\log\\sigma(-u) - t = 0, \\qquad
    t = \\log\\beta + c \\log x - (1 - \\alpha) \\log b,

with :math:`h'(u) = \\sigma(-u) + \\alpha\\sigma(u) \\in [\\min(1, \\alpha), \\max(1, \\alpha)]`:
strictly increasing, so the root is unique and lies within :math:`|h(u_0)| / \\min(1, \\alpha)` of
any guess :math:`u_0`. We start from the root of h's asymptotes (:math:`u_0 = t` for t < 0,
:math:`t / \\alpha` otherwise) and run the safeguarded Newton iteration of
:mod:`scalinglaws.laws.implicit`; derivatives come from the implicit function theorem:
``log_predict`` carries a ``jax.custom_jvp`` rule (so ``jax.jacfwd``, as the core uses, works
unchanged), and ``log_predict_and_jac`` gives the same Jacobian in closed form from one root find,
which is what the fits use (half the work, and a much smaller program to compile).

Differences from LAWS.md and from the paper:

* LAWS.md's formula is the paper's, with c < 0 (the code fits -c under a non-negativity
  constraint, ``c = -coef``); nothing to correct.
* The paper's estimator does not fit predictions: it alternates a non-negative linear regression
  of :math:`\\log(L - \\varepsilon_\\infty)` on :math:`(1, -\\log x, \\log(\\varepsilon_0 - L))`
  (for log beta, c, alpha) with gradient/Newton steps on :math:`\\varepsilon_\\infty,
  \\varepsilon_0`, i.e. it minimises the squared error between the two *sides* of the equation
  in log space. Here the law is fitted like every other family, on residuals of the predicted
  loss (default: squared error of log L), which is what extrapolation is judged by. Both agree on
  noise-free data.
* The paper initialises :math:`\\varepsilon_0` at 1 (errors) or the largest observed loss and
  allows alpha = 0 (then L = eps_inf + beta x^c); here alpha is fitted as log alpha, so alpha > 0,
  and eps_0 is free. A step that makes :math:`\\varepsilon_0 \\le \\varepsilon_\\infty` gives a
  non-finite objective, which the solver rejects.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .base import EstimatorRecipe, LawFamily, Parameter
from .implicit import monotone_root


def _h(u, t, alpha):
    return jax.nn.log_sigmoid(u) - alpha * jax.nn.log_sigmoid(-u) - t


def _u0(t, alpha):
    return jnp.where(t < 0, t, t / alpha)


def _bracket(t, alpha):
    u0 = _u0(t, alpha)
    radius = jnp.abs(_h(u0, t, alpha)) / jnp.minimum(1.0, alpha) + 1.0
    return u0 - radius, u0 + radius


_solve_u = monotone_root(_h, _bracket, init=_u0)


def m4_loss(eps_inf, eps_0, alpha, log_beta, c, log_x, *, log: bool = False):
    """L (or log L with ``log=True``) solving the M4 equation at ``log_x``; differentiable."""
    log_b = jnp.log(eps_0 - eps_inf)
    t = log_beta + c * log_x - (1.0 - alpha) * log_b
    u = _solve_u(t, alpha)
    log_w = log_b + jax.nn.log_sigmoid(u)
    if log:
        return jnp.logaddexp(jnp.log(eps_inf), log_w)
    return eps_inf + jnp.exp(log_w)


def _parts(theta, z):
    eps_inf, eps_0, alpha = jnp.exp(theta[0]), jnp.exp(theta[1]), jnp.exp(theta[2])
    log_b = jnp.log(eps_0 - eps_inf)
    t = theta[3] + theta[4] * z[:, 0] - (1.0 - alpha) * log_b
    return eps_inf, eps_0, alpha, log_b, t


@jax.jit  # eager callers (predict, simulate) compile the root find once per shape
def log_predict(theta, z):
    """log L with theta = (log eps_inf, log eps_0, log alpha, log beta, c), z = log x."""
    eps_inf, eps_0, alpha = jnp.exp(theta[0]), jnp.exp(theta[1]), jnp.exp(theta[2])
    return m4_loss(eps_inf, eps_0, alpha, theta[3], theta[4], z[:, 0], log=True)


@jax.jit
def log_predict_and_jac(theta, z):
    """log L and its Jacobian from one root find (the implicit function theorem, by hand).

    With w = b sigma(u), L = eps_inf + w: du = (dt + log sigma(-u) d alpha) / (sigma(-u) +
    alpha sigma(u)) and d log L = (eps_inf d log eps_inf + w (d log b + sigma(-u) du)) / L.
    """
    eps_inf, eps_0, alpha, log_b, t = _parts(theta, z)
    u = jax.lax.stop_gradient(_solve_u(t, alpha))
    sig_u, sig_mu = jax.nn.sigmoid(u), jax.nn.sigmoid(-u)
    log_w = log_b + jax.nn.log_sigmoid(u)
    y = jnp.logaddexp(theta[0], log_w)
    s_inf, s_w = jnp.exp(theta[0] - y), jnp.exp(log_w - y)  # eps_inf / L, w / L
    b = eps_0 - eps_inf
    dlogb = (-eps_inf / b, eps_0 / b)  # d log b / d (log eps_inf, log eps_0)
    one = jnp.ones_like(u)
    dt = [(1.0 - alpha) * -dlogb[0] * one, (1.0 - alpha) * -dlogb[1] * one,
          alpha * log_b * one, one, z[:, 0]]
    dalpha = [0.0, 0.0, alpha, 0.0, 0.0]
    denom = sig_mu + alpha * sig_u
    cols = []
    for k in range(5):
        du = (dt[k] + jax.nn.log_sigmoid(-u) * dalpha[k]) / denom
        dlb = dlogb[k] if k < 2 else 0.0
        cols.append((s_inf if k == 0 else 0.0) + s_w * (dlb + sig_mu * du))
    return y, jnp.stack(cols, axis=1)


m4 = LawFamily(
    name="m4",
    formula="(L - eps_inf) / (eps_0 - L)^alpha = beta x^c  (solved for L)",
    reference=(
        "Alabdulmohsin, Neyshabur, Zhai 2022, 'Revisiting Neural Scaling Laws in Language and "
        "Vision' (NeurIPS), arXiv:2209.06640"
    ),
    description=("Loss or error against one scale variable x, saturating at eps_0 for small x and "
                 "at eps_inf for large x; an implicit law solved per point."),
    notes=(
        "Predicted by a monotone root find (safeguarded Newton on the logit of "
        "(L - eps_inf) / (eps_0 - eps_inf)), differentiated by the implicit function theorem. "
        "c < 0. The paper fits the log of both sides of the equation by alternating regressions; "
        "here the default is squared error of log L (the extrapolation metric). Map x with "
        "`inputs: {x: <column>}`."
    ),
    inputs=("x",),
    parameters=(
        Parameter(name="eps_inf", transform="log", init=(-2.0, -1.0, 0.0, 0.5),
                  realistic=(0.1, 1.0), description="loss in the limit of infinite scale"),
        Parameter(name="eps_0", transform="log", init=(0.5, 1.0, 2.0, 3.0),
                  realistic=(1.1, 4.0),
                  description="loss of a random guess (limit of zero scale); > eps_inf"),
        Parameter(name="alpha", transform="log", init=(-2.0, -0.5, 0.5),
                  realistic=(0.3, 1.5), description="bending exponent of (eps_0 - L)"),
        Parameter(name="beta", transform="log", init=(0.0, 4.0, 8.0),
                  realistic=(10.0, 1e4), description="scale of the power law"),
        Parameter(name="c", init=(-0.7, -0.4, -0.2, -0.05), realistic=(-0.7, -0.25),
                  description="scaling exponent (negative)"),
    ),
    log_predict=log_predict,
    log_predict_and_jac=log_predict_and_jac,
    prepare=np.log,
    default_estimator=EstimatorRecipe(loss="squared"),
)
FAMILIES = (m4,)
