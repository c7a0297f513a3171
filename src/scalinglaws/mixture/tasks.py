"""The `fit_mixture` and `optimise_mixture` tasks: from proxy runs to a chosen mixture.

`fit_mixture` fits a mixture law (per validation domain) to runs with known proportions and
reports how well it ranks held-out mixtures (Spearman's rho per domain, as RegMix reports).
`optimise_mixture` does the same fit and then chooses the mixture minimising a weighted target
loss under bounds, a token budget and availability caps, with bootstrap intervals and the KKT
multipliers. One fit per task: a spec that only needs the optimum has a single task.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import attrs
import numpy as np

from ..errors import DataError, closest
from ..results import jsonable
from ..fields import at_least, field, non_negative, one_of, positive
from .data import MixtureRuns, load_runs, spearman

LAWS = ("mixing_exp", "mixing_exp_repetition", "mixing_mlp")


@attrs.frozen(kw_only=True)
class EvalSet:
    """Held-out runs to score the fitted law on (same source and domain columns)."""

    dataset: str = field(doc="Dataset with the held-out mixtures (and losses).")
    loss_dataset: Optional[str] = field(default=None, doc=(
        "Dataset with their losses, when they are in a separate table."))
    join_on: Optional[str] = field(default=None, doc="Key column joining the two tables.")


def _names(names, known, what: str) -> list:
    out = []
    for n in names:
        if n not in known:
            out.append(f"{what} {n!r}{closest(n, known)} is not among the {what}s of the data "
                       f"({', '.join(known)})")
    return out


@attrs.frozen(kw_only=True)
class FitMixtureTask:
    """Fit a mixture law, loss per validation domain against the mixture proportions."""

    dataset: str = field(doc="Dataset of runs: one proportion column per source (and the losses).")
    loss_dataset: Optional[str] = field(default=None, doc=(
        "Dataset holding the per-domain losses, when not in `dataset` (joined on `join_on`)."))
    join_on: Optional[str] = field(default=None, doc=(
        "Key column joining `dataset` and `loss_dataset` (row order when omitted)."))
    sources: tuple[str, ...] = field(factory=tuple, doc=(
        "Source names; all columns matching `source_columns` when empty."))
    source_columns: str = field(default="r_{}", doc=(
        "Column of each source's proportion, `{}` standing for its name: `r_{}`, `train_the_pile_{}`."))
    domains: tuple[str, ...] = field(factory=tuple, doc=(
        "Validation domains; all columns matching `domain_columns` when empty."))
    domain_columns: str = field(default="loss_{}", doc=(
        "Column of each domain's validation loss, `{}` standing for its name."))
    law: str = field(default="mixing_exp", validator=one_of(*LAWS), doc=(
        "`mixing_exp` (Ye et al. 2024: c_i + k_i exp(t_i . r)), `mixing_exp_repetition` (the same of "
        "Muennighoff's effective mixture; needs `unique_tokens` and `budget_column`) or `mixing_mlp` "
        "(exp-activation surrogate fitted with Adam)."))
    loss: str = field(default="squared", validator=one_of("squared", "huber"), doc=(
        "Per-point loss on log residuals."))
    delta: float = field(default=0.02, validator=positive, doc="Huber threshold (log residuals).")
    hidden: int = field(default=4, validator=at_least(1), doc="`mixing_mlp`: exponential terms.")
    steps: int = field(default=2000, validator=at_least(1), doc="`mixing_mlp`: Adam steps.")
    learning_rate: float = field(default=0.01, validator=positive, doc="`mixing_mlp`: Adam step.")
    budget_column: Optional[str] = field(default=None, doc=(
        "`mixing_exp_repetition`: column with each run's token budget T."))
    unique_tokens: dict[str, float] = field(factory=dict, doc=(
        "Unique tokens U_j per source (same unit as the budget): availability caps and repetition."))
    r_star: float = field(default=15.387756, validator=positive, doc=(
        "R* of Muennighoff's effective data (their fitted R*_D)."))
    bootstrap: int = field(default=0, validator=non_negative, doc=(
        "Bootstrap resamples of the runs (0: none); the law is refitted on each."))
    bootstrap_domains: tuple[str, ...] = field(factory=tuple, doc=(
        "Domains refitted in the bootstrap (default: those with target weight, or all)."))
    evaluate: dict[str, EvalSet] = field(factory=dict, doc=(
        "Held-out sets, `{label: {dataset, loss_dataset, join_on}}`: Spearman's rho, MAE per domain."))

    # --- checks and data ---------------------------------------------------------------------
    def check(self, spec, registry) -> List[tuple]:
        out = []
        names = sorted(spec.datasets)

        def known(key, value):
            if value is not None and value not in spec.datasets:
                out.append(((key,) if isinstance(key, str) else key,
                            f"no dataset {value!r}{closest(value, names)}; the spec defines "
                            f"{', '.join(names) or 'none'}"))

        known("dataset", self.dataset)
        known("loss_dataset", self.loss_dataset)
        for label, ev in self.evaluate.items():
            known(("evaluate", label, "dataset"), ev.dataset)
            known(("evaluate", label, "loss_dataset"), ev.loss_dataset)
        if self.law == "mixing_exp_repetition":
            if not self.unique_tokens:
                out.append((("unique_tokens",), "`mixing_exp_repetition` needs `unique_tokens` "
                            "per source"))
            if self.budget_column is None:
                out.append((("budget_column",), "`mixing_exp_repetition` needs `budget_column`, "
                            "the column with each run's token budget"))
        return out

    def load(self, ctx, dataset: str, loss_dataset: Optional[str], join_on: Optional[str],
             sources=(), domains=()) -> MixtureRuns:
        table = ctx.table(dataset)
        lt = ctx.table(loss_dataset) if loss_dataset is not None else None
        return load_runs(table, lt, join_on=join_on, sources=sources or self.sources,
                         source_columns=self.source_columns, domains=domains or self.domains,
                         domain_columns=self.domain_columns, budget_column=self.budget_column)

    def _unique(self, sources) -> np.ndarray:
        bad = _names(self.unique_tokens, sources, "source")
        if bad:
            raise DataError("unique_tokens: " + "; ".join(bad))
        return np.array([float(self.unique_tokens.get(s, np.inf)) for s in sources])

    def fit(self, runs: MixtureRuns, seed: int, boot_domains: Optional[List[int]] = None):
        from .. import core
        from .laws import MIXING_EXP, effective_proportions, fit_mixing_exp, fit_mixing_mlp, repetition_law

        loss = core.Loss(self.loss, float(self.delta))
        common: Dict[str, Any] = dict(sources=runs.sources, domains=runs.domains, loss=loss,
                      n_bootstrap=int(self.bootstrap), bootstrap_domains=boot_domains, seed=seed)
        if self.law == "mixing_exp_repetition":
            import jax
            import jax.numpy as jnp

            assert runs.budget is not None  # the repetition law's check requires a budget column
            u = self._unique(runs.sources)
            law = repetition_law(tuple(u), float(self.r_star))
            eff = np.asarray(jax.vmap(lambda r, t: effective_proportions(
                r, t, jnp.asarray(u), float(self.r_star)))(jnp.asarray(runs.r),
                                                           jnp.asarray(runs.budget)))
            return fit_mixing_exp(runs.r, runs.losses, law=law, inputs=eff,
                                  context=np.array([float(np.median(runs.budget))]), **common)
        base = fit_mixing_exp(runs.r, runs.losses, law=MIXING_EXP, **common)
        if self.law == "mixing_exp":
            return base
        return fit_mixing_mlp(runs.r, runs.losses, hidden=int(self.hidden), steps=int(self.steps),
                              learning_rate=float(self.learning_rate), base=base, **common)

    def score(self, ctx, fitted, points: Optional[Dict[str, Any]] = None
              ) -> Dict[str, Dict[str, Dict[str, float]]]:
        """Spearman's rho and MAE per held-out set and domain; ``points``, when given, receives
        each set's (predicted, observed) losses for the figure."""
        out = {}
        for label, ev in self.evaluate.items():
            runs = self.load(ctx, ev.dataset, ev.loss_dataset, ev.join_on, sources=fitted.sources,
                             domains=fitted.domains)
            pred = _predict_runs(fitted, runs)
            if points is not None:
                points[label] = (pred, runs.losses)
            out[label] = {d: {"spearman": spearman(pred[:, i], runs.losses[:, i]),
                              "mae": float(np.mean(np.abs(pred[:, i] - runs.losses[:, i]))),
                              "n": int(len(runs.r))}
                          for i, d in enumerate(fitted.domains)}
        return out

    def run(self, ctx, name: str) -> MixtureFitResult:
        runs = self.load(ctx, self.dataset, self.loss_dataset, self.join_on)
        boot = None
        if self.bootstrap_domains:
            bad = _names(self.bootstrap_domains, runs.domains, "domain")
            if bad:
                raise DataError("bootstrap_domains: " + "; ".join(bad))
            boot = [runs.domains.index(d) for d in self.bootstrap_domains]
        fitted = self.fit(runs, ctx.seed, boot)
        return self.result(ctx, name, runs, fitted)

    def result(self, ctx, name: str, runs: MixtureRuns, fitted) -> MixtureFitResult:
        """The fit's result, with the points of its predicted-against-observed figure."""
        points: Dict[str, Any] = {}
        evaluation = self.score(ctx, fitted, points)
        train = _predict_runs(fitted, runs)
        return MixtureFitResult(name=name, dataset=self.dataset, fitted=fitted, n_runs=len(runs.r),
                                evaluation=evaluation, notes=list(runs.notes),
                                points={"training runs": (train, runs.losses), **points})


