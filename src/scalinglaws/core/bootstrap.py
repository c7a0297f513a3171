"""Uncertainty of a robust fit: bootstrap by resample weights, and delta-method standard errors.

Bootstrap (Efron 1979), nonparametric, by weights. Resample b draws n points with replacement
from the n points of positive weight; point i drawn c_bi times gets weight c_bi * w_i, so

    theta_b = argmin_theta  sum_i c_bi w_i rho(r_i(theta)),   c_b ~ Multinomial(n, 1/n, ..., 1/n).

Resampling by weights keeps every array the same shape, so all B resamples are one batch of one
compiled program: the data, the model and the solver are shared, only the weight rows differ.
Each resample is polished from the best few *distinct* minima of the full-data fit (not from the
whole start grid): a resample's optimum lies close to the full-data optimum, and the hybrid
Gauss-Newton polish gets there in a few iterations; starting from the other distinct minima as
well lets a resample switch basins when its data favour another one. The B x m polishes run as
one vmapped batch; each resample keeps its best.

Standard errors (the cheap alternative, one evaluation): for the M-estimator minimising
sum_i w_i rho(r_i) the asymptotic covariance is the sandwich (Huber 1967; White 1980)

    Cov = n / (n - P) * A^-1 B A^-1,   A = J^T diag(w rho''(r)) J,   B = J^T diag((w psi(r))^2) J,

at the optimum, with J the Jacobian of the predictions and n the number of points of positive
weight. A is the exact Gauss-Newton Hessian of the objective (for Huber, only the points in the
quadratic region carry curvature) and B the outer product of the per-point gradients.
``method="hessian"`` assumes homoscedastic residuals instead: Cov = s^2 A^-1 with
s^2 = (sum w psi^2 / (n - P)) / (sum w rho'' / n), which for squared error is the textbook
sigma^2 (J^T J)^-1 and for Huber the leading term of Huber's (1981, sec. 7.6) formula. Standard
errors of transformed parameters (E = exp(e), ...) follow by the delta method,
Cov_g = G Cov G^T with G the Jacobian of the transform. Both rest on a local quadratic
approximation: with few points in Huber's quadratic region (A nearly singular) or an optimum at
the edge of a flat valley they can be far off, which the bootstrap is not.
"""

from __future__ import annotations

from typing import Callable, NamedTuple, Optional

import jax
import jax.numpy as jnp
import numpy as np

from . import lm, sharding
from ._jit import jit
from .model import Model, predict_and_jacobian
from .multistart import DEFAULT_SCHEDULE, MultiStartResult, Schedule, as_float64, fit
from .objectives import Loss, curvature_weights, psi

DISTINCT_RTOL = 1e-8  # survivors whose objectives differ by less (relative) are one minimum


class BootstrapResult(NamedTuple):
    thetas: jax.Array  # (B, P) best parameters of each resample, in the fitting space
    values: jax.Array  # (B,) objective of each resample (under its own weights)
    converged: jax.Array  # (B,) bool: the best polish met the tolerance before max_iter
    iterations: jax.Array  # (B,) iterations of the best polish
    counts: jax.Array  # (B, n) how many times each point was drawn
    starts: jax.Array  # (m, P) the distinct minima of the full fit every resample started from
    fit: MultiStartResult  # the full-data fit


class StandardErrors(NamedTuple):
    se: jax.Array  # (Q,) standard errors (Q = P, or the transform's output size)
    cov: jax.Array  # (Q, Q) covariance
    condition: jax.Array  # condition number of A (large: SEs unreliable)


