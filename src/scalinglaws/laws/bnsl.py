"""Broken neural scaling laws (Caballero et al. 2023): smoothly broken power laws, any number of breaks.

.. math::

    y = a + b\\,x^{-c_0} \\prod_{i=1}^{n} \\left(1 + \\left(\\frac{x}{d_i}\\right)^{1/f_i}\\right)^{-c_i f_i}

Between breaks the curve is a power law; around :math:`x = d_i` its log-log slope changes by
:math:`-c_i` (so the slope after break i is :math:`-(c_0 + c_1 + \\dots + c_i)`), and
:math:`f_i > 0` sets how sharp the break is (smaller is sharper). Negative :math:`c_i` bend the
curve upwards, which expresses double descent, U-shaped and inverse scaling (Wei et al. 2022,
"Inverse scaling can become U-shaped"; McKenzie et al. 2023, "Inverse Scaling").

Reference: Caballero, Gupta, Rish, Krueger (2023), "Broken Neural Scaling Laws" (ICLR),
arXiv:2210.14891, eq. (1); code ethancaballero/broken_neural_scaling_laws.

Families. :func:`bnsl` builds the law for any number of breaks (``bnsl(3)``, cached, so the same
object comes back and compiles once). Two are registered: ``bnsl`` (one break, 6 parameters
a, b, c0, c1, d1, f1) and ``bnsl2`` (two breaks, 9 parameters). More breaks rarely fit
reliably from a learning curve; register ``bnsl(n)`` from a plugin (or pass it to
``scalinglaws.fit``) when needed.

Fitting space: log a, log b, c0, c_i, log d_i, log f_i (a, b, d_i, f_i > 0). The prediction is
computed in log space, log(y - a) = log b - c0 log x - sum_i c_i f_i softplus((log x - log d_i) /
f_i), which stays finite for sharp breaks and extreme x.

Differences from LAWS.md and from the paper:

* LAWS.md gives the paper's eq. (1); nothing to correct.
* Here a > 0 (fitted as log a) so that log residuals are defined; the paper allows a = 0 (and
  their code's grid starts there). Fit a target whose limit is 0 (an error rate going to 0) with
  ``bnsl`` only if the limit is positive, or shift the target.
* The authors fit by brute-force grid search of the mean squared log error of (y + 1), then
  ``curve_fit`` on log(y + 1), with the grid adjusted per task (their README warns about it).
  ``default_estimator`` here is squared error of log y from 256 random starts spread over the
  ranges of each parameter's init values, every one run to convergence (``schedule: full``:
  screening by successive halving loses the right basin of two-break fits noticeably more often,
  and BNSL data sets are small). Break i starts in the i-th of n equal parts of log d in (2, 20)
  (d from 7 to 5e8); set ``grid`` ranges of log d_i that cover log x of your data when it lies
  elsewhere.
* Breaks are exchangeable: the law is symmetric under relabelling (c_i, d_i, f_i), so both
  labellings are optima with the same objective and a fit may return the breaks in either order
  (the ordered starting ranges make increasing order the common outcome, not a guarantee);
  :func:`sort_breaks` orders them by d_i.
* Identifiability: a needs the curve to approach it (a final slope -(c0 + sum c_i) clearly
  negative), and each break needs a visible slope change (|c_i| of a few tenths) with data on
  both sides. Rising ends (U-shapes) fit, but a then trades off against b and the last slope.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from .base import EstimatorRecipe, LawFamily, Parameter


def _log_predict(n_breaks: int):
    def log_predict(theta, z):
        """theta = (log a, log b, c0, c_1..n, log d_1..n, log f_1..n); z = log x."""
        log_x = z[:, 0]
        log_excess = theta[1] - theta[2] * log_x
        for i in range(n_breaks):
            c, log_d, log_f = theta[3 + i], theta[3 + n_breaks + i], theta[3 + 2 * n_breaks + i]
            f = jnp.exp(log_f)
            log_excess = log_excess - c * f * jax.nn.softplus((log_x - log_d) / f)
        return jnp.logaddexp(theta[0], log_excess)

    return log_predict


@functools.cache
def bnsl(n_breaks: int = 1, name: str = "") -> LawFamily:
    """The broken neural scaling law with ``n_breaks`` breaks (one family object per call
    signature, so the core compiles it once)."""
    if n_breaks < 1:
        raise ValueError(f"a broken power law needs at least one break, got {n_breaks}")
    name = name or ("bnsl" if n_breaks == 1 else f"bnsl{n_breaks}")
    breaks = "one break" if n_breaks == 1 else f"{n_breaks} breaks"
    k = range(1, n_breaks + 1)
    product = " * ".join(f"(1 + (x / d{i})^(1 / f{i}))^(-c{i} f{i})" for i in k)
    params = [
        Parameter(name="a", transform="log", init=(-2.0, 0.5), realistic=(0.1, 1.0),
                  description="limit of y as x grows (> 0)"),
        Parameter(name="b", transform="log", init=(0.0, 6.0), realistic=(1.0, 100.0),
                  description="scale"),
        Parameter(name="c0", init=(0.0, 1.0), realistic=(0.1, 0.6),
                  description="exponent before the first break"),
    ]
    params += [Parameter(name=f"c{i}", init=(-0.5, 1.0), realistic=(0.2, 1.0),
                         description=f"change of the log-log slope at break {i}") for i in k]
    # Start break i in the i-th of n equal parts of log d in (2, 20): random starts then begin with
    # the breaks in increasing order, which is how fits usually end too (the law is symmetric
    # under relabelling the breaks; see sort_breaks).
    edges = np.linspace(2.0, 20.0, n_breaks + 1)
    params += [Parameter(name=f"d{i}", transform="log", init=(float(edges[i - 1]), float(edges[i])),
                         realistic=(1e2, 1e7), description=f"location of break {i} (in units of x)")
               for i in k]
    params += [Parameter(name=f"f{i}", transform="log", init=(-2.0, 1.0), realistic=(0.2, 0.6),
                         description=f"smoothness of break {i} (smaller is sharper)") for i in k]
    return LawFamily(
        name=name,
        formula="y = a + b x^-c0 * " + product,
        reference=("Caballero, Gupta, Rish, Krueger 2023, 'Broken Neural Scaling Laws' (ICLR), "
                   "arXiv:2210.14891, eq. (1)"),
        description=(f"Smoothly broken power law with {breaks} in one scale variable x; negative "
                     "c_i give double descent, U-shaped and inverse scaling."),
        notes=("Fitted in log space: log(y - a) = log b - c0 log x - sum c_i f_i softplus((log x "
               "- log d_i) / f_i). a > 0. Default: squared error of log y from random starts "
               "within the init ranges; log d_i should span log x of the data. Map x with "
               "`inputs: {x: <column>}`."),
        inputs=("x",),
        parameters=tuple(params),
        log_predict=_log_predict(n_breaks),
        prepare=np.log,
        default_estimator=EstimatorRecipe(loss="squared", starts="random", n_random=256,
                                          schedule="full"),
    )


def sort_breaks(params, n_breaks: int):
    """``params`` with the breaks relabelled in increasing order of d_i."""
    order = sorted(range(1, n_breaks + 1), key=lambda i: params[f"d{i}"])
    out = dict(params)
    for new, old in enumerate(order, 1):
        for key in ("c", "d", "f"):
            out[f"{key}{new}"] = params[f"{key}{old}"]
    return out


FAMILIES = (bnsl(1), bnsl(2))
