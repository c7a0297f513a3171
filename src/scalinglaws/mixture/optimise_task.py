"""The `optimise_mixture` task: fit a mixture law (the `fit_mixture` task's keys), then choose the
mixture minimising the predicted target loss under bounds, a token budget, availability caps and a
spending limit, with bootstrap intervals, the KKT multipliers and optionally the frontier against
the budget (:mod:`.optimise`, :mod:`.frontier`). One fit per task: a spec that only needs the
optimum has a single task.
"""

from __future__ import annotations

from typing import Any, ClassVar, Dict, List, Mapping, Optional

import attrs
import numpy as np

from ..errors import DataError, ExpressionError
from ..fields import at_least, field, non_negative, positive
from ..formula import parse_formula
from ..results import jsonable
from .data import MixtureRuns, per_source, unknown_names
from .fit_task import FitMixtureTask, MixtureFitResult
from .frontier import mixture_frontier
from .optimise import optimise_mixture
from .target import target_function


def _target_value(_inst, attribute, value) -> None:
    """`target:` is {domain: weight >= 0, ...} or {expression: "<formula>"}."""
    if "expression" in value:
        if len(value) != 1 or not isinstance(value["expression"], str):
            raise ValueError("expected {expression: \"<formula over the domains>\"} alone, or "
                             f"{{domain: weight, ...}}; got {value!r}")
        return
    for k, v in value.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v) or v < 0:
            raise ValueError(f"the weight of domain {k!r} must be a number >= 0, got {v!r} "
                             "(or write the target as {expression: \"...\"})")


@attrs.frozen(kw_only=True)
class Frontier:
    """Token budgets at which to re-solve the optimum: a list, or a log-spaced range."""

    budgets: tuple[float, ...] = field(factory=tuple, doc=(
        "Token budgets T, e.g. [1.0e+10, 1.0e+11]; or give `low`, `high` and `points`."))
    low: Optional[float] = field(default=None, doc="Smallest budget of a log-spaced range.")
    high: Optional[float] = field(default=None, doc="Largest budget of a log-spaced range.")
    points: int = field(default=9, validator=at_least(2), doc="Budgets in the log-spaced range.")
    n_starts: int = field(default=32, validator=at_least(1), doc=(
        "Starts per budget (all budgets are solved in one vmapped call)."))

    def problems(self) -> List[tuple]:
        out: List[tuple] = []
        ranged = self.low is not None or self.high is not None
        if self.budgets and ranged:
            out.append(((), "give either `budgets` or `low`/`high`/`points`, not both"))
        elif not self.budgets and not (self.low is not None and self.high is not None):
            out.append(((), "give `budgets: [1.0e+10, ...]` or a range `low`, `high` (and "
                        "`points`)"))
        for key, v in (("low", self.low), ("high", self.high)):
            if v is not None and not v > 0:
                out.append(((key,), f"expected a number > 0, got {v!r}"))
        if self.low is not None and self.high is not None and self.low >= self.high:
            out.append(((), f"`low` ({self.low:g}) must be below `high` ({self.high:g})"))
        for i, v in enumerate(self.budgets):
            if not v > 0:
                out.append((("budgets", i), f"expected a number > 0, got {v!r}"))
        return out

    def values(self) -> np.ndarray:
        if self.budgets:
            return np.sort(np.asarray(self.budgets, dtype=np.float64))
        return np.geomspace(float(self.low), float(self.high), int(self.points))  # type: ignore


