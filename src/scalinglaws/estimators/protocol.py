"""The estimator protocol: what every task asks of an estimator, whichever it is.

An estimator turns :class:`~scalinglaws.observations.Observations` of a law family into a
:class:`~scalinglaws.results.FitResult` and, for uncertainty, into parameter draws and a
covariance. Tasks (fit intervals, predict, allocate, compare, evaluate, sensitivity) call only
these methods, so a plugin estimator registered through ``register_estimators`` gets every
interval the built-in one gets. The shape follows optimistix (``least_squares(fn, solver, y0)``
for any solver): the caller never needs to know which estimator it holds.

Parameters travel in the family's *fitting space* (``theta``: ``log E`` for E), the space in
which the estimator works; :mod:`scalinglaws.draws` turns draws into predictions.
"""

from __future__ import annotations

from typing import Optional, Protocol, runtime_checkable

import attrs
import numpy as np

from ..errors import FitError


@attrs.frozen(kw_only=True, eq=False)
class ParameterDraws:
    """Draws of a law's parameters: ``thetas`` (B, P) in the fitting space, one row per draw.

    ``method`` says where they come from (``bootstrap``: refits of resampled runs; ``posterior``:
    samples of a posterior), ``n_converged`` how many of the refits converged (None when not
    applicable), ``seed`` the seed that drew them.
    """

    thetas: np.ndarray
    method: str = "bootstrap"
    n_converged: Optional[int] = None
    seed: int = 0

    def __len__(self) -> int:
        return len(self.thetas)


@runtime_checkable
class Estimator(Protocol):
    """How a law is fitted, and what its fit's uncertainty is.

    * ``space``: the residual space, ``"log"`` (r = log y - log f) or ``"linear"`` (r = y - f);
      :func:`~scalinglaws.observations.observe` validates the target for it.
    * ``fit(family, obs, *, seed) -> FitResult``: the estimate. Rows of weight 0 in
      ``obs.weights`` must not influence it (they are how subsets and resamples are expressed).
    * ``draws(family, obs, fit, *, n, seed) -> ParameterDraws``: ``n`` draws of the parameters
      reflecting the estimate's uncertainty (e.g. a nonparametric bootstrap: resample the live
      rows with replacement and refit; the same seed must give the same resamples, so two
      candidates on the same runs are paired). :func:`refit_draws` implements the bootstrap for
      any estimator by refitting, one resample at a time.
    * ``covariance(family, obs, fit, *, method) -> (P, P) array or None``: the covariance of
      ``fit.theta`` (fitting space) by ``method`` (``sandwich`` or ``hessian``), or None when the
      estimator has none; intervals then need draws.
    """

    space: str

    def fit(self, family, obs, *, seed: int = 0): ...

    def draws(self, family, obs, fit=None, *, n: int, seed: int = 0) -> ParameterDraws: ...

    def covariance(self, family, obs, fit, *, method: str = "sandwich") -> Optional[np.ndarray]: ...


def refit_draws(estimator, family, obs, *, n: int, seed: int = 0) -> ParameterDraws:
    """Nonparametric bootstrap by refitting: ``n`` resamples of the live rows (with replacement,
    ``numpy.random.default_rng(seed)``), each fitted with ``estimator.fit`` through resample
    counts as weights. A generic ``draws`` for estimators that have no batched way; the built-in
    estimator runs all resamples in one compiled call instead."""
    rng = np.random.default_rng(seed)
    base = np.ones(len(obs)) if obs.weights is None else np.asarray(obs.weights, dtype=float)
    live = np.flatnonzero(base > 0)
    thetas = []
    converged = 0
    for _ in range(n):
        counts = np.bincount(rng.choice(live, len(live)), minlength=len(base))
        try:
            fit = estimator.fit(family, obs.weighted(counts * base), seed=seed)
        except FitError:
            thetas.append(np.full(len(family.parameters), np.nan))
            continue
        converged += bool(fit.converged)
        thetas.append(np.asarray(fit.theta, dtype=float))
    return ParameterDraws(thetas=np.array(thetas), method="bootstrap", n_converged=converged,
                          seed=seed)


def estimator_for(spec, family, registry):
    """The estimator a task's ``estimator:`` asks for, or the family's published recipe (the
    ``multistart`` estimator with ``family.default_estimator``) when it is omitted."""
    if spec is None:
        return registry.estimators["multistart"].obj(**family.default_estimator)
    return spec.options


def residual_space(estimator) -> str:
    """The estimator's residual space (protocol attribute ``space``)."""
    space = estimator.space
    if space not in ("log", "linear"):
        raise FitError(f"estimator {type(estimator).__name__} has space {space!r}; expected "
                       "'log' or 'linear'")
    return space


__all__ = ["Estimator", "ParameterDraws", "refit_draws", "estimator_for", "residual_space"]
