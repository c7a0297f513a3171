"""The `allocate` task: compute-optimal model size N and data D at given budgets C = 6 N D.

Three ways, side by side as in Hoffmann et al. (2022), table 2:

* approach 3 (the fitted law): in closed form where the law declares one
  (``LawFamily.allocation``; Chinchilla's: N_opt = G (C/6)^a, D_opt = G^-1 (C/6)^b with a =
  beta/(alpha+beta), b = alpha/(alpha+beta), G = (alpha A/(beta B))^(1/(alpha+beta))); for any other
  law with inputs N and D numerically, by minimising the law over log N along C = 6 N D (a
  compiled grid search with quadratic refinement, vectorised over budgets and draws).
  Intervals come from the fit's uncertainty (bootstrap draws, or the delta method).
* approach 2 (IsoFLOP profiles): rows grouped into slices of (nearly) equal C; a parabola in
  log N fitted to each slice's losses, its vertex the slice's optimum; log N_opt regressed on
  log C. Its known biases (Czech et al. 2026, "Problems with Chinchilla Approach 2") are warned
  about in the output.
* approach 1 (envelope of training curves): needs per-step rows (a `step` column): for each
  compute, the run with the lowest loss; log N regressed on log C.
"""

from __future__ import annotations

from typing import Any, ClassVar, Dict, List, Mapping, Optional, Tuple

import attrs
import jax.numpy as jnp
import numpy as np

from ..draws import natural_from_thetas, predict_draws, thetas_from_natural
from ..errors import FitError
from ..fields import at_least, field, one_of, positive
from ..results import FitResult, jsonable
from ..spec.model import EstimatorSpec, LawSpec
from ..uncertainty import Uncertainty, UncertaintySpec, delta_se, summarize
from .fit import fit_from_json, fit_table, law_problems, parameter_rows

APPROACH_2_WARNING = (
    "Approach 2 (parabolas in log N on IsoFLOP slices) is biased when the slices are asymmetric "
    "around the optimum, coarsely sampled or noisy, and the parabola is only a local approximation "
    "of the loss profile; its exponents can differ systematically from approach 3 (Czech et al. "
    "2026, \"Problems with Chinchilla Approach 2\"). Treat it as a consistency check.")


def _budgets(_inst, attribute, value) -> None:
    if not value or any(not float(v) > 0 for v in value):
        raise ValueError(f"`{attribute.name}` must list positive compute budgets (FLOP), got {value!r}")