@attrs.frozen(kw_only=True)
class OptimiseMixtureTask(FitMixtureTask):
    """Fit a mixture law, then choose the mixture minimising the predicted target loss."""

    target: dict[str, Any] = field(factory=dict, validator=_target_value, doc=(
        "The loss to minimise: weights over validation domains, `{pile_cc: 1}` (equal weights "
        "over all domains when empty), or a formula of the domains' losses, `{expression: "
        "\"max(loss_code, loss_web) + 0.5 * loss_math\"}` (names: domains or their loss columns; "
        "the functions of `law: {expression: ...}`)."))
    lower: dict[str, float] = field(factory=dict, doc="Minimum proportion per source (default 0).")
    upper: dict[str, float] = field(factory=dict, doc="Maximum proportion per source (default 1).")
    budget: Optional[float] = field(default=None, doc=(
        "Token budget T of the target run; with `unique_tokens`, caps u_j = max_epochs U_j / T."))
    max_epochs: float = field(default=4.0, validator=positive, doc=(
        "Maximum epochs over each source's unique tokens (RegMix: 15)."))
    penalty: dict[str, float] = field(factory=dict, doc=(
        "Per source, loss units per unit of proportion added to the objective (a soft price; "
        "for a hard spending limit use `cost_per_token` and `spend`)."))
    cost_per_token: dict[str, float] = field(factory=dict, doc=(
        "Money per training token drawn from each source (0 for unlisted sources); with `spend`, "
        "sum_j cost_per_token_j r_j T <= spend."))
    spend: Optional[float] = field(default=None, doc=(
        "Spending limit, in the money of `cost_per_token` (needs `budget`)."))
    frontier: Optional[Frontier] = field(default=None, doc=(
        "Re-solve the optimum at several token budgets: `{budgets: [...]}` or `{low, high, "
        "points}`; reported as a table and the figure mixture_<task>_frontier.png."))
    n_starts: int = field(default=256, validator=at_least(1), doc=(
        "Projected-gradient starts (Dirichlet draws)."))
    starts_per_draw: int = field(default=4, validator=at_least(1), doc=(
        "Starts per bootstrap draw (the point optimum and Dirichlet draws)."))
    compare: dict[str, dict[str, float]] = field(factory=dict, doc=(
        "Reference mixtures to show beside the optimum, `{published: {pile_cc: 0.89, ...}}`; the "
        "predicted loss is given for those that sum to one."))
    sampling_baseline: int = field(default=0, validator=non_negative, doc=(
        "If > 0: also RegMix's selection, the mean of the `top_k` best of this many Dirichlet "
        "samples (concentration: the unique-token shares, or ones), within the constraints."))
    top_k: int = field(default=128, validator=at_least(1), doc="RegMix's top-k (128).")

    def check(self, spec, registry) -> List[tuple]:
        out = super().check(spec, registry)
        if "expression" in self.target:
            try:
                parse_formula(self.target["expression"])
            except ExpressionError as exc:
                out.append((("target", "expression"), exc))
        if (self.spend is None) != (not self.cost_per_token):
            missing = "spend" if self.spend is None else "cost_per_token"
            out.append(((missing,), "a spending limit needs both `cost_per_token` (money per "
                        "token of each source) and `spend` (the limit)"))
        if self.spend is not None and not self.spend > 0:
            out.append((("spend",), f"expected a number > 0, got {self.spend!r}"))
        for k, v in self.cost_per_token.items():
            if not (np.isfinite(v) and v >= 0):
                out.append((("cost_per_token", k), f"expected a number >= 0, got {v!r}"))
        if self.spend is not None and self.budget is None:
            out.append((("budget",), "`spend` needs `budget`, the tokens the costs apply to"))
        if self.frontier is not None:
            out += [(("frontier",) + p, m) for p, m in self.frontier.problems()]
        return out

    def _objective(self, name: str, runs: MixtureRuns):
        """(weights or None, formula text or None), with unknown domains named."""
        if "expression" in self.target:
            text = self.target["expression"]
            try:
                target_function(text, tuple(runs.domains), self.domain_columns)
            except ExpressionError as exc:
                raise DataError(f"task {name}: target.expression: {exc}") from None
            return None, text
        bad = unknown_names(self.target, runs.domains, "domain")
        if bad:
            raise DataError(f"task {name}: target: " + "; ".join(bad))
        if self.target:
            return np.array([float(self.target.get(d, 0.0)) for d in runs.domains]), None
        return np.full(len(runs.domains), 1.0 / len(runs.domains)), None

    def _per_source(self, name: str, sources) -> Dict[str, Optional[np.ndarray]]:
        try:
            return {"lower": per_source(self.lower, sources, 0.0, "lower"),
                    "upper": per_source(self.upper, sources, 1.0, "upper"),
                    "penalty": per_source(self.penalty, sources, 0.0, "penalty")
                    if self.penalty else None,
                    "cost_per_token": per_source(self.cost_per_token, sources, 0.0, "cost_per_token")
                    if self.cost_per_token else None}
        except DataError as exc:
            raise DataError(f"task {name}: {exc}") from None

    # It takes the fit task's keys (and refits), but its result is the optimum, not the fit.
    def run(self, ctx, name: str) -> MixtureOptimumResult:  # type: ignore[override]
        runs = self.load(ctx, self.dataset, self.loss_dataset, self.join_on)
        weights, expression = self._objective(name, runs)
        by_source = self._per_source(name, runs.sources)
        if self.bootstrap_domains:
            boot = [runs.domains.index(d) for d in self.bootstrap_domains]
        elif weights is not None:
            boot = [i for i, w in enumerate(weights) if w > 0]
        else:  # the domains the formula uses
            used = parse_formula(expression).names
            boot = [i for i, d in enumerate(runs.domains)
                    if d in used or self.domain_columns.format(d) in used]
        fitted = self.fit(runs, ctx, boot)
        fit_result = self.result(ctx, name, runs, fitted)
        s = runs.sources
        unique = (per_source(self.unique_tokens, s, np.inf, "unique_tokens") if self.unique_tokens
                  else None)
        budget = self.budget
        if unique is not None and budget is None:
            raise DataError(f"task {name}: `unique_tokens` needs `budget` (the target run's tokens)")
        context = np.array([budget]) if budget is not None else fitted.context
        objective = (None if expression is None else
                     target_function(expression, tuple(runs.domains), self.domain_columns))
        common: Dict[str, Any] = dict(
            weights=weights, objective=objective, unique_tokens=unique,
            max_epochs=float(self.max_epochs), spend=self.spend, sources=s, domains=runs.domains,
            **by_source)
        opt = optimise_mixture(fitted.law.predict, fitted.params, budget=budget, context=context,
                               n_starts=int(self.n_starts), seed=ctx.seed, draws=fitted.draws,
                               n_starts_draw=int(self.starts_per_draw), **common)
        frontier = None
        if self.frontier is not None:
            frontier = mixture_frontier(
                fitted.law.predict, fitted.params, budgets=self.frontier.values(),
                context_of_budget=fitted.law.budget_context,
                n_starts=int(self.frontier.n_starts), seed=ctx.seed, **common)
        comparisons = []
        for label, mix in self.compare.items():
            bad = unknown_names(mix, s, "source")
            if bad:
                raise DataError(f"task {name}: compare.{label}: " + "; ".join(bad))
            r = np.array([float(mix.get(x, 0.0)) for x in s])
            row: Dict[str, Any] = {"name": label, "proportions": dict(mix)}
            if abs(r.sum() - 1.0) <= 1e-3 and opt.evaluate is not None:
                row["objective"] = float(opt.evaluate(r / r.sum())[0])
            comparisons.append(row)
        sampling = None
        if self.sampling_baseline:
            sampling = _sampling_baseline(opt, unique, int(self.sampling_baseline),
                                          int(self.top_k), ctx.seed)
        return MixtureOptimumResult(name=name, fit=fit_result, optimum=opt,
                                    comparisons=comparisons, sampling=sampling, frontier=frontier)