def _predict_runs(fitted, runs: MixtureRuns) -> np.ndarray:
    """Predicted losses (n, D) of the runs; the repetition law under each run's own budget."""
    if runs.budget is not None and fitted.law.name == "mixing_exp_repetition":
        return fitted.predict_each(runs.r, runs.budget)
    return fitted.predict(runs.r)


def _fmt(v, digits=4) -> str:
    return f"{v:.{digits}g}" if isinstance(v, float) else str(v)


@attrs.frozen(kw_only=True, eq=False)
class MixtureFitResult:
    """A fitted mixture law with its per-domain diagnostics and held-out scores."""

    name: str
    dataset: str
    fitted: Any  # FittedMixture
    n_runs: int
    evaluation: Dict[str, Dict[str, Dict[str, float]]] = attrs.field(factory=dict)
    notes: List[str] = attrs.field(factory=list)
    # (predicted, observed) losses (n, D) of the training runs and of each held-out set
    points: Dict[str, Any] = attrs.field(factory=dict)
    kind: str = "mixture_fit"

    def rows(self) -> List[Dict[str, Any]]:
        out = []
        law = self.fitted.law.name
        for p in self.fitted.paper_params():
            d = p["domain"]
            out.append({"task": self.name, "law": law, "parameter": f"c[{d}]", "estimate": p["c"]})
            if "k" in p:
                out.append({"task": self.name, "law": law, "parameter": f"k[{d}]", "estimate": p["k"]})
                for s, v in p["t"].items():
                    out.append({"task": self.name, "law": law, "parameter": f"t[{d},{s}]",
                                "estimate": v})
        return out

    def to_json(self) -> Dict[str, Any]:
        f = self.fitted
        return jsonable({
            "name": self.name, "kind": self.kind, "dataset": self.dataset,
            "law": f.law.name, "formula": f.law.formula, "reference": f.law.reference,
            "sources": list(f.sources), "domains": list(f.domains), "n_runs": self.n_runs,
            "params": f.paper_params(), "diagnostics": f.diagnostics, "estimator": f.estimator,
            "evaluation": self.evaluation, "notes": self.notes,
        })

    def markdown(self, images=frozenset()) -> List[str]:
        f = self.fitted
        lines = [f"## Task `{self.name}`: fit `{f.law.name}` to `{self.dataset}`", "",
                 f"- Law: `{f.law.formula}` ({f.law.reference})",
                 f"- Runs: {self.n_runs}; sources: {len(f.sources)}; domains: {len(f.domains)}"]
        est = f.estimator
        lines.append(f"- Fit: {est.get('method')}, {est.get('loss')} loss on log residuals"
                     + (f" (delta {est.get('delta')})" if est.get("loss") == "huber" else "")
                     + (f"; bootstrap: {est.get('n_bootstrap')} resamples of the runs (seed "
                        f"{est.get('seed')})" if est.get("n_bootstrap") else "; no bootstrap"))
        for n in self.notes:
            lines.append(f"- Data: {n}")
        labels = list(self.evaluation)
        # Spearman's rho needs at least three held-out runs; the MAE is the held-out error.
        ranked = [lb for lb in labels if next(iter(self.evaluation[lb].values()))["n"] >= 3]
        head = ("| domain | c | rmse (log, train) |" + "".join(f" rho `{lb}` |" for lb in ranked)
                + "".join(f" MAE `{lb}` |" for lb in labels))
        lines += ["", head, "|---|---|---|" + "---|" * (len(ranked) + len(labels))]
        for i, d in enumerate(f.domains):
            cells = [d, _fmt(float(f.params["c"][i])), _fmt(f.diagnostics[i]["rmse_log"], 3)]
            cells += [_fmt(self.evaluation[lb][d]["spearman"]) for lb in ranked]
            cells += [_fmt(self.evaluation[lb][d]["mae"], 3) for lb in labels]
            lines.append("| " + " | ".join(cells) + " |")
        image = f"mixture_fit_{self.name}.png"
        if image in images:
            lines += ["", f"![predicted against observed loss]({image})"]
        return lines + [""]

    def figures(self) -> Dict[str, Any]:
        """``mixture_fit_<task>.png``: predicted against observed loss, one panel per domain,
        training runs and held-out sets marked apart."""
        if not self.points:
            return {}
        from .plots import fit_figure

        return {f"mixture_fit_{self.name}.png": fit_figure(self)}


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
        from ..errors import ExpressionError
        from ..formula import parse_formula

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
        from ..errors import ExpressionError
        from .optimise import target_function

        if "expression" in self.target:
            text = self.target["expression"]
            try:
                target_function(text, tuple(runs.domains), self.domain_columns)
            except ExpressionError as exc:
                raise DataError(f"task {name}: target.expression: {exc}") from None
            return None, text
        bad = _names(self.target, runs.domains, "domain")
        if bad:
            raise DataError(f"task {name}: target: " + "; ".join(bad))
        if self.target:
            return np.array([float(self.target.get(d, 0.0)) for d in runs.domains]), None
        return np.full(len(runs.domains), 1.0 / len(runs.domains)), None

    def _per_source(self, name: str, sources) -> Dict[str, Optional[np.ndarray]]:
        problems = []
        for key in ("lower", "upper", "penalty", "cost_per_token"):
            problems += [f"{key}: {m}" for m in _names(getattr(self, key), sources, "source")]
        if problems:
            raise DataError(f"task {name}: " + "; ".join(problems))
        return {"lower": np.array([float(self.lower.get(x, 0.0)) for x in sources]),
                "upper": np.array([float(self.upper.get(x, 1.0)) for x in sources]),
                "penalty": (np.array([float(self.penalty.get(x, 0.0)) for x in sources])
                            if self.penalty else None),
                "cost_per_token": (np.array([float(self.cost_per_token.get(x, 0.0))
                                             for x in sources]) if self.cost_per_token else None)}

    # It takes the fit task's keys (and refits), but its result is the optimum, not the fit.
    def run(self, ctx, name: str) -> MixtureOptimumResult:  # type: ignore[override]
        from ..formula import parse_formula
        from .optimise import mixture_frontier, optimise_mixture, target_function

        runs = self.load(ctx, self.dataset, self.loss_dataset, self.join_on)
        weights, expression = self._objective(name, runs)
        per_source = self._per_source(name, runs.sources)
        if self.bootstrap_domains:
            boot = [runs.domains.index(d) for d in self.bootstrap_domains]
        elif weights is not None:
            boot = [i for i, w in enumerate(weights) if w > 0]
        else:  # the domains the formula uses
            used = parse_formula(expression).names
            boot = [i for i, d in enumerate(runs.domains)
                    if d in used or self.domain_columns.format(d) in used]
        fitted = self.fit(runs, ctx.seed, boot)
        fit_result = self.result(ctx, name, runs, fitted)
        s = runs.sources
        unique = self._unique(s) if self.unique_tokens else None
        budget = self.budget
        if unique is not None and budget is None:
            raise DataError(f"task {name}: `unique_tokens` needs `budget` (the target run's tokens)")
        context = np.array([budget]) if budget is not None else fitted.context
        objective = (None if expression is None else
                     target_function(expression, tuple(runs.domains), self.domain_columns))
        common: Dict[str, Any] = dict(
            weights=weights, objective=objective, unique_tokens=unique,
            max_epochs=float(self.max_epochs), spend=self.spend, sources=s, domains=runs.domains,
            **per_source)
        opt = optimise_mixture(fitted.law.predict, fitted.params, budget=budget, context=context,
                               n_starts=int(self.n_starts), seed=ctx.seed, draws=fitted.draws,
                               n_starts_draw=int(self.starts_per_draw), **common)
        frontier = None
        if self.frontier is not None:
            frontier = mixture_frontier(
                fitted.law.predict, fitted.params, budgets=self.frontier.values(),
                context_of_budget=fitted.law.name == "mixing_exp_repetition",
                n_starts=int(self.frontier.n_starts), seed=ctx.seed, **common)
        comparisons = []
        for label, mix in self.compare.items():
            bad = _names(mix, s, "source")
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


