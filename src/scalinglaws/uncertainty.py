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

Derived quantities, for laws with parameters E, A, B, alpha, beta and inputs N, D (Chinchilla,
Hoffmann et al. 2022, eq. 4): ``a = beta / (alpha + beta)``, ``b = alpha / (alpha + beta)`` and
``G = (alpha A / (beta B))^(1 / (alpha + beta))``, with which, at C = 6 N D, the compute-optimal
``N_opt = G (C/6)^a`` and ``D_opt = G^-1 (C/6)^b`` (see :mod:`scalinglaws.tasks.allocate`).
"""

from __future__ import annotations

import contextlib
import functools
import sys
import time
from typing import Any, Callable, Dict, Iterator, List, Optional

import attrs
import numpy as np

from .errors import FitError
from .spec.fields import at_least, field, one_of

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
        return {"estimate": self.estimate, "se": self.se, "lower": self.lower, "upper": self.upper}


@attrs.frozen(kw_only=True, eq=False)
class Uncertainty:
    """Intervals for the parameters and derived quantities of one fit.

    ``draws`` holds the bootstrap estimates of the natural parameters ({name: (B,)}), None for the
    delta methods; ``cov`` the delta-method covariance of the natural parameters (None for the
    bootstrap).
    """

    method: str
    level: float
    n_resamples: Optional[int]
    params: Dict[str, Interval]
    derived: Dict[str, Interval]
    draws: Optional[Dict[str, np.ndarray]] = None
    n_converged: Optional[int] = None
    seconds: float = 0.0
    seed: int = 0

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

CHINCHILLA_PARAMS = ("E", "A", "B", "alpha", "beta")


def is_chinchilla(family) -> bool:
    """Whether the closed-form Chinchilla allocation applies: parameters E, A, B, alpha, beta of
    L = E + A / N^alpha + B / D^beta, with inputs N and D."""
    names = set(family.param_names) | set(getattr(family, "aliases", {}))
    return (set(CHINCHILLA_PARAMS) <= names and tuple(family.inputs) == ("N", "D")
            and family.name.split("[")[0] == "chinchilla")


def chinchilla_derived(p: Dict[str, Any]) -> Dict[str, Any]:
    """a, b and G from arrays (or floats) of alpha, beta, A, B; numpy or JAX alike."""
    alpha, beta, A, B = p["alpha"], p["beta"], p["A"], p["B"]
    s = alpha + beta
    return {"a": beta / s, "b": alpha / s, "G": (alpha * A / (beta * B)) ** (1.0 / s)}


def chinchilla_allocation(p: Dict[str, Any], budgets) -> Dict[str, Any]:
    """N_opt, D_opt, tokens per parameter at compute ``budgets`` (C = 6 N D), broadcast: params of
    shape (B,) and budgets (K,) give (B, K)."""
    d = chinchilla_derived(p)
    c6 = np.asarray(budgets, dtype=float) / 6.0
    a, b, g = (np.asarray(d[k], dtype=float)[..., None] for k in ("a", "b", "G"))
    n_opt = g * c6 ** a
    d_opt = c6 ** b / g
    return {"N_opt": n_opt, "D_opt": d_opt, "tokens_per_param": d_opt / n_opt}


def derived_quantities(family, params: Dict[str, Any]) -> Dict[str, Any]:
    """Budget-free derived quantities of ``family`` at (arrays of) natural parameters."""
    if is_chinchilla(family):
        return chinchilla_derived(params)
    return {}


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

def _percentile_interval(values: np.ndarray, estimate: float, level: float) -> Interval:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size < 2:
        return Interval(estimate=estimate, se=np.nan, lower=np.nan, upper=np.nan)
    lo, hi = np.percentile(v, [50 * (1 - level), 50 * (1 + level)])
    # A parameter the data do not pin down (e.g. a decay constant on a flat valley) has draws
    # so large that their squares overflow: its standard error is then reported as inf.
    with np.errstate(over="ignore", invalid="ignore"):
        se = float(np.std(v, ddof=1))
    return Interval(estimate=float(estimate), se=se if np.isfinite(se) else np.inf,
                    lower=float(lo), upper=float(hi))


def natural_draws(family, thetas: np.ndarray) -> Dict[str, np.ndarray]:
    """(B, P) fitting-space draws -> {natural name: (B,)}, tied names included."""
    thetas = np.asarray(thetas, dtype=np.float64)
    out = {p.name: np.asarray(p.to_natural(thetas[:, i]), dtype=float)
           for i, p in enumerate(family.parameters)}
    out.update({t: out[s] for t, s in family.aliases.items() if s in out})
    return out


def residual_space_data(family, estimator, x, y):
    """(model, prepared inputs z, target in the residual space, core Loss) of a multistart fit."""
    from . import core
    from .estimators.multistart import core_model

    space = getattr(estimator, "space", "log")
    z = np.asarray(family.prepare(np.asarray(x, dtype=np.float64)), dtype=np.float64)
    t = np.log(y) if space == "log" else np.asarray(y, dtype=np.float64)
    loss = core.Loss(estimator.loss, float(estimator.delta))
    return core_model(family, space), z, t, loss


def _require_multistart(estimator, method: str) -> None:
    if not all(hasattr(estimator, k) for k in ("loss", "delta", "space", "starting_points")):
        raise FitError(f"uncertainty method {method!r} needs the `multistart` estimator (it refits "
                       "with the same robust loss); use `uncertainty: {method: none}`")


def bootstrap_thetas(family, estimator, x, y, *, n: int, seed: int):
    """(B, P) bootstrap estimates in the fitting space, and how many refits converged."""
    from . import core

    _require_multistart(estimator, "bootstrap")
    model, z, t, loss = residual_space_data(family, estimator, x, y)
    schedule = core.DEFAULT_SCHEDULE if estimator.schedule == "halving" else core.FULL_SCHEDULE
    starts = estimator.starting_points(family, seed)
    with progress(f"bootstrap: {n} refits of {family.name} in one compiled call"):
        out = core.bootstrap(model, starts, z, t, n_resamples=n, seed=seed, loss=loss,
                             schedule=schedule, max_iter=estimator.max_iter, ftol=estimator.ftol)
        thetas = np.asarray(out.thetas)
    return thetas, int(np.sum(np.asarray(out.converged)))


@functools.cache
def _natural_transform(family) -> Callable:
    """theta -> [natural parameters..., derived...] as a JAX function (cached: one compile)."""
    import jax.numpy as jnp

    def transform(theta):
        nat = {p.name: p.to_natural(theta[i]) for i, p in enumerate(family.parameters)}
        nat.update({t: nat[s] for t, s in family.aliases.items() if s in nat})
        der = derived_quantities(family, nat)
        return jnp.stack([nat[k] for k in natural_names(family)] + [der[k] for k in der])

    return transform


def natural_names(family) -> List[str]:
    return list(family.param_names) + [t for t in family.aliases if t not in family.param_names]


def delta_covariance(family, estimator, x, y, theta, *, method: str, transform=None):
    """Standard errors (and covariance) of ``transform(theta)`` by the sandwich or Hessian."""
    from . import core

    _require_multistart(estimator, method)
    model, z, t, loss = residual_space_data(family, estimator, x, y)
    return core.hessian_se(model, np.asarray(theta, dtype=np.float64), z, t, loss=loss,
                           method=method, transform=transform)


def fit_uncertainty(spec: Optional[UncertaintySpec], family, estimator, x, y, fit, *,
                    seed: int = 0) -> Optional[Uncertainty]:
    """Intervals for the parameters and derived quantities of ``fit`` (a FitResult)."""
    if spec is None or spec.method == "none":
        return None
    from scipy.stats import norm

    start = time.perf_counter()
    params = dict(fit.params)
    derived_hat = {k: float(v) for k, v in derived_quantities(family, params).items()}
    if spec.method == "bootstrap":
        thetas, n_conv = bootstrap_thetas(family, estimator, x, y, n=spec.n, seed=seed)
        draws = natural_draws(family, thetas)
        der = derived_quantities(family, draws)
        return Uncertainty(
            method="bootstrap", level=spec.level, n_resamples=spec.n, n_converged=n_conv,
            params={k: _percentile_interval(draws[k], params[k], spec.level) for k in params},
            derived={k: _percentile_interval(der[k], derived_hat[k], spec.level) for k in der},
            draws=draws, seconds=time.perf_counter() - start, seed=seed)
    se = delta_covariance(family, estimator, x, y, fit.theta, method=spec.method,
                          transform=_natural_transform(family))
    values = np.asarray(se.se)
    names = natural_names(family)
    z = float(norm.ppf(0.5 * (1 + spec.level)))

    def normal(est, s):
        return Interval(estimate=float(est), se=float(s), lower=float(est - z * s),
                        upper=float(est + z * s))

    return Uncertainty(
        method=spec.method, level=spec.level, n_resamples=None,
        params={k: normal(params[k], values[i]) for i, k in enumerate(names)},
        derived={k: normal(v, values[len(names) + j]) for j, (k, v) in enumerate(derived_hat.items())},
        seconds=time.perf_counter() - start, seed=seed)


def summarize(draws: np.ndarray, estimate, level: float) -> Interval:
    """Percentile interval of a (B,) array of draws around ``estimate``."""
    return _percentile_interval(draws, float(estimate), level)


__all__ = ["UncertaintySpec", "Uncertainty", "Interval", "fit_uncertainty", "progress",
           "chinchilla_derived", "chinchilla_allocation", "derived_quantities", "is_chinchilla",
           "natural_draws", "bootstrap_thetas", "summarize", "METHODS"]
