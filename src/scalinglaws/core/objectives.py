"""Per-point losses on residuals, registered by name, and the objective summed over points.

The objective is the *sum* over points (not the mean), as in Hoffmann et al. (2022) and Besiroglu et
al. (2024): a mean makes objectives tiny and turns relative stopping rules into absolute ones, which
is how the original Chinchilla fit stopped early.

Residuals are r = prediction - target in the estimator's space (log or linear), the sign the core
uses everywhere: r > 0 is over-prediction (the curve above the point).

A loss is one :class:`LossKind` in :data:`LOSSES`, found by name by :func:`loss_kind`. The solvers
need three functions of r from it:

* ``rho(r)``, the loss, summed into the objective;
* ``psi(r) = rho'(r)``, the influence function: the gradient of the objective is ``J^T (w psi(r))``
  with J the Jacobian of the predictions and w the point weights;
* a curvature weight ``c(r)`` for the Gauss-Newton matrix ``J^T diag(w c) J``. Two choices:
  ``irls`` takes ``c = psi(r) / r`` (Holland & Welsch 1977), whose quadratic model majorises
  rho, so steps are safe far from the optimum, but it overstates the curvature of points in
  Huber's linear region (delta / |r| instead of 0) and converges only linearly near the optimum;
  ``newton`` takes ``c = rho''(r)`` (1 inside the quadratic region, 0 outside), the exact
  Gauss-Newton curvature of the Huber objective: once the set of points in the linear region stops
  changing, the problem is a weighted least squares on the inliers and the steps converge like
  Gauss-Newton (fast), but the model no longer majorises rho and it is singular when fewer than P
  points are inliers, so it suits the polish, not the screening of far-away starts (``lm``'s
  ``hybrid`` curvature uses it only with at least P quadratic-region points, for the losses that
  declare ``hybrid``).

Read as a likelihood, a loss gives the residual density p(r | s) = exp(-rho(r) / s) / Z(s) with a
temperature s; ``log_normaliser`` is log Z(s) and ``scale`` the s maximising the likelihood of
residuals with sum_i rho(r_i) = H, argmin_s H / s + n log Z(s) (for AIC and BIC in ``compare``).

Adding a loss is one subclass and one entry of :data:`LOSSES`: the estimator takes it by name
(``loss:``) with its parameters (``loss_args:``), and every solver, the bootstrap, the diagnostics
and the information criteria use it through this interface.

The functions take numpy or JAX arrays (JAX arrays and tracers stay in JAX), so one definition
serves the compiled solvers and host-side code.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Dict, Mapping, NamedTuple, Optional

import jax
import jax.numpy as jnp
import numpy as np

CURVATURES = ("irls", "newton")


class Loss(NamedTuple):
    """A per-point loss as the compiled core takes it: hashable, so a static argument of ``jit``
    (the core compiles once per loss).

    ``kind`` names a registered :class:`LossKind`; ``delta`` is the threshold of the Huber-type
    losses in residual units (ignored by the others); ``args`` holds the kind's other parameters
    as ``((name, value), ...)`` (:func:`make_loss` fills and checks them; a missing one takes its
    default).
    """

    kind: str = "huber"
    delta: float = 1e-3
    args: tuple = ()

    def arg(self, name: str) -> float:
        """The value of the loss parameter ``name`` (its default when not given)."""
        return dict(self.args).get(name, loss_kind(self.kind).params[name])


def _xp(r):
    """jax.numpy for JAX arrays and tracers, numpy otherwise."""
    return jnp if isinstance(r, jax.Array) else np


class LossKind:
    """One per-point loss rho: its value, derivatives, curvature and likelihood normaliser.

    Abstract: subclasses set ``name`` and implement the methods declared below by their type;
    ``quadratic_region``, ``scale`` and ``check`` have general defaults. Each method takes the
    :class:`Loss` (for ``delta`` and ``args``) and residuals r (numpy or JAX).
    """

    name: str = ""
    params: Mapping[str, float] = {}  # parameters beyond delta (``loss_args``) and their defaults
    hybrid: bool = False  # rho'' differs from psi/r: lm's "hybrid" curvature splits H (see lm)
    rho: Callable[[Loss, Any], Any]
    psi: Callable[[Loss, Any], Any]  # rho'(r)
    irls: Callable[[Loss, Any], Any]  # psi(r) / r: weights making the loss a least-squares majoriser
    newton: Callable[[Loss, Any], Any]  # rho''(r) where it exists; the one-sided value at a kink
    log_normaliser: Callable[[Loss, Any], Any]  # (loss, s) -> log Z(s), Z(s) = int exp(-rho(r) / s) dr
    describe: Callable[[Loss], str]  # the loss in words, for reports

    def quadratic_region(self, loss: Loss, r):
        """Boolean mask of the points where rho is quadratic, or None when that is all of them.

        ``hybrid`` uses the exact curvature once at least P points (by weight) are in it; the
        diagnostics report the share of points outside it."""
        return None

    def scale(self, loss: Loss, h: float, n: int) -> float:
        """s maximising the likelihood of n residuals with sum rho = h: argmin_s h / s + n log Z(s),
        a one-dimensional bounded search in log s around h / n."""
        from scipy.optimize import minimize_scalar  # host-side only; keeps scipy off the import

        def nll(log_s):
            s_ = math.exp(log_s)
            return h / s_ + n * float(self.log_normaliser(loss, s_))

        centre = math.log(max(h / n, 1e-300))
        res = minimize_scalar(nll, bounds=(centre - 25.0, centre + 25.0), method="bounded",
                              options={"xatol": 1e-10})
        return math.exp(float(res.x))

    def check(self, loss: Loss) -> Optional[str]:
        """A message when the parameters of ``loss`` are out of range (None when they are fine)."""
        return None


class Squared(LossKind):
    """rho(r) = r^2 / 2: least squares; its likelihood is the Gaussian with variance s."""

    name = "squared"

    def rho(self, loss, r):
        return 0.5 * r * r

    def psi(self, loss, r):
        return r

    def irls(self, loss, r):
        return _xp(r).ones_like(r)

    newton = irls  # rho'' = psi / r = 1

    def log_normaliser(self, loss, s):
        xp = _xp(s)
        return 0.5 * xp.log(2 * xp.pi * xp.asarray(s, dtype=xp.float64))

    def scale(self, loss, h, n):
        return max(2 * h / n, 1e-300)  # the Gaussian variance: mean of r^2

    def describe(self, loss):
        return "squared error"


def _huber_log_normaliser(s, delta, xp):
    """log Z(s) = log(sqrt(2 pi s) erf(delta / sqrt(2 s)) + (2 s / delta) exp(-delta^2 / (2 s))):
    the Gaussian core |r| <= delta and the two Laplace tails, summed in log space."""
    if xp is np:
        from scipy.special import erf
    else:
        from jax.scipy.special import erf
    s = xp.asarray(s, dtype=xp.float64)
    core = 0.5 * xp.log(2 * xp.pi * s) + xp.log(xp.maximum(erf(delta / xp.sqrt(2 * s)), 1e-300))
    tails = xp.log(2 * s / delta) - delta * delta / (2 * s)
    return xp.logaddexp(core, tails)


class Huber(LossKind):
    """rho(r) = r^2 / 2 for |r| <= delta, delta (|r| - delta / 2) otherwise (Huber 1964; the form
    of ``scipy.special.huber``). Its likelihood is Huber's least-favourable density: Gaussian
    (variance s) in the middle, Laplace in the tails."""

    name = "huber"
    hybrid = True

    def rho(self, loss, r):
        xp, d = _xp(r), loss.delta
        a = xp.abs(r)
        return xp.where(a <= d, 0.5 * r * r, d * (a - 0.5 * d))

    def psi(self, loss, r):
        return _xp(r).clip(r, -loss.delta, loss.delta)

    def irls(self, loss, r):
        xp, d = _xp(r), loss.delta
        a = xp.abs(r)
        return xp.where(a <= d, 1.0, d / xp.maximum(a, d))

    def newton(self, loss, r):
        return self.quadratic_region(loss, r).astype(r.dtype)

    def quadratic_region(self, loss, r):
        return _xp(r).abs(r) <= loss.delta

    def log_normaliser(self, loss, s):
        return _huber_log_normaliser(s, loss.delta, _xp(s))

    def describe(self, loss):
        return f"Huber (delta = {loss.delta:g})"


class AsymmetricHuber(Huber):
    """Huber with over-prediction weighted k times: rho(r) = k huber_delta(r) for r > 0 (the
    prediction above the point), huber_delta(r) for r <= 0; k = 1 is Huber. With k > 1 the fit
    leans towards the lower envelope of noisy points (with small delta it is close to quantile
    regression at 1 / (1 + k)), as the OLMo team's Chinchilla fits of their model ladders do with
    an ``overestimate_penalty``. psi, psi/r and rho'' are Huber's times the same side weight;
    rho'' jumps from 1 to k at r = 0 (the one-sided values).

    Likelihood: each half-line integrates to half of a Huber normaliser, the r > 0 side at
    temperature s / k, so Z(s) = (Z_huber(s) + Z_huber(s / k)) / 2 in closed form.
    """

    name = "asymmetric_huber"
    params = {"k": 1.0}

    def _side(self, loss, r):
        return _xp(r).where(r > 0, loss.arg("k"), 1.0)

    def rho(self, loss, r):
        return self._side(loss, r) * super().rho(loss, r)

    def psi(self, loss, r):
        return self._side(loss, r) * super().psi(loss, r)

    def irls(self, loss, r):
        return self._side(loss, r) * super().irls(loss, r)

    def newton(self, loss, r):
        return self._side(loss, r) * super().newton(loss, r)

    def log_normaliser(self, loss, s):
        xp = _xp(s)
        k = loss.arg("k")
        both = xp.logaddexp(_huber_log_normaliser(s, loss.delta, xp),
                            _huber_log_normaliser(xp.asarray(s) / k, loss.delta, xp))
        return both - math.log(2.0)

    def check(self, loss):
        k = loss.arg("k")
        return None if k > 0 else f"k (the weight of over-prediction) must be > 0, got {k:g}"

    def describe(self, loss):
        return (f"asymmetric Huber (delta = {loss.delta:g}, over-prediction weighted "
                f"k = {loss.arg('k'):g} times)")


LOSSES: Dict[str, LossKind] = {k.name: k for k in (Huber(), Squared(), AsymmetricHuber())}


def loss_kind(name: str) -> LossKind:
    """The registered loss called ``name``; a ValueError listing the registered ones otherwise."""
    try:
        return LOSSES[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown loss {name!r}; registered losses: {', '.join(LOSSES)}") from None


def make_loss(kind: str = "huber", delta: float = 1e-3, args: Optional[Mapping[str, float]] = None
              ) -> Loss:
    """A checked :class:`Loss`: ``kind`` registered, ``delta`` > 0, ``args`` only the kind's declared
    parameters (numbers; the missing ones take their defaults), in declared order."""
    k = loss_kind(kind)
    args = dict(args or {})
    unknown = sorted(set(args) - set(k.params))
    if unknown:
        takes = f"its parameters are {', '.join(k.params)}" if k.params else "it takes none"
        raise ValueError(f"loss {kind!r} has no parameter {', '.join(map(repr, unknown))}; {takes}")
    for name, value in args.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"loss parameter {name!r}: expected a number, got {value!r}")
    if not (math.isfinite(delta) and delta > 0):
        raise ValueError(f"loss delta: expected a number > 0, got {delta!r}")
    loss = Loss(kind, float(delta), tuple((n, float(args.get(n, v))) for n, v in k.params.items()))
    problem = k.check(loss)
    if problem:
        raise ValueError(f"loss {kind!r}: {problem}")
    return loss


def describe_loss(kind: str, delta: float = 1e-3, args: Optional[Mapping[str, float]] = None) -> str:
    """The loss in words for reports (``Huber (delta = 0.001)``); an unregistered name as given."""
    try:
        loss = make_loss(kind, float(delta), args)
    except (ValueError, TypeError):
        return str(kind)
    return loss_kind(kind).describe(loss)


def rho(loss: Loss, r):
    """Per-point loss values."""
    return loss_kind(loss.kind).rho(loss, r)


def psi(loss: Loss, r):
    """rho'(r), the influence function."""
    return loss_kind(loss.kind).psi(loss, r)


def irls_weights(loss: Loss, r):
    """psi(r) / r: the weights that turn the loss into a weighted least-squares majoriser."""
    return loss_kind(loss.kind).irls(loss, r)


def curvature_weights(loss: Loss, r, curvature: str):
    """Per-point weights of the Gauss-Newton matrix: ``irls`` psi(r)/r or ``newton`` rho''(r)."""
    if curvature == "irls":
        return irls_weights(loss, r)
    if curvature != "newton":
        raise ValueError(f"curvature must be one of {CURVATURES}, got {curvature!r}")
    return loss_kind(loss.kind).newton(loss, r)


def objective(loss: Loss, r: jnp.ndarray, weights: jnp.ndarray) -> jnp.ndarray:
    """Sum over points of weight * rho(r); zero-weight points (padding, resampling) drop out.

    They drop out even when their residual is not finite (0 * inf would be nan).
    """
    return jnp.sum(jnp.where(weights > 0, weights * rho(loss, r), 0.0), axis=-1)