@attrs.frozen(kw_only=True)
class AllocateTask:
    """Compute-optimal N and D (and tokens per parameter) at compute budgets C = 6 N D."""

    dataset: str = field(doc="Name of a dataset under `datasets`.")
    law: LawSpec = field(default=LawSpec(family="chinchilla"), doc=(
        "Law to fit (approach 3), default `chinchilla` (closed form); any law with inputs N and D."))
    estimator: Optional[EstimatorSpec] = field(default=None, doc=(
        "How to fit; the family's published recipe when omitted."))
    uncertainty: UncertaintySpec = field(factory=UncertaintySpec, doc=(
        "Intervals: `{method: bootstrap | sandwich | hessian | none, n: 1000, level: 0.95}`."))
    budgets: Tuple[float, ...] = field(default=(5.76e23,), validator=_budgets, doc=(
        "Compute budgets in FLOP (C = 6 N D); default Chinchilla's 5.76e23."))
    method: str = field(default="auto", validator=one_of("auto", "closed_form", "numerical"), doc=(
        "Approach 3: `closed_form` (laws that declare one, e.g. chinchilla), `numerical` (any "
        "law with inputs N and D) or `auto` (closed form when the law declares one)."))
    approaches: Tuple[int, ...] = field(default=(1, 2, 3), doc="Which approaches to run (1, 2, 3).")
    isoflop_tolerance: float = field(default=0.1, validator=positive, doc=(
        "Approach 2: rows whose C differ by less than this relative amount (from the smallest of "
        "the slice) form one IsoFLOP slice."))
    min_slice: int = field(default=5, validator=at_least(3), doc=(
        "Approach 2: fewest rows (with at least 3 distinct N) for a slice to get a parabola."))
    compute: str = field(default="C", doc=(
        "Column of training compute for approaches 1 and 2 (derived as 6 N D when absent)."))
    target: str = field(default="loss", doc="Column of the loss for approaches 1 and 2.")

    def check(self, spec, registry) -> List[tuple]:
        out: List[tuple] = []
        if self.dataset not in spec.datasets:
            out.append((("dataset",), f"no dataset {self.dataset!r}; the spec defines "
                        f"{', '.join(sorted(spec.datasets)) or 'none'}"))
        out += law_problems(self.law, registry, ("law",))
        for i, a in enumerate(self.approaches):
            if a not in (1, 2, 3):
                out.append((("approaches", i), f"approach {a!r}: choose among 1, 2 and 3"))
        return out

    def run(self, ctx, name: str) -> AllocateResult:
        table = ctx.table(self.dataset)
        budgets = np.asarray(self.budgets, dtype=float)
        rows: List[Dict[str, Any]] = []
        fit = None
        inputs: Dict[str, np.ndarray] = {}
        target = np.zeros(0)
        method = None
        if 3 in self.approaches:
            family, estimator, obs, fit = fit_table(self, ctx, table)
            inputs = obs.columns
            target = obs.y
            method = self.method
            if method == "auto":
                method = "closed_form" if family.allocation is not None else "numerical"
            if method == "closed_form" and family.allocation is None:
                raise FitError(f"law {family.name!r} declares no closed-form allocation "
                               "(`LawFamily.allocation`); use `method: numerical`")
            rows += approach3_rows(family, fit, budgets, method)
        slices: List[Dict[str, Any]] = []
        notes: List[str] = []
        c = _column(table, self.compute)
        loss = _column(table, self.target)
        n = _column(table, "N")
        if 2 in self.approaches:
            if c is None or loss is None or n is None:
                notes.append(f"approach 2 skipped: the data needs columns N, {self.compute} and "
                             f"{self.target}")
            else:
                slices = isoflop_slices(n, c, loss, self.isoflop_tolerance, self.min_slice)
                row = approach_from_minima(2, [s["C"] for s in slices],
                                           [s["N_opt"] for s in slices], budgets,
                                           self.uncertainty.level)
                if row is not None and self.uncertainty.method == "bootstrap":
                    boot = isoflop_bootstrap(n, c, loss, self.isoflop_tolerance, self.min_slice,
                                             budgets, n_resamples=min(self.uncertainty.n, 1000),
                                             seed=ctx.seed)
                    _bootstrap_intervals(row, boot, self.uncertainty.level)
                if row is None:
                    notes.append(f"approach 2: {len(slices)} usable IsoFLOP slice(s) (need 2 with "
                                 f">= {self.min_slice} rows, 3 distinct N and a minimum inside)")
                else:
                    rows += row
                    notes.append(APPROACH_2_WARNING)
        if 1 in self.approaches:
            if "step" not in table or c is None or loss is None or n is None:
                notes.append("approach 1 not run: the envelope of training curves needs per-step "
                             "rows (a `step` column with several rows per run) and N, compute and "
                             "loss columns; this dataset has one row per run")
            else:
                cs, ns = training_envelope(n, c, loss)
                row = approach_from_minima(1, cs, ns, budgets, self.uncertainty.level)
                if row is None:
                    notes.append("approach 1: too few compute values on the envelope")
                else:
                    rows += row
        return AllocateResult(name=name, dataset=self.dataset, law=self.law, fit=fit,
                              budgets=budgets, allocations=rows, method=method, slices=slices,
                              notes=notes, data_notes=list(table.notes), inputs=inputs, target=target,
                              level=self.uncertainty.level)


