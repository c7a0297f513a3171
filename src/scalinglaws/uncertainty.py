"""Uncertainty of a fitted law: bootstrap percentile intervals or delta-method standard errors.

Built on :mod:`scalinglaws.core`: :func:`core.bootstrap` (all resamples in one compiled call) and
:func:`core.hessian_se` (sandwich or Hessian covariance at the optimum).

* ``bootstrap``: B nonparametric resamples of the runs, each refitted. Intervals are the
  percentiles (1 - level) / 2 and (1 + level) / 2 of the B estimates; the standard error is their
  standard deviation (ddof 1). Derived quantities (below) are computed draw by draw, so their
  intervals need no linearisation.
* ``sandwich`` / ``hessian``: standard errors from the covariance at the optimum (see
  :mod:`scalinglaws.core.bootstrap`), carried to natural parameters and derived quantities by the
  delta method; intervals are estimate +- z_{(1+level)/2} * SE (normal approximation).
* ``none``: the point estimate only.

Derived quantities are those the law family declares (``LawFamily.derived``), e.g. Chinchilla's
``a = beta / (alpha + beta)``, ``b = alpha / (alpha + beta)`` and ``G = (alpha A / (beta B))^(1 /
(alpha + beta))`` (Hoffmann et al. 2022, eq. 4), with which, at C = 6 N D, the compute-optimal
``N_opt = G (C/6)^a`` and ``D_opt = G^-1 (C/6)^b`` (see :mod:`scalinglaws.tasks.allocate`).
"""

from __future__ import annotations

import contextlib
import functools
import sys
import time
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import attrs
import jax
import jax.numpy as jnp
import numpy as np

from .draws import natural_from_thetas, thetas_from_natural
from .errors import FitError
from .fields import at_least, field, one_of

METHODS = ("bootstrap", "sandwich", "hessian", "none")
DRAWS_KEPT = 200  # bootstrap draws written to results.json (enough to redraw a band)


def _level(_inst, attribute, value) -> None:
    if not 0.0 < float(value) < 1.0:
        raise ValueError(f"`{attribute.name}` must lie strictly between 0 and 1, got {value!r}")


@attrs.frozen(kw_only=True)
class UncertaintySpec:
    """How to quantify the uncertainty of the fitted parameters and what follows from them."""

    method: str = field(default="bootstrap", validator=one_of(*METHODS), doc=(
        "`bootstrap` (nonparametric, percentile intervals), `sandwich` (robust delta-method "
        "standard errors), `hessian` (homoscedastic delta method) or `none`."))
    n: int = field(default=1000, validator=at_least(2), doc=(
        "Bootstrap resamples (all run as one compiled batch)."))
    level: float = field(default=0.95, validator=_level, doc="Confidence level of the intervals.")


@attrs.frozen(kw_only=True)
class Interval:
    """An estimate with its standard error and confidence interval."""

    estimate: float
    se: float
    lower: float
    upper: float

    def to_json(self) -> Dict[str, float]:
        return attrs.asdict(self)