def _cell(v: float) -> str:
    return f"{v:.3g}" if abs(v) > 1e-12 else "0"


@attrs.frozen(kw_only=True, eq=False)
class MixtureOptimumResult:
    """The fit and the chosen mixture (and the frontier against the token budget)."""

    name: str
    fit: MixtureFitResult
    optimum: Any  # MixtureOptimum
    comparisons: List[Dict[str, Any]] = attrs.field(factory=list)
    sampling: Optional[Dict[str, Any]] = None
    frontier: Any = None  # MixtureFrontier
    kind: str = "mixture_optimum"

    def rows(self) -> List[Dict[str, Any]]:
        out = self.fit.rows()
        iv = self.optimum.interval()
        for j, (s, v) in enumerate(zip(self.optimum.sources, self.optimum.proportions)):
            row = {"task": self.name, "law": "optimum", "parameter": f"r[{s}]", "estimate": float(v)}
            if iv is not None:
                row["se"] = float(self.optimum.draws["proportions"][:, j].std())
                row["lower"] = float(iv["proportions_lower"][j])
                row["upper"] = float(iv["proportions_upper"][j])
            out.append(row)
        return out

    def to_json(self) -> Dict[str, Any]:
        out = {"name": self.name, "kind": self.kind, "fit": self.fit.to_json(),
               "optimum": self.optimum.to_json(), "comparisons": self.comparisons,
               "sampling_baseline": self.sampling}
        if self.frontier is not None:
            out["frontier"] = self.frontier.rows()
        return jsonable(out)

    def markdown(self, images=frozenset()) -> List[str]:
        opt = self.optimum
        lines = self.fit.markdown(images)
        lines += [f"### Chosen mixture (task `{self.name}`)", "",
                  f"Minimise {opt.target_text} over the capped simplex"
                  + (f", budget T = {opt.budget:.4g} tokens" if opt.budget is not None else "")
                  + (f", spending at most {opt.spend:.6g}" if opt.spend is not None else "")
                  + f": predicted target loss **{opt.objective:.5g}**"]
        iv = opt.interval()
        if iv is not None:
            lines[-1] += (f" (90% bootstrap interval {iv['objective_lower']:.5g} to "
                          f"{iv['objective_upper']:.5g}, {opt.draws['objective'].shape[0]} draws)")
        lines[-1] += (f"; {opt.n_at_best} of {opt.n_starts} starts reached the best; KKT violation "
                      f"{opt.kkt_violation:.2g}.")
        if opt.spend is not None:
            lines += ["", f"Spending: {opt.spent:.6g} of {opt.spend:.6g}"
                      + (f" (binding: one more unit of money is worth {opt.value_of_money:.3g} of "
                         "target loss)" if opt.spend_binds else " (not binding)") + "."]
        for image, alt in ((f"mixture_{self.name}.png", "optimal mixture"),
                           (f"mixture_{self.name}_surface.png", "predicted target around the "
                            "optimum")):
            if image in images:
                lines += ["", f"![{alt}]({image})"]
        lines += self._table(iv)
        lines += self._comparisons()
        lines += self._frontier(images)
        return lines

    def _table(self, iv) -> List[str]:
        from .optimise import solutions_table

        opt = self.optimum
        rows = solutions_table(opt)
        has_ep = opt.epochs is not None
        has_spent = opt.cost_per_token is not None
        head = "| source | proportion |" + (" 90% interval |" if iv is not None else "") + \
            " bounds | active | " + ("epochs | " if has_ep else "") + \
            ("spent | " if has_spent else "") + "marginal value |"
        lines = ["", head, "|---|---|" + ("---|" if iv is not None else "") + "---|---|"
                 + ("---|" if has_ep else "") + ("---|" if has_spent else "") + "---|"]
        for row in rows:
            cells = [row["source"], f"{row['proportion']:.4f}"]
            if iv is not None:
                cells.append(f"{row['q05']:.4f} - {row['q95']:.4f}")
            cells += [f"[{row['lower']:.3g}, {row['upper']:.3g}]", row["active"]]
            if has_ep:
                cells.append(f"{row['epochs']:.3g}" if np.isfinite(row["epochs"]) else "-")
            if has_spent:
                cells.append(f"{row['spent']:.4g}")
            cells.append(_cell(row["marginal_value"]))
            lines.append("| " + " | ".join(cells) + " |")
        lines += ["", "Marginal value: -(dF/dr_j + nu" + (" + mu c_j" if has_spent else "")
                  + "), the drop of the target loss per unit of proportion moved into the source "
                  "from the free ones" + (" at the same spending" if has_spent else "")
                  + " (the KKT multiplier of an active cap; negative at a lower bound).", ""]
        return lines

    def _comparisons(self) -> List[str]:
        opt = self.optimum
        if not (self.comparisons or self.sampling):
            return []
        lines = ["| mixture | predicted target loss | proportions |", "|---|---|---|"]
        top = {s: v for s, v in zip(opt.sources, opt.proportions) if v > 1e-3}
        lines.append(f"| optimum | {opt.objective:.5g} | "
                     + ", ".join(f"{s} {v:.4f}" for s, v in top.items()) + " |")
        if self.sampling:
            sp = {s: v for s, v in self.sampling["proportions"].items() if v > 1e-3}
            lines.append(f"| RegMix selection (top {self.sampling['top_k']} of "
                         f"{self.sampling['n_samples']} samples) | "
                         f"{self.sampling['objective']:.5g} | "
                         + ", ".join(f"{s} {v:.4f}" for s, v in sp.items()) + " |")
        for c in self.comparisons:
            obj = f"{c['objective']:.5g}" if "objective" in c else "(partial mixture)"
            lines.append(f"| {c['name']} | {obj} | "
                         + ", ".join(f"{s} {v:.4g}" for s, v in c["proportions"].items()) + " |")
        return lines + [""]

    def _frontier(self, images) -> List[str]:
        fr = self.frontier
        if fr is None:
            return []
        lines = [f"#### Frontier: the optimum against the token budget (task `{self.name}`)", ""]
        image = f"mixture_{self.name}_frontier.png"
        if image in images:
            lines += [f"![frontier]({image})", ""]
        lines += ["| budget T | predicted target | " + " | ".join(fr.sources)
                  + " | at a cap | spending binds |",
                  "|---|---|" + "---|" * len(fr.sources) + "---|---|"]
        for row in fr.rows():
            if not row["feasible"]:
                lines.append(f"| {row['budget']:.4g} | infeasible |" + " |" * len(fr.sources)
                             + " | |")
                continue
            lines.append(f"| {row['budget']:.4g} | {row['objective']:.5g} | "
                         + " | ".join(f"{v:.4f}" for v in row["proportions"].values())
                         + f" | {', '.join(row['capped'])} | {'yes' if row['spend_binds'] else ''} |")
        bad = [r for r in fr.rows() if not r["feasible"]]
        if bad:
            lines += ["", f"Infeasible at T = {bad[0]['budget']:.4g}: {bad[0]['reason']}"]
        return lines + [""]

    def figures(self) -> Dict[str, Any]:
        """``mixture_<task>.png`` (the optimal mixture, bars with 90% bootstrap whiskers),
        ``mixture_<task>_surface.png`` (the predicted target around the optimum),
        ``mixture_<task>_frontier.png`` (with `frontier:`) and the fit's figure."""
        from .plots import frontier_figure, optimum_figure, surface_figure

        out = {f"mixture_{self.name}.png": optimum_figure(self),
               f"mixture_{self.name}_surface.png": surface_figure(self.optimum, self.name)}
        if self.frontier is not None:
            out[f"mixture_{self.name}_frontier.png"] = frontier_figure(self.frontier, self.name)
        out.update(self.fit.figures())
        return out