def resample_counts(key, weights, n_resamples: int):
    """(B, n) multinomial counts: n_live draws with replacement among the points of positive weight.

    Draw k uniform in [0, n_live) and map it to the k-th live point, so padding (zero weight) is
    never drawn and the number of live points may be a traced value: the shapes stay (B, n) and
    only the first n_live of the n draws of a row count.
    """
    n = weights.shape[0]
    live = weights > 0
    n_live = jnp.sum(live)
    live_first = jnp.argsort(~live, stable=True)  # indices of the live points, in order, first
    # floor(u n_live) rather than randint: same distribution (u has 53 random bits), and
    # randint's extra bit-twiddling doubles the compile time of this whole program.
    u = jax.random.uniform(key, (n_resamples, n), dtype=jnp.float64)
    k = jnp.minimum(jnp.floor(u * n_live).astype(jnp.int32), n_live - 1)
    idx = live_first[k]
    counted = (jnp.arange(n) < n_live).astype(weights.dtype)
    rows = jnp.broadcast_to(jnp.arange(n_resamples)[:, None], idx.shape)
    return jnp.zeros((n_resamples, n), weights.dtype).at[rows, idx].add(counted)


def polish_resamples(model: Model, starts, x, target, weights, key, *, n_resamples: int,
                     loss: Loss, max_iter: int, ftol: float):
    """Fit every resample from every row of ``starts``; pure and jit-compatible.

    Returns (thetas (B, P), values (B,), converged (B,), iterations (B,), counts (B, n)).
    """
    counts = resample_counts(key, weights, n_resamples)
    m = starts.shape[0]
    # Row b * m + j: resample b from start j.
    w_rows = jnp.repeat(counts * weights, m, axis=0)
    theta0 = jnp.tile(starts, (n_resamples, 1))

    def polish(theta0, w_rows, x, target):
        states = jax.vmap(lambda th, w: lm.init_state(model, th, x, target, w, loss, "hybrid"))(
            theta0, w_rows)
        return lm.run_to_convergence(model, states, x, target, w_rows, loss, ftol, max_iter,
                                     "hybrid", weights_batched=True)

    if jax.device_count() > 1:
        # Rows are independent: split the B x m rows over all devices (the device count is fixed
        # when this is traced, so one compiled program per device layout).
        states = sharding.map_rows(polish, (theta0, w_rows), (x, target))
    else:
        states = polish(theta0, w_rows, x, target)
    values = jnp.reshape(states.value, (n_resamples, m))
    best = jnp.argmin(values, axis=1)
    rows = jnp.arange(n_resamples)

    def pick(a):
        return jnp.reshape(a, (n_resamples, m) + a.shape[1:])[rows, best]

    return pick(states.theta), pick(states.value), pick(states.done), pick(states.iterations), counts


_polish_jit = jit(polish_resamples,
                  static_argnames=("model", "n_resamples", "loss", "max_iter", "ftol"))


def distinct_minima(result: MultiStartResult, k: int) -> np.ndarray:
    """Up to ``k`` polished survivors at distinct minima, best first (host-side, tiny).

    Minima are told apart by their objective (relative difference above ``DISTINCT_RTOL``), not by
    their parameters: survivors that drifted along a flat direction to the same fit (E -> 0 with
    log E anywhere from -50 to -230, say) are one minimum, and polishing every resample from each
    of them would only multiply the work.
    """
    thetas = np.asarray(result.thetas)
    values = np.asarray(result.values)
    chosen: list = []
    kept: list = []
    for th, v in zip(thetas, values):
        if not np.isfinite(v):
            continue
        if all(abs(v - u) > DISTINCT_RTOL * abs(u) for u in kept):
            chosen.append(th)
            kept.append(v)
            if len(chosen) == k:
                break
    if not chosen:
        raise ValueError("the full-data fit has no finite optimum to start the resamples from")
    return np.stack(chosen)