def _column(table, name: str) -> Optional[np.ndarray]:
    try:
        return table.numeric(name)
    except Exception:
        return None


# --- approach 3 -----------------------------------------------------------------------------

def approach3_rows(family, fit: FitResult, budgets: np.ndarray,
                   method: str) -> List[Dict[str, Any]]:
    """One row per budget: N_opt, D_opt, tokens per parameter with intervals, and a, b."""
    unc: Optional[Uncertainty] = fit.uncertainty
    params = {k: np.asarray([v]) for k, v in fit.params.items()}
    best = allocation(family, params, budgets, method)
    draws = None
    if unc is not None and unc.draws is not None:
        draws = allocation(family, unc.draws, budgets, method)
    elif unc is not None:
        draws = _delta_allocation(family, fit, budgets, method, unc)
    level = unc.level if unc is not None else 0.95
    exps = exponents(family, params, method, budgets)
    exp_draws = exponents(family, unc.draws, method, budgets) if (
        unc is not None and unc.draws is not None) else None
    rows = []
    for k, c in enumerate(budgets):
        row: Dict[str, Any] = {"approach": 3, "method": method, "C": float(c)}
        for q in ("N_opt", "D_opt", "tokens_per_param"):
            est = float(best[q][0, k])
            row[q] = est
            if isinstance(draws, dict) and isinstance(draws.get(q), tuple):
                lo, hi, se = draws[q]  # delta method: (lower, upper, se)
                row.update({f"{q}_se": float(se[k]), f"{q}_lower": float(lo[k]),
                            f"{q}_upper": float(hi[k])})
            elif isinstance(draws, dict) and q in draws:  # (B, K) draws
                _with_interval(row, q, summarize(draws[q][:, k], est, level))
        for q in ("a", "b"):
            row[q] = float(exps[q][0])
            if exp_draws is not None:
                _with_interval(row, q, summarize(exp_draws[q], row[q], level))
            elif unc is not None and q in unc.derived:
                _with_interval(row, q, unc.derived[q])
        rows.append(row)
    return rows


def _with_interval(row: Dict[str, Any], q: str, iv) -> None:
    """Add the standard error and interval of quantity ``q`` to ``row``: q_se, q_lower, q_upper."""
    row.update({f"{q}_se": iv.se, f"{q}_lower": iv.lower, f"{q}_upper": iv.upper})


def allocation(family, params: Dict[str, Any], budgets: np.ndarray, method: str) -> Dict[str, Any]:
    """{N_opt, D_opt, tokens_per_param}: (B, K) for (B,) parameter arrays and K budgets."""
    if method == "closed_form":
        return family.allocation(params, budgets)
    thetas = thetas_from_natural(family, {k: np.atleast_1d(v) for k, v in params.items()})
    log_n = numerical_log_n_opt(family, thetas, np.log(budgets))
    n_opt = np.exp(log_n)
    d_opt = budgets[None, :] / (6.0 * n_opt)
    return {"N_opt": n_opt, "D_opt": d_opt, "tokens_per_param": d_opt / n_opt}


def exponents(family, params: Dict[str, Any], method: str, budgets: np.ndarray) -> Dict[str, Any]:
    """a = d log N_opt / d log C and b = 1 - a: exact where the family's derived quantities give
    them (with the closed form), otherwise the local slope at the first budget (central difference
    over a factor e^0.5 in C)."""
    if method == "closed_form" and family.derived is not None:
        d = family.derived(params)
        if "a" in d and "b" in d:
            return {"a": np.atleast_1d(d["a"]), "b": np.atleast_1d(d["b"])}
    c0 = float(budgets[0])
    both = allocation(family, params, np.array([c0 * np.exp(-0.25), c0 * np.exp(0.25)]), method)
    a = (np.log(both["N_opt"][:, 1]) - np.log(both["N_opt"][:, 0])) / 0.5
    return {"a": a, "b": 1.0 - a}


