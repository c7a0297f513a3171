"""The `compare` task: which law, dataset or model family scales better, and by how much.

For a list of candidates (each a dataset, a law and an estimator) it reports

* information criteria AIC and BIC under the Huber likelihood (below);
* held-out extrapolation error: each candidate refitted on its runs below a scale cut and scored
  on the runs above it (absolute relative error, Choshen et al. 2024), with a bootstrap interval;
* for two candidates, the effective compute multiplier at given budgets: the factor m with
  L_baseline(m C) = L_other(C) along the compute-optimal allocation (or a fixed number of tokens
  per parameter), with bootstrap intervals;
* a verdict table: which candidate is better on each criterion and whether the difference
  exceeds the uncertainty.

Huber likelihood. The fit minimises H(theta) = sum_i rho_delta(r_i) with rho_delta(r) = r^2 / 2
for |r| <= delta and delta (|r| - delta / 2) otherwise. Read as a likelihood, the residuals have
the density

    p(r | s) = exp(-rho_delta(r) / s) / Z(s),
    Z(s) = int exp(-rho_delta(r) / s) dr = sqrt(2 pi s) erf(delta / sqrt(2 s))
                                           + (2 s / delta) exp(-delta^2 / (2 s)),

Gaussian (variance s) in the middle and Laplace in the tails: Huber's (1964) least-favourable
density with the threshold held at delta in residual units and a temperature s. For every s the
maximum-likelihood theta is the Huber fit itself (s only scales H), so the joint maximum is the
fit's theta and s_hat = argmin_s H / s + n log Z(s) (one-dimensional, solved numerically), and

    NLL = H / s_hat + n log Z(s_hat) [+ sum_i log y_i when residuals are in log space],
    AIC = 2 k + 2 NLL,   BIC = k log n + 2 NLL,   k = free parameters + 1 (the scale s).

The sum of log y_i is the Jacobian of y -> log y, which makes log-space and linear-space fits of
the same data comparable. For squared error (rho = r^2 / 2) this is the Gaussian likelihood with
s_hat = 2 H / n. Criteria compare candidates on the same dataset and target only.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Dict, List, Mapping, Optional, Sequence, Tuple

import attrs
import numpy as np

from ..core.objectives import loss_kind, make_loss
from ..draws import predict_draws, predict_theta
from ..errors import DataError, FitError, ScalingLawsError, closest
from ..fields import at_least, field, positive
from ..observations import Observations, resolve_law
from ..results import FitResult, fmt, jsonable
from ..spec.model import EstimatorSpec, LawSpec
from ..uncertainty import progress
from .fit import FitTask, fit_problem

# --- shared by compare, evaluate and sensitivity ----------------------------------------------


@attrs.frozen(kw_only=True)
class Candidate:
    """One law fitted to one dataset, under a name used in tables and plots."""

    name: str = field(doc="Name of the candidate in tables and plots.")
    dataset: str = field(doc="Name of a dataset under `datasets`.")
    law: LawSpec = field(doc="Law family name, or a law mapping as in the `fit` task.")
    estimator: Optional[EstimatorSpec] = field(default=None, doc=(
        "How to fit; the family's published recipe when omitted."))


def candidate_problems(candidates: Sequence[Candidate], spec, registry, at: tuple) -> List[tuple]:
    """Cross-reference problems of every candidate (as the `fit` task checks them), plus names."""
    out: List[tuple] = []
    seen: set = set()
    for i, c in enumerate(candidates):
        task = FitTask(dataset=c.dataset, law=c.law, estimator=c.estimator)
        out += [(at + (i,) + tuple(p), m) for p, m in task.check(spec, registry)]
        if c.name in seen:
            out.append((at + (i, "name"), f"candidate name {c.name!r} is used twice"))
        seen.add(c.name)
    if not candidates:
        out.append((at, "give at least one candidate `{name, dataset, law}`"))
    return out


@attrs.frozen(kw_only=True, eq=False)
class Prepared:
    """A candidate's data and fitting machinery: family, estimator, observations, scale."""

    name: str
    dataset: str
    law: LawSpec
    family: Any
    estimator: Any
    obs: Observations
    scale: np.ndarray
    scale_column: str

    @property
    def table(self):
        return self.obs.table

    @property
    def x(self) -> np.ndarray:
        return self.obs.x

    @property
    def y(self) -> np.ndarray:
        return self.obs.y