@attrs.frozen(kw_only=True, eq=False)
class Uncertainty:
    """Intervals for the parameters and derived quantities of one fit.

    ``draws`` holds the draws of the natural parameters ({name: (B,)}) and ``thetas`` the same
    draws in the fitting space (B, P), None for the delta methods; ``cov`` the fitting-space
    covariance of the delta methods (None for draws).
    """

    method: str
    level: float
    n_resamples: Optional[int]
    params: Dict[str, Interval]
    derived: Dict[str, Interval]
    draws: Optional[Dict[str, np.ndarray]] = None
    thetas: Optional[np.ndarray] = None
    cov: Optional[np.ndarray] = None
    n_converged: Optional[int] = None
    seconds: float = 0.0
    seed: int = 0

    def draw_thetas(self, family) -> Optional[np.ndarray]:
        """(B, P) fitting-space draws, rebuilt from the natural draws when read from JSON."""
        if self.thetas is not None:
            return self.thetas
        if not self.draws:
            return None
        return thetas_from_natural(family, self.draws)

    def describe(self) -> str:
        pct = f"{self.level:.0%}"
        if self.method == "bootstrap":
            conv = (f"; {self.n_converged}/{self.n_resamples} refits converged"
                    if self.n_converged is not None else "")
            return (f"nonparametric bootstrap, {self.n_resamples} resamples of the runs (seed "
                    f"{self.seed}), each refitted from the best distinct minima of the full fit; "
                    f"{pct} percentile intervals, SE = standard deviation of the draws{conv}")
        if self.method == "none":
            return "none (point estimate)"
        kind = ("sandwich (robust to heteroscedastic residuals)" if self.method == "sandwich"
                else "inverse Hessian (homoscedastic residuals)")
        return (f"delta method, {kind} covariance at the optimum; {pct} normal intervals "
                "(estimate +- z SE)")

    def to_json(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {
            "method": self.method, "level": self.level, "n_resamples": self.n_resamples,
            "n_converged": self.n_converged, "seed": self.seed, "seconds": round(self.seconds, 3),
            "params": {k: v.to_json() for k, v in self.params.items()},
            "derived": {k: v.to_json() for k, v in self.derived.items()},
        }
        if self.draws is not None:
            out["draws"] = {k: np.asarray(v)[:DRAWS_KEPT] for k, v in self.draws.items()}
        return out

    @classmethod
    def from_json(cls, data: Optional[Dict[str, Any]]) -> Optional[Uncertainty]:
        if not data:
            return None

        def intervals(d):
            return {k: Interval(**{f: (np.nan if v[f] is None else v[f]) for f in v})
                    for k, v in d.items()}

        draws = data.get("draws")
        return cls(method=data["method"], level=data["level"], n_resamples=data.get("n_resamples"),
                   params=intervals(data["params"]), derived=intervals(data["derived"]),
                   draws=None if draws is None else {k: np.asarray(v, dtype=float)
                                                     for k, v in draws.items()},
                   n_converged=data.get("n_converged"), seconds=data.get("seconds", 0.0),
                   seed=data.get("seed", 0))


# --- derived quantities ---------------------------------------------------------------------

def derived_quantities(family, params: Dict[str, Any]) -> Dict[str, Any]:
    """Budget-free derived quantities of ``family`` at (arrays of) natural parameters: those the
    family declares (``LawFamily.derived``), none otherwise."""
    return {} if family.derived is None else family.derived(params)


# --- progress -------------------------------------------------------------------------------

@contextlib.contextmanager
def progress(message: str, *, stream=None) -> Iterator[None]:
    """A spinner with the elapsed time on a terminal; silent otherwise.

    The bootstrap is one compiled call, so there is no per-resample progress to show: the spinner
    says that work is under way and for how long, nothing more.
    """
    stream = sys.stderr if stream is None else stream
    if not getattr(stream, "isatty", lambda: False)():
        yield
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=Console(file=stream), transient=True) as bar:
        bar.add_task(message, total=None)
        yield


# --- computing ------------------------------------------------------------------------------

def summarize(draws: np.ndarray, estimate, level: float) -> Interval:
    """Percentile interval of a (B,) array of draws around ``estimate``."""
    estimate = float(estimate)
    v = np.asarray(draws, dtype=float)
    v = v[np.isfinite(v)]
    if v.size < 2:
        return Interval(estimate=estimate, se=np.nan, lower=np.nan, upper=np.nan)
    lo, hi = np.percentile(v, [50 * (1 - level), 50 * (1 + level)])
    # A parameter the data do not pin down (e.g. a decay constant on a flat valley) has draws
    # so large that their squares overflow: its standard error is then reported as inf.
    with np.errstate(over="ignore", invalid="ignore"):
        se = float(np.std(v, ddof=1))
    return Interval(estimate=estimate, se=se if np.isfinite(se) else np.inf,
                    lower=float(lo), upper=float(hi))