def _delta_allocation(family, fit, budgets, method, unc):
    """Intervals of the allocation from the sandwich/Hessian covariance: the delta method for the
    closed form; for the numerical optimum, percentiles over 1000 parameter vectors drawn from
    the normal approximation N(theta_hat, Cov) in the fitting space (seeded)."""
    from scipy.stats import norm

    if method != "closed_form":
        rng = np.random.default_rng(unc.seed)
        thetas = rng.multivariate_normal(np.asarray(fit.theta), unc.cov, size=1000,
                                         method="eigh")
        return allocation(family, natural_from_thetas(family, thetas), budgets, method)

    def transform(theta):
        nat = {p.name: p.to_natural(theta[i]) for i, p in enumerate(family.parameters)}
        nat.update({t: nat[s] for t, s in family.aliases.items() if s in nat})
        opt = family.allocation(nat, budgets)  # the closed form, traced by JAX
        return jnp.concatenate([jnp.ravel(opt[q]) for q in ("N_opt", "D_opt", "tokens_per_param")])

    se, _ = delta_se(transform, fit.theta, unc.cov)
    z = float(norm.ppf(0.5 * (1 + unc.level)))
    best = family.allocation({k: np.asarray(v) for k, v in fit.params.items()}, budgets)
    k = len(budgets)
    out = {}
    for j, q in enumerate(("N_opt", "D_opt", "tokens_per_param")):
        s = se[j * k:(j + 1) * k]
        est = np.asarray(best[q]).reshape(-1)
        out[q] = (est - z * s, est + z * s, s)
    return out


GRID = 256
FINE = 64


def _profile(family, thetas, log_n, log_c):
    """Predicted log loss at log N = ``log_n`` (B, K, G) along C = exp(log_c) (K,)."""
    n = np.exp(log_n)
    d = np.exp(log_c)[None, :, None] / (6.0 * n)
    b, k, g = log_n.shape
    values = predict_draws(family, thetas, {"N": n.reshape(b, k * g), "D": d.reshape(b, k * g)},
                           space="log")
    return values.reshape(b, k, g)


def numerical_log_n_opt(family, thetas: np.ndarray, log_c: np.ndarray) -> np.ndarray:
    """argmin over log N of the law's loss along C = 6 N D, for every draw and budget: (B, K).

    A compiled evaluation, vectorised over draws and budgets, of a coarse grid over N from 1e3 to
    C/6e3 (256 points), a fine grid of 64 points around the coarse minimum, and a parabola
    through the fine minimum and its neighbours.
    """
    if tuple(family.inputs) != ("N", "D"):
        raise FitError(f"numerical allocation needs a law of inputs (N, D); {family.name!r} has "
                       f"({', '.join(family.inputs)})")
    thetas = np.atleast_2d(thetas)
    b = thetas.shape[0]
    lo = np.log(1e3)
    hi = log_c - np.log(6.0) - np.log(1e3)
    coarse = lo + (hi - lo)[None, :, None] * np.linspace(0, 1, GRID)[None, None, :]
    coarse = np.broadcast_to(coarse, (b, len(log_c), GRID))
    values = _profile(family, thetas, coarse, log_c)
    i = np.argmin(np.where(np.isfinite(values), values, np.inf), axis=-1)
    step = (hi - lo) / (GRID - 1)
    centre = np.take_along_axis(coarse, i[..., None], axis=-1)[..., 0]
    fine = centre[..., None] + step[None, :, None] * np.linspace(-1.5, 1.5, FINE)[None, None, :]
    fv = _profile(family, thetas, fine, log_c)
    j = np.clip(np.argmin(np.where(np.isfinite(fv), fv, np.inf), axis=-1), 1, FINE - 2)
    y0, y1, y2 = (np.take_along_axis(fv, (j + o)[..., None], axis=-1)[..., 0] for o in (-1, 0, 1))
    h = 3.0 * step[None, :] / (FINE - 1)
    denom = y0 - 2 * y1 + y2
    shift = np.where(denom > 0, 0.5 * h * (y0 - y2) / np.where(denom > 0, denom, 1.0), 0.0)
    return np.take_along_axis(fine, j[..., None], axis=-1)[..., 0] + shift