def scale_of(table, law: LawSpec, family, column: Optional[str]) -> Tuple[np.ndarray, str]:
    """The column that orders runs by scale: ``column``, else compute C when the table has or can
    derive it, else the column of the law's first input."""
    if column is not None:
        return table.numeric(column, positive=True), column
    try:
        return table.numeric("C", positive=True), "C"
    except DataError:
        first = law.inputs.get(family.inputs[0], family.inputs[0])
        return table.numeric(first, positive=True), first


def prepare(ctx, name: str, dataset: str, law: LawSpec, estimator_spec, scale: Optional[str],
            table=None) -> Prepared:
    table = ctx.table(dataset) if table is None else table
    estimator, family, obs = fit_problem(ctx.registry, law, estimator_spec, table)
    s, column = scale_of(table, law, family, scale)
    return Prepared(name=name, dataset=dataset, law=law, family=family, estimator=estimator,
                    obs=obs, scale=s, scale_column=column)


def fit_rows(p: Prepared, mask: Optional[np.ndarray] = None, *, estimator=None, seed: int = 0
             ) -> FitResult:
    """Fit on the rows where ``mask`` is true. Rows left out get weight 0 rather than being
    removed, so every subset of a dataset has one shape and the core compiles once."""
    est = p.estimator if estimator is None else estimator
    if mask is None or bool(np.all(mask)):  # explicit unit weights: the same program as subsets
        return est.fit(p.family, p.obs.weighted(np.ones(len(p.y))), seed=seed)
    n_live, n_par = int(np.sum(mask)), len(p.family.parameters)
    if n_live <= n_par:
        raise FitError(f"{n_live} points cannot determine the {n_par} parameters of "
                       f"{p.family.name!r}; hold out fewer runs")
    return est.fit(p.family, p.obs.weighted(mask), seed=seed)


def bootstrap_thetas(p: Prepared, mask: Optional[np.ndarray], n: int, seed: int) -> np.ndarray:
    """(n, P) parameter draws (fitting space) of the rows in ``mask`` from the candidate's
    estimator (protocol ``draws``). The same seed and rows give the same resamples, so
    candidates on one dataset are paired."""
    weights = np.ones(len(p.y)) if mask is None else np.asarray(mask, dtype=np.float64)
    return np.asarray(p.estimator.draws(p.family, p.obs.weighted(weights), None, n=n,
                                        seed=seed).thetas)


def abs_rel_error(pred: np.ndarray, obs: np.ndarray) -> np.ndarray:
    """|prediction - observation| / |observation| (Choshen et al. 2024)."""
    return np.abs(pred - obs) / np.abs(obs)