def _sampling_baseline(opt, unique, n: int, k: int, seed: int):
    """RegMix's selection: mean of the top-k of n Dirichlet samples, those within the constraints
    (bounds, caps and the spending limit)."""
    rng = np.random.default_rng(seed)
    alpha = unique / unique.sum() if unique is not None and np.all(np.isfinite(unique)) \
        else np.ones(len(opt.sources))
    samples = rng.dirichlet(alpha, n)
    ok = opt.feasible(samples)
    samples = samples[ok]
    losses = opt.evaluate(samples)
    top = samples[np.argsort(losses)[:k]]
    mean = top.mean(axis=0)
    return {"n_samples": n, "n_within_bounds": int(ok.sum()), "top_k": k,
            "proportions": dict(zip(opt.sources, mean)),
            "objective": float(opt.evaluate(mean)[0]),
            "best_sample_objective": float(np.min(losses))}


@attrs.frozen(kw_only=True, eq=False)
class MixtureOptimumResult:
    """The fit and the chosen mixture (and the frontier against the token budget), presented by
    :mod:`scalinglaws.report.mixture_optimum`. Rebuilt from results.json, ``optimum`` is its
    record there (a dict) and ``frontier`` its rows: the numbers, without the fitted law."""

    name: str
    fit: MixtureFitResult
    optimum: Any  # MixtureOptimum, or its to_json() when rebuilt
    comparisons: List[Dict[str, Any]] = attrs.field(factory=list)
    sampling: Optional[Dict[str, Any]] = None
    frontier: Any = None  # MixtureFrontier, or its rows() when rebuilt
    kind: ClassVar[str] = "mixture_optimum"

    def rows(self) -> List[Dict[str, Any]]:
        """The fit's parameters, and the optimal proportions with their bootstrap spread."""
        out = self.fit.rows()
        opt = self.to_json()["optimum"]
        boot = opt.get("bootstrap")
        for s in self.fit.fitted.sources:
            row = {"task": self.name, "law": "optimum", "parameter": f"r[{s}]",
                   "estimate": opt["proportions"][s]}
            if boot is not None:
                row.update(se=boot["proportions_std"][s], lower=boot["proportions_lower"][s],
                           upper=boot["proportions_upper"][s])
            out.append(row)
        return out

    def to_json(self) -> Dict[str, Any]:
        rebuilt = isinstance(self.optimum, Mapping)
        out = {"name": self.name, "kind": self.kind, "fit": self.fit.to_json(),
               "optimum": self.optimum if rebuilt else self.optimum.to_json(),
               "comparisons": self.comparisons, "sampling_baseline": self.sampling}
        if self.frontier is not None:
            out["frontier"] = self.frontier if rebuilt else self.frontier.rows()
        return jsonable(out)

    @classmethod
    def from_json(cls, data: Mapping[str, Any], registry=None) -> MixtureOptimumResult:
        """The result as results.json records it (the report's numbers, no figures)."""
        return cls(name=data["name"], fit=MixtureFitResult.from_json(data["fit"]),
                   optimum=dict(data["optimum"]), comparisons=list(data.get("comparisons", [])),
                   sampling=data.get("sampling_baseline"), frontier=data.get("frontier"))


OptimiseMixtureTask.result_type = MixtureOptimumResult  # rebuilt by `scalinglaws report`