# --- approaches 1 and 2 ---------------------------------------------------------------------

def slice_indices(c, tolerance: float) -> List[np.ndarray]:
    """Row indices of each IsoFLOP slice: sort by C, start a new slice where C exceeds the
    slice's first by more than ``tolerance`` (relative)."""
    order = np.argsort(c, kind="stable")
    out = []
    start = 0
    for i in range(1, len(order) + 1):
        if i < len(order) and c[order[i]] <= c[order[start]] * (1 + tolerance):
            continue
        out.append(order[start:i])
        start = i
    return out


def _vertex(n, loss, min_rows: int):
    """(u_opt, coef) of the parabola in u = log N through a slice, or None when the slice is
    too small, has fewer than 3 distinct N, opens downwards or has its vertex outside the data."""
    if len(n) < min_rows or len(np.unique(n)) < 3:
        return None
    u = np.log(n)
    p2, p1, p0 = np.polyfit(u, loss, 2)
    if p2 <= 0:
        return None
    u_opt = -p1 / (2 * p2)
    if not u.min() <= u_opt <= u.max():
        return None
    return u_opt, (p0, p1, p2)


def isoflop_slices(n, c, loss, tolerance: float, min_rows: int) -> List[Dict[str, Any]]:
    """IsoFLOP slices (:func:`slice_indices`) with loss = p0 + p1 u + p2 u^2 fitted in u = log N
    on each usable slice; the vertex is the slice's optimum."""
    out = []
    for idx in slice_indices(c, tolerance):
        v = _vertex(n[idx], loss[idx], min_rows)
        if v is None:
            continue
        u_opt, (p0, p1, p2) = v
        out.append({"C": float(np.exp(np.mean(np.log(c[idx])))), "N_opt": float(np.exp(u_opt)),
                    "loss_opt": float(p0 + p1 * u_opt + p2 * u_opt ** 2),
                    "coef": [float(p0), float(p1), float(p2)], "n_rows": int(len(idx)),
                    "N": n[idx].tolist(), "loss": loss[idx].tolist()})
    return out


def isoflop_bootstrap(n, c, loss, tolerance: float, min_rows: int, budgets, *, n_resamples: int,
                      seed: int) -> Dict[str, np.ndarray]:
    """Approach 2 redone on ``n_resamples`` resamples of the rows within each slice (the slices
    keep their compute): every draw refits each parabola and the regression of log N_opt on
    log C. Returns {"a": (B,), "N_opt": (B, K)}, NaN where a draw had fewer than 2 vertices."""
    rng = np.random.default_rng(seed)
    slices = slice_indices(c, tolerance)
    budgets = np.asarray(budgets, dtype=float)
    a = np.full(n_resamples, np.nan)
    n_opt = np.full((n_resamples, len(budgets)), np.nan)
    for b in range(n_resamples):
        us, vs = [], []
        for idx in slices:
            pick = rng.choice(idx, size=len(idx), replace=True)
            v = _vertex(n[pick], loss[pick], min_rows)
            if v is not None:
                us.append(np.mean(np.log(c[idx])))
                vs.append(v[0])
        if len(us) >= 2 and np.ptp(us) > 0:
            slope, intercept = np.polyfit(us, vs, 1)
            a[b] = slope
            n_opt[b] = np.exp(intercept + slope * np.log(budgets))
    return {"a": a, "N_opt": n_opt}