def bootstrap(model: Model, starts, x, target, weights=None, *, n_resamples: int = 1000,
              seed: int = 0, n_starts_per_resample: int = 4, loss: Loss = Loss(),
              schedule: Schedule = DEFAULT_SCHEDULE, max_iter: int = 500, ftol: float = 1e-12,
              result: Optional[MultiStartResult] = None) -> BootstrapResult:
    """Nonparametric bootstrap of the multi-start robust fit; all resamples in one compiled call.

    Args:
      model, starts, x, target, weights, loss, schedule, max_iter, ftol: as for :func:`fit`; the
        full-data fit uses them all, the resamples use model, data, loss, max_iter and ftol.
      n_resamples: B, the number of bootstrap resamples.
      seed: seed of the resampling (``jax.random.key(seed)``): same seed, same counts, same fits.
      n_starts_per_resample: m, how many distinct minima of the full fit (best first) every
        resample is polished from; fewer when the full fit found fewer distinct minima.
      result: the full-data fit, if already computed (skips refitting).

    Percentile intervals and standard errors come from ``thetas`` (e.g. ``thetas.std(0)``), or of
    natural parameters after transforming each row.
    """
    if n_resamples < 1 or n_starts_per_resample < 1:
        raise ValueError("n_resamples and n_starts_per_resample must be >= 1")
    x, target, weights = as_float64(target, weights, x=x)
    if result is None:
        result = fit(model, starts, x, target, weights, loss=loss, schedule=schedule,
                     max_iter=max_iter, ftol=ftol)
    first = jnp.asarray(distinct_minima(result, n_starts_per_resample))
    key = jax.random.key(seed)
    thetas, values, converged, iterations, counts = _polish_jit(
        model, first, x, target, weights, key, n_resamples=n_resamples, loss=loss,
        max_iter=max_iter, ftol=ftol)
    return BootstrapResult(thetas=thetas, values=values, converged=converged,
                           iterations=iterations, counts=counts, starts=first, fit=result)


def _covariance(model: Model, theta, x, target, weights, *, loss: Loss, method: str,
                transform: Optional[Callable]):
    y, jac = predict_and_jacobian(model, theta, x)
    live = weights > 0
    r = jnp.where(live, y - target, 0.0)
    jac = jnp.where(live[:, None], jac, 0.0)
    p = theta.shape[0]
    n = jnp.sum(live)
    curv = weights * curvature_weights(loss, r, "newton")
    score = weights * psi(loss, r)
    a = jac.T @ (curv[:, None] * jac)
    a_inv = jnp.linalg.inv(a)
    if method == "sandwich":
        b = jac.T @ ((score * score)[:, None] * jac)
        cov = n / (n - p) * (a_inv @ b @ a_inv)
    else:
        s2 = (jnp.sum(weights * psi(loss, r) ** 2) / (n - p)) / (jnp.sum(curv) / n)
        cov = s2 * a_inv
    cov = 0.5 * (cov + cov.T)
    if transform is not None:
        g = jax.jacfwd(transform)(theta)
        cov = g @ cov @ g.T
    return StandardErrors(se=jnp.sqrt(jnp.diagonal(cov)), cov=cov, condition=jnp.linalg.cond(a))


_covariance_jit = jit(_covariance, static_argnames=("model", "loss", "method", "transform"))

SE_METHODS = ("sandwich", "hessian")


def hessian_se(model: Model, theta, x, target, weights=None, *, loss: Loss = Loss(),
               method: str = "sandwich",
               transform: Optional[Callable] = None) -> StandardErrors:
    """Standard errors at the optimum ``theta`` from the Gauss-Newton Hessian (see module doc).

    Args:
      theta: (P,) optimum in the fitting space (e.g. ``fit(...).theta``).
      method: ``sandwich`` (robust to heteroscedastic residuals; default) or ``hessian``.
      transform: optional pure function theta -> (Q,) quantities of interest (e.g. natural
        parameters); their covariance is G Cov G^T with G its Jacobian (delta method).
    """
    if method not in SE_METHODS:
        raise ValueError(f"method must be one of {SE_METHODS}, got {method!r}")
    theta, x, target, weights = as_float64(target, weights, theta=theta, x=x)
    return _covariance_jit(model, theta, x, target, weights, loss=loss, method=method,
                           transform=transform)