def delta_se(transform: Callable, theta, cov) -> Tuple[np.ndarray, np.ndarray]:
    """Delta method: (standard errors, covariance) of ``transform(theta)`` given the covariance
    ``cov`` of ``theta``: G Cov G^T with G the Jacobian of ``transform`` (forward mode)."""
    se, out = _delta_jit(transform)(np.asarray(theta, dtype=np.float64), np.asarray(cov))
    return np.asarray(se), np.asarray(out)


@functools.cache
def _delta_jit(transform: Callable):
    def delta(theta, cov):
        g = jax.jacfwd(transform)(theta)
        out = g @ cov @ g.T
        return jnp.sqrt(jnp.diagonal(out)), out

    return jax.jit(delta)


@functools.cache
def _natural_transform(family) -> Callable:
    """theta -> [natural parameters..., derived...] as a JAX function (cached: one compile)."""
    def transform(theta):
        nat = {p.name: p.to_natural(theta[i]) for i, p in enumerate(family.parameters)}
        nat.update({t: nat[s] for t, s in family.aliases.items() if s in nat})
        der = derived_quantities(family, nat)
        return jnp.stack([nat[k] for k in natural_names(family)] + [der[k] for k in der])

    return transform


def natural_names(family) -> List[str]:
    return list(family.param_names) + [t for t in family.aliases if t not in family.param_names]


def fit_uncertainty(spec: Optional[UncertaintySpec], family, estimator, obs, fit, *,
                    seed: int = 0) -> Optional[Uncertainty]:
    """Intervals for the parameters and derived quantities of ``fit`` (a FitResult), from the
    estimator's draws (``bootstrap``) or covariance (``sandwich``, ``hessian``)."""
    if spec is None or spec.method == "none":
        return None
    from scipy.stats import norm

    start = time.perf_counter()
    params = dict(fit.params)
    derived_hat = {k: float(v) for k, v in derived_quantities(family, params).items()}
    if spec.method == "bootstrap":
        with progress(f"{spec.n} parameter draws of {family.name}"):
            out = estimator.draws(family, obs, fit, n=spec.n, seed=seed)
        draws = natural_from_thetas(family, out.thetas)
        der = derived_quantities(family, draws)
        return Uncertainty(
            method="bootstrap", level=spec.level, n_resamples=spec.n,
            n_converged=out.n_converged,
            params={k: summarize(draws[k], params[k], spec.level) for k in params},
            derived={k: summarize(der[k], derived_hat[k], spec.level) for k in der},
            draws=draws, thetas=np.asarray(out.thetas), seconds=time.perf_counter() - start,
            seed=seed)
    cov = estimator.covariance(family, obs, fit, method=spec.method)
    if cov is None:
        raise FitError(f"estimator {type(estimator).__name__} gives no {spec.method} covariance; "
                       "use `uncertainty: {method: bootstrap}` (draws) instead")
    cov = np.asarray(cov, dtype=np.float64)
    values, _ = delta_se(_natural_transform(family), fit.theta, cov)
    names = natural_names(family)
    z = float(norm.ppf(0.5 * (1 + spec.level)))

    def normal(est, s):
        return Interval(estimate=float(est), se=float(s), lower=float(est - z * s),
                        upper=float(est + z * s))

    return Uncertainty(
        method=spec.method, level=spec.level, n_resamples=None,
        params={k: normal(params[k], values[i]) for i, k in enumerate(names)},
        derived={k: normal(v, values[len(names) + j]) for j, (k, v) in enumerate(derived_hat.items())},
        cov=cov, seconds=time.perf_counter() - start, seed=seed)


__all__ = ["UncertaintySpec", "Uncertainty", "Interval", "fit_uncertainty", "progress",
           "derived_quantities", "delta_se", "summarize", "METHODS"]