def training_envelope(n, c, loss, bins: int = 30) -> Tuple[List[float], List[float]]:
    """Approach 1: in each of ``bins`` log-spaced compute bins, the N of the lowest loss."""
    edges = np.geomspace(c.min(), c.max() * (1 + 1e-12), bins + 1)
    cs, ns = [], []
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (c >= lo) & (c < hi)
        if np.any(m):
            k = np.flatnonzero(m)[np.argmin(loss[m])]
            cs.append(float(c[k]))
            ns.append(float(n[k]))
    return cs, ns


def _bootstrap_intervals(rows: List[Dict[str, Any]], boot: Dict[str, np.ndarray],
                         level: float) -> None:
    """Replace the regression intervals of approach-2 ``rows`` by bootstrap percentiles."""
    for k, row in enumerate(rows):
        n_opt = boot["N_opt"][:, k]
        d = row["C"] / (6.0 * n_opt)
        for q, draws in (("a", boot["a"]), ("N_opt", n_opt), ("D_opt", d), ("tokens_per_param", d / n_opt)):
            _with_interval(row, q, summarize(draws, row[q], level))
        row.update(interval="bootstrap", n_resamples=int(np.sum(np.isfinite(boot["a"]))))


def approach_from_minima(approach: int, cs, ns, budgets, level) -> Optional[List[Dict[str, Any]]]:
    """Regress log N_opt on log C (OLS); rows per budget with t intervals of the regression."""
    cs, ns = np.asarray(cs, dtype=float), np.asarray(ns, dtype=float)
    if len(cs) < 2 or np.ptp(np.log(cs)) == 0:
        return None
    from scipy import stats

    u, v = np.log(cs), np.log(ns)
    fit = stats.linregress(u, v)
    dof = len(u) - 2
    t = float(stats.t.ppf(0.5 * (1 + level), dof)) if dof > 0 else np.nan
    resid = v - (fit.intercept + fit.slope * u)
    s = np.sqrt(np.sum(resid ** 2) / dof) if dof > 0 else np.nan
    rows = []
    for c in budgets:
        lc = np.log(c)
        log_n = fit.intercept + fit.slope * lc
        se_mean = s * np.sqrt(1 / len(u) + (lc - u.mean()) ** 2 / np.sum((u - u.mean()) ** 2))
        n_opt = float(np.exp(log_n))
        d_opt = float(c / (6 * n_opt))
        rows.append({
            "approach": approach, "method": "isoflop" if approach == 2 else "envelope",
            "C": float(c), "N_opt": n_opt, "N_opt_lower": float(np.exp(log_n - t * se_mean)),
            "N_opt_upper": float(np.exp(log_n + t * se_mean)), "D_opt": d_opt,
            "D_opt_lower": float(c / (6 * np.exp(log_n + t * se_mean))),
            "D_opt_upper": float(c / (6 * np.exp(log_n - t * se_mean))),
            "tokens_per_param": d_opt / n_opt, "a": float(fit.slope), "a_se": float(fit.stderr),
            "a_lower": float(fit.slope - t * fit.stderr), "a_upper": float(fit.slope + t * fit.stderr),
            "b": float(1 - fit.slope), "n_minima": int(len(u)), "interval": "regression",
            "minima": {"C": cs.tolist(), "N_opt": ns.tolist()},
        })
    return rows


# --- result ---------------------------------------------------------------------------------