def information_criteria(fit: FitResult, x: np.ndarray, y: np.ndarray,
                         mask: Optional[np.ndarray] = None) -> Dict[str, float]:
    """NLL, AIC and BIC of a fit under the likelihood of its loss (module doc): the density
    exp(-rho(r) / s) / Z(s) of :mod:`scalinglaws.core.objectives`, Huber's or the Gaussian."""
    est = fit.estimator
    try:
        loss = make_loss(est.get("loss", "squared"), float(est.get("delta", 1.0)), est.get("loss_args"))
    except ValueError as err:
        raise ScalingLawsError(f"AIC/BIC need the likelihood of the fit's loss: {err}") from None
    kind, space = loss_kind(loss.kind), est.get("space", "log")
    keep = np.ones(len(y), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    inputs = {n: x[keep, i] for i, n in enumerate(fit.law.inputs)}
    pred = predict_theta(fit.law, fit.theta, inputs)
    obs = y[keep]
    r = np.log(pred) - np.log(obs) if space == "log" else pred - obs  # the core's sign
    n = len(r)
    h = float(np.sum(kind.rho(loss, r)))
    s = kind.scale(loss, h, n)
    log_z = float(kind.log_normaliser(loss, s))
    jacobian = float(np.sum(np.log(obs))) if space == "log" else 0.0
    nll_value = h / s + n * log_z + jacobian
    k = len(fit.law.parameters) + 1
    return {"n": n, "k": k, "rho_sum": h, "scale_s": s, "nll": nll_value,
            "aic": 2 * k + 2 * nll_value, "bic": k * math.log(n) + 2 * nll_value}


def holdout_mask(scale: np.ndarray, cut: Optional[float], holdout: float) -> Tuple[np.ndarray, float]:
    """Rows used for fitting (scale <= cut) and the cut: ``cut`` itself, else the largest scale
    below the held-out top fraction ``holdout`` of the distinct scale values (at least one)."""
    if cut is None:
        distinct = np.unique(scale)
        n_out = min(max(1, int(round(holdout * len(distinct)))), len(distinct) - 1)
        cut = float(distinct[len(distinct) - n_out - 1])
    return scale <= cut * (1 + 1e-12), float(cut)


def interval(samples: np.ndarray, level: float = 0.95) -> Tuple[float, float]:
    s = np.asarray(samples, dtype=np.float64)
    s = s[~np.isnan(s)]
    if len(s) == 0:
        return (float("nan"), float("nan"))
    q = 100 * (1 - level) / 2
    return float(np.percentile(s, q)), float(np.percentile(s, 100 - q))


# --- loss along a compute allocation ------------------------------------------------------------


def compute_axis(family, law: LawSpec) -> Optional[str]:
    """How a law gives loss against compute: "C" (one input, the column C), "ND" (inputs N and D:
    allocate C = 6 N D), or None."""
    inputs = family.inputs
    if family.grouping is not None:
        return None
    if len(inputs) == 1 and law.inputs.get(inputs[0], inputs[0]) == "C":
        return "C"
    if set(inputs) == {"N", "D"}:
        return "ND"
    return None


N_GRID = 481
GRID_HALF_WIDTH = 12.0  # nats of log N either side of sqrt(C / 6)
SPAN = 35.0  # nats of log C the compute multiplier is searched over, either side of C


def loss_at_compute(family, law: LawSpec, thetas: np.ndarray, log_c: np.ndarray,
                    tokens_per_parameter: Optional[float] = None) -> np.ndarray:
    """(B, K) predicted loss at compute exp(log_c) (shape (K,) or (B, K)) for each row of
    ``thetas``: the minimum over N with D = C / (6 N) (compute-optimal; a grid of 481 values of
    log N over +-12 nats around sqrt(C / 6), refined by a parabola through the best three), or
    at D = r N with r = ``tokens_per_parameter``."""
    thetas = np.atleast_2d(thetas)
    b = len(thetas)
    log_c = np.broadcast_to(np.asarray(log_c, dtype=np.float64), (b, np.shape(log_c)[-1]))
    axis = compute_axis(family, law)
    if axis == "C":
        return predict_draws(family, thetas, {family.inputs[0]: np.exp(log_c)})
    if axis != "ND":
        raise ScalingLawsError(f"law {family.name!r} gives no loss against compute: it needs inputs "
                               "N and D, or one input mapped to the column C (`inputs: {x: C}`)")
    log_c6 = log_c - math.log(6.0)
    if tokens_per_parameter is not None:
        log_n = 0.5 * (log_c6 - math.log(tokens_per_parameter))
        return predict_draws(family, thetas, {"N": np.exp(log_n), "D": np.exp(log_c6 - log_n)})
    k = log_c.shape[1]
    offsets = np.linspace(-GRID_HALF_WIDTH, GRID_HALF_WIDTH, N_GRID)
    log_n = (0.5 * log_c6)[:, :, None] + offsets[None, None, :]  # (B, K, G)
    log_d = log_c6[:, :, None] - log_n
    values = predict_draws(family, thetas, {"N": np.exp(log_n).reshape(b, -1),
                                           "D": np.exp(log_d).reshape(b, -1)}).reshape(b, k, N_GRID)
    j = np.clip(np.argmin(values, axis=2), 1, N_GRID - 2)
    rows = np.arange(b)[:, None]
    cols = np.arange(k)[None, :]
    y0, y1, y2 = values[rows, cols, j - 1], values[rows, cols, j], values[rows, cols, j + 1]
    curv = y0 - 2 * y1 + y2
    with np.errstate(divide="ignore", invalid="ignore"):
        refined = y1 - (y2 - y0) ** 2 / (8 * curv)
    return np.where(curv > 0, np.minimum(refined, y1), y1)


def compute_multiplier(base, other, base_thetas: np.ndarray, other_thetas: np.ndarray,
                       log_c: np.ndarray, tokens_per_parameter: Optional[float] = None,
                       span: float = SPAN, iterations: int = 60) -> np.ndarray:
    """(B, K) log m with L_base(m C) = L_other(C): bisection in log C over +-``span`` nats.
    +inf where the baseline never reaches the other's loss within the span, -inf where it is
    already below it at C e^-span."""
    target = loss_at_compute(other.family, other.law, other_thetas, log_c, tokens_per_parameter)
    log_c = np.broadcast_to(np.asarray(log_c, dtype=np.float64), target.shape)
    lo = np.full(target.shape, -span)
    hi = np.full(target.shape, span)
    at_hi = loss_at_compute(base.family, base.law, base_thetas, log_c + hi, tokens_per_parameter)
    at_lo = loss_at_compute(base.family, base.law, base_thetas, log_c + lo, tokens_per_parameter)
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        value = loss_at_compute(base.family, base.law, base_thetas, log_c + mid, tokens_per_parameter)
        above = value > target  # baseline still worse: needs more compute
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
    out = 0.5 * (lo + hi)
    out = np.where(at_hi > target, np.inf, out)
    return np.where(at_lo <= target, -np.inf, out)


# --- the task -------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class MultiplierSpec:
    """The effective compute multiplier of `other` over `baseline`: m with
    L_baseline(m C) = L_other(C). m > 1: `other` reaches at C what `baseline` needs m C for."""

    baseline: str = field(doc="Name of the candidate taken as the reference.")
    other: str = field(doc="Name of the candidate compared with it.")
    budgets: tuple[float, ...] = field(doc="Compute budgets C (FLOPs, C = 6 N D).")
    tokens_per_parameter: Optional[float] = field(default=None, doc=(
        "Allocate D = r N at this ratio r instead of the compute-optimal N and D (min over N of "
        "L(N, C / (6 N)))."))


@attrs.frozen(kw_only=True)
class CompareTask:
    """Compare laws, datasets or model families: AIC/BIC under the Huber likelihood, held-out
    extrapolation error, and the effective compute multiplier of one candidate over another, with
    bootstrap intervals and a verdict."""

    candidates: tuple[Candidate, ...] = field(doc=(
        "The candidates: `[{name, dataset, law, estimator}]`."))
    scale: Optional[str] = field(default=None, doc=(
        "Column ordering runs by scale for the held-out split; C when the table has (or derives) "
        "it, else the column of each law's first input."))
    cut: Optional[float] = field(default=None, doc=(
        "Fit on runs with scale <= cut, score above; default: hold out the top `holdout` "
        "fraction of distinct scale values."))
    holdout: float = field(default=0.25, validator=positive, doc=(
        "Fraction of the largest distinct scale values held out when `cut` is omitted."))
    multiplier: Optional[MultiplierSpec] = field(default=None, doc=(
        "`{baseline, other, budgets, tokens_per_parameter}`: the effective compute multiplier."))
    n_bootstrap: int = field(default=200, validator=at_least(2), doc="Bootstrap resamples.")
    level: float = field(default=0.95, validator=positive, doc="Coverage of the intervals.")

    def check(self, spec, registry) -> List[tuple]:
        out = candidate_problems(self.candidates, spec, registry, ("candidates",))
        names = [c.name for c in self.candidates]
        m = self.multiplier
        if m is not None:
            for key in ("baseline", "other"):
                value = getattr(m, key)
                if value not in names:
                    out.append((("multiplier", key), f"no candidate {value!r}"
                                f"{closest(value, names)}; candidates: {', '.join(names)}"))
            if not out:
                for key in ("baseline", "other"):
                    c = self.candidates[names.index(getattr(m, key))]
                    family = resolve_law(c.law, registry)
                    if compute_axis(family, c.law) is None:
                        out.append((("multiplier", key), f"law {family.name!r} of {c.name!r} gives "
                                    "no loss against compute: it needs inputs N and D, or one "
                                    "input mapped to C (`inputs: {x: C}`)"))
            if not m.budgets:
                out.append((("multiplier", "budgets"), "give at least one compute budget"))
            elif any(not (b > 0) for b in m.budgets):
                out.append((("multiplier", "budgets"), "budgets must be > 0"))
        if not 0 < self.holdout < 1:
            out.append((("holdout",), f"expected a fraction in (0, 1), got {self.holdout}"))
        if not 0 < self.level < 1:
            out.append((("level",), f"expected a coverage in (0, 1), got {self.level}"))
        return out

    def run(self, ctx, name: str) -> CompareResult:
        seed = ctx.seed
        prepared = [prepare(ctx, c.name, c.dataset, c.law, c.estimator, self.scale)
                    for c in self.candidates]
        rows = []
        boots: Dict[str, np.ndarray] = {}
        fits: Dict[str, FitResult] = {}
        for i, p in enumerate(prepared):
            with progress(f"compare: candidate {i + 1}/{len(prepared)} ({p.name}), fits and "
                          f"2 x {self.n_bootstrap} bootstrap refits"):
                rows.append(self._candidate(p, seed, boots, fits))
        multiplier = None
        if self.multiplier is not None:
            multiplier = self._multiplier(prepared, fits, boots)
        tpp = self.multiplier.tokens_per_parameter if self.multiplier else None
        budgets = self.multiplier.budgets if self.multiplier else ()
        verdict = _verdict(rows, multiplier, self.level)
        for r in rows:  # the paired draws served the verdict; results.json keeps the interval
            r.pop("heldout_are_boot")
        return CompareResult(name=name, candidates=rows, multiplier=multiplier, verdict=verdict,
                             curves=curves(prepared, fits, boots, budgets, tpp, self.level),
                             level=self.level, n_bootstrap=self.n_bootstrap, fits=fits,
                             prepared=prepared, boots=boots, tokens_per_parameter=tpp,
                             budgets=budgets)

    def _candidate(self, p: Prepared, seed: int, boots, fits) -> Dict[str, Any]:
        fit = fit_rows(p, seed=seed)
        fits[p.name] = fit
        crit = information_criteria(fit, p.x, p.y)
        train, cut = holdout_mask(p.scale, self.cut, self.holdout)
        test = ~train
        held = fit_rows(p, train, seed=seed)
        inputs_test = {n: p.x[test, i] for i, n in enumerate(p.family.inputs)}
        are = abs_rel_error(predict_theta(held.law, held.theta, inputs_test), p.y[test])
        held_thetas = bootstrap_thetas(p, train, self.n_bootstrap, seed)
        held_boot = abs_rel_error(predict_draws(p.family, held_thetas, inputs_test),
                                  p.y[test][None, :]).mean(axis=1)
        boots[p.name] = bootstrap_thetas(p, None, self.n_bootstrap, seed)
        return {
            "name": p.name, "dataset": p.dataset, "law": p.family.name,
            "n_points": len(p.y), "n_params": len(p.family.parameters),
            **{k: crit[k] for k in ("nll", "aic", "bic", "scale_s")},
            "scale_column": p.scale_column, "cut": cut, "n_train": int(train.sum()),
            "n_test": int(test.sum()), "heldout_are_mean": float(are.mean()),
            "heldout_are_max": float(are.max()),
            "heldout_are_interval": interval(held_boot, self.level),
            "heldout_are_boot": held_boot,
            "params": fit.params,
        }

    def _multiplier(self, prepared, fits, boots) -> Dict[str, Any]:
        m = self.multiplier
        assert m is not None
        by = {p.name: p for p in prepared}
        base, other = by[m.baseline], by[m.other]
        log_c = np.log(np.asarray(m.budgets, dtype=np.float64))
        point = compute_multiplier(base, other, fits[base.name].theta[None], fits[other.name].theta[None],
                                   log_c, m.tokens_per_parameter)[0]
        boot = compute_multiplier(base, other, boots[base.name], boots[other.name], log_c,
                                  m.tokens_per_parameter)
        per_budget = []
        for k, c in enumerate(m.budgets):
            # Resamples where one never catches up sit at +-inf: percentiles of the clipped values,
            # mapped back to +-inf when they land on the clip.
            lo, hi = interval(np.clip(boot[:, k], -SPAN - 1, SPAN + 1), self.level)
            lo, hi = (v if abs(v) < SPAN else math.copysign(math.inf, v) for v in (lo, hi))
            per_budget.append({"budget": c, "multiplier": float(np.exp(point[k])),
                               "interval": (float(np.exp(lo)), float(np.exp(hi))),
                               "log_multiplier_se": float(np.std(boot[np.isfinite(boot[:, k]), k]))
                               if np.isfinite(boot[:, k]).any() else None})
        return {"baseline": m.baseline, "other": m.other,
                "allocation": ("compute-optimal" if m.tokens_per_parameter is None
                               else f"D = {m.tokens_per_parameter:g} N"),
                "budgets": per_budget}


def _verdict(rows, multiplier, level) -> List[Dict[str, Any]]:
    out = []
    by_dataset: Dict[str, list] = {}
    for r in rows:
        by_dataset.setdefault(r["dataset"], []).append(r)
    for dataset, group in by_dataset.items():
        if len(group) < 2:
            continue
        ranked = sorted(group, key=lambda r: r["bic"])
        gap = ranked[1]["bic"] - ranked[0]["bic"]
        # Kass & Raftery (1995): BIC differences of 2-6 positive, 6-10 strong, > 10 very strong.
        strength = ("very strong" if gap > 10 else "strong" if gap > 6 else "positive" if gap > 2
                    else "not worth more than a bare mention")
        out.append({"criterion": f"BIC on `{dataset}`", "better": ranked[0]["name"],
                    "than": ranked[1]["name"], "difference": f"dBIC = {gap:.3g} ({strength})",
                    "exceeds_uncertainty": bool(gap > 6)})
    if len(rows) >= 2:
        ranked = sorted(rows, key=lambda r: r["heldout_are_mean"])
        a, b = ranked[0], ranked[1]
        diff = np.asarray(b["heldout_are_boot"]) - np.asarray(a["heldout_are_boot"])
        lo, hi = interval(diff, level)
        out.append({"criterion": "held-out error (mean ARE)", "better": a["name"], "than": b["name"],
                    "difference": (f"{b['heldout_are_mean'] - a['heldout_are_mean']:.3g} "
                                   f"[{lo:.3g}, {hi:.3g}]"),
                    "exceeds_uncertainty": bool(lo > 0)})
    if multiplier is not None:
        for row in multiplier["budgets"]:
            m, (lo, hi) = row["multiplier"], row["interval"]
            better = multiplier["other"] if m > 1 else multiplier["baseline"]
            than = multiplier["baseline"] if m > 1 else multiplier["other"]
            out.append({"criterion": f"compute multiplier at C = {row['budget']:.3g}",
                        "better": better, "than": than,
                        "difference": (f"{multiplier['baseline']} needs {fmt(m)} x the compute of "
                                       f"{multiplier['other']} [{fmt(lo)}, {fmt(hi)}]"),
                        "exceeds_uncertainty": bool(lo > 1 or hi < 1)})
    return out


@attrs.frozen(kw_only=True, eq=False)
class CompareResult:
    """What `compare` found. ``curves`` holds what the plot draws; ``prepared`` and ``boots`` (the
    data and bootstrap fits, for further analysis in Python) are not part of results.json, and a
    result rebuilt with :meth:`from_json` has them empty and ``fits`` as JSON."""

    name: str
    candidates: List[Dict[str, Any]]
    multiplier: Optional[Dict[str, Any]]
    verdict: List[Dict[str, Any]]
    curves: List[Dict[str, Any]]
    level: float
    n_bootstrap: int
    fits: Dict[str, Any]
    prepared: List[Prepared] = attrs.field(factory=list)
    boots: Dict[str, np.ndarray] = attrs.field(factory=dict)
    tokens_per_parameter: Optional[float] = None
    budgets: tuple = ()
    kind: ClassVar[str] = "compare"

    def rows(self) -> List[Dict[str, Any]]:
        """No rows in params.csv: each candidate's parameters are in results.json."""
        return []

    def to_json(self) -> Dict[str, Any]:
        return jsonable({"name": self.name, "kind": self.kind, "level": self.level,
                         "n_bootstrap": self.n_bootstrap, "candidates": self.candidates,
                         "multiplier": self.multiplier, "verdict": self.verdict,
                         "curves": self.curves, "budgets": list(self.budgets),
                         "tokens_per_parameter": self.tokens_per_parameter,
                         "fits": {k: f.to_json() if hasattr(f, "to_json") else f
                                  for k, f in self.fits.items()}})

    @classmethod
    def from_json(cls, data: Mapping[str, Any], registry=None) -> CompareResult:
        """Rebuild from results.json (for `scalinglaws report`): tables, verdict and plot."""
        arrays = ("scale", "observed", "x", "fitted", "lower", "upper")
        curves_ = [{k: (np.asarray(v, dtype=float) if k in arrays and v is not None else v)
                    for k, v in c.items()} for c in data.get("curves", [])]
        return cls(name=data["name"], candidates=data["candidates"],
                   multiplier=data.get("multiplier"), verdict=data.get("verdict", []),
                   curves=curves_, level=data.get("level", 0.95),
                   n_bootstrap=data.get("n_bootstrap", 0), fits=data.get("fits", {}),
                   tokens_per_parameter=data.get("tokens_per_parameter"),
                   budgets=tuple(data.get("budgets", ())))


def curves(prepared: Sequence[Prepared], fits: Dict[str, FitResult], boots: Dict[str, np.ndarray],
           budgets: Sequence[float], tokens_per_parameter: Optional[float], level: float
           ) -> List[Dict[str, Any]]:
    """What the comparison plot draws, as plain arrays (kept in results.json, so `scalinglaws
    report` redraws it): each candidate's observed runs, and its fitted curve with a bootstrap band
    (loss along the allocation for laws in N and D or in C, the law itself for one-input laws)."""
    q = 100 * (1 - level) / 2
    out = []
    for p in prepared:
        entry: Dict[str, Any] = {"name": p.name, "dataset": p.dataset, "law": p.family.name,
                                 "scale_column": p.scale_column, "target": p.law.target,
                                 "scale": p.scale, "observed": p.y, "x": None}
        axis = compute_axis(p.family, p.law)
        hi_x = max(float(p.scale.max()), *(budgets or (0.0,)))
        grid = np.geomspace(p.scale.min(), hi_x, 120)
        thetas, fit = boots[p.name], fits[p.name]
        if axis is not None and p.scale_column == "C":
            curve = loss_at_compute(p.family, p.law, fit.theta[None], np.log(grid),
                                    tokens_per_parameter)[0]
            band = loss_at_compute(p.family, p.law, thetas, np.log(grid), tokens_per_parameter)
        elif len(p.family.inputs) == 1:
            curve = predict_theta(fit.law, fit.theta, {p.family.inputs[0]: grid})
            band = predict_draws(p.family, thetas, {p.family.inputs[0]: grid})
        else:
            out.append(entry)
            continue
        entry.update(x=grid, fitted=curve, lower=np.nanpercentile(band, q, axis=0),
                     upper=np.nanpercentile(band, 100 - q, axis=0))
        out.append(entry)
    return out


CompareTask.result_type = CompareResult  # what `scalinglaws report` rebuilds entries with