@attrs.frozen(kw_only=True, eq=False)
class AllocateResult:
    """Compute-optimal allocations by approach and budget, with the fit behind approach 3."""

    name: str
    dataset: str
    law: LawSpec
    fit: Optional[FitResult]
    budgets: np.ndarray
    allocations: List[Dict[str, Any]]
    method: Optional[str]
    slices: List[Dict[str, Any]]
    notes: List[str]
    data_notes: List[str]
    inputs: Dict[str, np.ndarray]
    target: np.ndarray
    level: float = 0.95
    truth: Optional[Dict[str, float]] = None
    # What the frontier plot draws (kept in results.json, so `scalinglaws report` redraws it
    # without the law): see :func:`frontier`.
    frontier: Optional[Dict[str, Any]] = attrs.field(
        default=attrs.Factory(lambda self: frontier(self), takes_self=True))
    kind: ClassVar[str] = "allocate"

    @property
    def labels(self) -> Dict[str, tuple]:
        """Text run ids by input, as the fit task keeps them (none without a fit)."""
        return {} if self.fit is None else self.fit.labels

    def to_json(self) -> Dict[str, Any]:
        return jsonable({
            "name": self.name, "kind": self.kind, "dataset": self.dataset,
            "law_spec": attrs.asdict(self.law),
            "fit": None if self.fit is None else self.fit.to_json(),
            "budgets": self.budgets, "method": self.method, "level": self.level,
            "allocations": self.allocations, "slices": self.slices, "notes": self.notes,
            "data_notes": self.data_notes, "frontier": self.frontier,
            "data": {"inputs": self.inputs, "target": self.target},
        })

    def rows(self) -> List[Dict[str, Any]]:
        """The fitted parameters (params.csv), as the fit task gives them."""
        return parameter_rows(self.name, self.fit)

    @classmethod
    def from_json(cls, data: Mapping[str, Any], registry=None) -> AllocateResult:
        """Rebuild from results.json (for `scalinglaws report`), the fit as the fit task's; a
        results.json without ``frontier`` (written before it was kept) gets no frontier plot."""
        law, fit, inputs, target, _ = fit_from_json(data, registry)
        frontier_ = data.get("frontier")
        if frontier_ is not None:
            frontier_ = {k: None if v is None else np.asarray(v, dtype=float)
                         for k, v in frontier_.items()}
        return cls(name=data["name"], dataset=data["dataset"], law=law, fit=fit,
                   budgets=np.asarray(data["budgets"], dtype=float),
                   allocations=data["allocations"], method=data.get("method"),
                   slices=data.get("slices", []), notes=data.get("notes", []),
                   data_notes=data.get("data_notes", []), inputs=inputs, target=target,
                   level=data.get("level", 0.95), frontier=frontier_)


AllocateTask.result_type = AllocateResult  # what `scalinglaws report` rebuilds entries with

FRONTIER_DRAWS = 200  # draws behind the frontier's band (results.json keeps as many)


def frontier(result: AllocateResult) -> Dict[str, Any]:
    """Approach 3's N_opt along 40 budgets C spanning the data's compute (6 N D and the IsoFLOP
    slices) and the requested budgets, from half the smallest to twice the largest: ``C``,
    ``N_opt`` and the ``lower``/``upper`` band over the first 200 parameter draws (None where
    approach 3 was not run, or without draws)."""
    budgets = np.asarray(result.budgets, dtype=float)
    data_c = []
    if "N" in result.inputs and "D" in result.inputs and len(result.target):
        data_c = list(6.0 * result.inputs["N"] * result.inputs["D"])
    data_c += [s["C"] for s in result.slices]
    lo = min(data_c + list(budgets)) / 2
    hi = max(data_c + list(budgets)) * 2
    grid = np.geomspace(lo, hi, 40)
    out: Dict[str, Any] = {"C": grid, "N_opt": None, "lower": None, "upper": None}
    fit = result.fit
    if fit is None or result.method is None:
        return out
    params = {k: np.asarray([v]) for k, v in fit.params.items()}
    out["N_opt"] = allocation(fit.law, params, grid, result.method)["N_opt"][0]
    unc = fit.uncertainty
    if unc is not None and unc.draws is not None:
        draws = {k: np.asarray(v)[:FRONTIER_DRAWS] for k, v in unc.draws.items()}
        n = allocation(fit.law, draws, grid, result.method)["N_opt"]
        out["lower"], out["upper"] = np.nanpercentile(
            n, [50 * (1 - unc.level), 50 * (1 + unc.level)], axis=0)
    return out
