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
from ..spec.fields import at_least, field, non_negative, one_of, positive
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

    def score(self, ctx, fitted) -> Dict[str, Dict[str, Dict[str, float]]]:
        out = {}
        for label, ev in self.evaluate.items():
            runs = self.load(ctx, ev.dataset, ev.loss_dataset, ev.join_on, sources=fitted.sources,
                             domains=fitted.domains)
            ctxs = None
            if runs.budget is not None and fitted.law.name == "mixing_exp_repetition":
                ctxs = runs.budget
            if ctxs is None:
                pred = fitted.predict(runs.r)
            else:
                pred = np.vstack([fitted.predict(r[None], [t]) for r, t in zip(runs.r, ctxs)])
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
        return MixtureFitResult(name=name, dataset=self.dataset, fitted=fitted, n_runs=len(runs.r),
                                evaluation=self.score(ctx, fitted), notes=list(runs.notes))


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
        return lines + [""]

    def figures(self) -> Dict[str, Any]:
        """Observed against predicted loss on each held-out set (one panel per set)."""
        return {}


@attrs.frozen(kw_only=True)
class OptimiseMixtureTask(FitMixtureTask):
    """Fit a mixture law, then choose the mixture minimising the predicted target loss."""

    target: dict[str, float] = field(factory=dict, doc=(
        "Weights over validation domains of the loss to minimise, `{pile_cc: 1}`; equal weights "
        "over all domains when empty."))
    lower: dict[str, float] = field(factory=dict, doc="Minimum proportion per source (default 0).")
    upper: dict[str, float] = field(factory=dict, doc="Maximum proportion per source (default 1).")
    budget: Optional[float] = field(default=None, doc=(
        "Token budget T of the target run; with `unique_tokens`, caps u_j = max_epochs U_j / T."))
    max_epochs: float = field(default=4.0, validator=positive, doc=(
        "Maximum epochs over each source's unique tokens (RegMix: 15)."))
    costs: dict[str, float] = field(factory=dict, doc=(
        "Cost per source, in loss units per unit of proportion, added to the objective."))
    n_starts: int = field(default=256, validator=at_least(1), doc=(
        "Projected-gradient starts (Dirichlet draws)."))
    starts_per_draw: int = field(default=4, validator=at_least(1), doc=(
        "Starts per bootstrap draw (the point optimum and Dirichlet draws)."))
    compare: dict[str, dict[str, float]] = field(factory=dict, doc=(
        "Reference mixtures to show beside the optimum, `{published: {pile_cc: 0.89, ...}}`; the "
        "predicted loss is given for those that sum to one."))
    sampling_baseline: int = field(default=0, validator=non_negative, doc=(
        "If > 0: also RegMix's selection, the mean of the `top_k` best of this many Dirichlet "
        "samples (concentration: the unique-token shares, or ones), within the caps."))
    top_k: int = field(default=128, validator=at_least(1), doc="RegMix's top-k (128).")

    # It takes the fit task's keys (and refits), but its result is the optimum, not the fit.
    def run(self, ctx, name: str) -> MixtureOptimumResult:  # type: ignore[override]
        from .optimise import optimise_mixture

        runs = self.load(ctx, self.dataset, self.loss_dataset, self.join_on)
        problems = (_names(self.target, runs.domains, "domain")
                    + _names(self.lower, runs.sources, "source")
                    + _names(self.upper, runs.sources, "source")
                    + _names(self.costs, runs.sources, "source"))
        if problems:
            raise DataError(f"task {name}: " + "; ".join(problems))
        weights = (np.array([float(self.target.get(d, 0.0)) for d in runs.domains]) if self.target
                   else np.full(len(runs.domains), 1.0 / len(runs.domains)))
        boot = [runs.domains.index(d) for d in self.bootstrap_domains] if self.bootstrap_domains \
            else [i for i, w in enumerate(weights) if w > 0]
        fitted = self.fit(runs, ctx.seed, boot)
        fit_result = MixtureFitResult(name=name, dataset=self.dataset, fitted=fitted,
                                      n_runs=len(runs.r), evaluation=self.score(ctx, fitted),
                                      notes=list(runs.notes))
        s = runs.sources
        unique = self._unique(s) if self.unique_tokens else None
        budget = self.budget
        if unique is not None and budget is None:
            raise DataError(f"task {name}: `unique_tokens` needs `budget` (the target run's tokens)")
        context = np.array([budget]) if budget is not None else fitted.context
        opt = optimise_mixture(
            fitted.law.predict, fitted.params, weights=weights,
            lower=np.array([float(self.lower.get(x, 0.0)) for x in s]),
            upper=np.array([float(self.upper.get(x, 1.0)) for x in s]),
            budget=budget, unique_tokens=unique, max_epochs=float(self.max_epochs),
            costs=np.array([float(self.costs.get(x, 0.0)) for x in s]), context=context,
            n_starts=int(self.n_starts), seed=ctx.seed, draws=fitted.draws,
            n_starts_draw=int(self.starts_per_draw), sources=s, domains=runs.domains)
        comparisons = []
        for label, mix in self.compare.items():
            bad = _names(mix, s, "source")
            if bad:
                raise DataError(f"task {name}: compare.{label}: " + "; ".join(bad))
            r = np.array([float(mix.get(x, 0.0)) for x in s])
            row: Dict[str, Any] = {"name": label, "proportions": dict(mix)}
            if abs(r.sum() - 1.0) <= 1e-3:
                r = r / r.sum()
                pred = fitted.predict(r[None], context)[0]
                row["objective"] = float(weights @ pred + np.array(
                    [float(self.costs.get(x, 0.0)) for x in s]) @ r)
            comparisons.append(row)
        sampling = None
        if self.sampling_baseline:
            sampling = _sampling_baseline(fitted, weights, opt, unique, context,
                                          int(self.sampling_baseline), int(self.top_k), ctx.seed)
        return MixtureOptimumResult(name=name, fit=fit_result, optimum=opt,
                                    comparisons=comparisons, sampling=sampling)


def _sampling_baseline(fitted, weights, opt, unique, context, n: int, k: int, seed: int):
    """RegMix's selection: mean of the top-k of n Dirichlet samples, those within the bounds."""
    rng = np.random.default_rng(seed)
    alpha = unique / unique.sum() if unique is not None and np.all(np.isfinite(unique)) \
        else np.ones(len(fitted.sources))
    samples = rng.dirichlet(alpha, n)
    ok = np.all((samples >= opt.lower - 1e-12) & (samples <= opt.upper + 1e-12), axis=1)
    samples = samples[ok]
    losses = fitted.predict(samples, context) @ weights
    top = samples[np.argsort(losses)[:k]]
    mean = top.mean(axis=0)
    return {"n_samples": n, "n_within_bounds": int(ok.sum()), "top_k": k,
            "proportions": dict(zip(fitted.sources, mean)),
            "objective": float(fitted.predict(mean[None], context)[0] @ weights),
            "best_sample_objective": float(np.min(losses))}


@attrs.frozen(kw_only=True, eq=False)
class MixtureOptimumResult:
    """The fit and the chosen mixture."""

    name: str
    fit: MixtureFitResult
    optimum: Any  # MixtureOptimum
    comparisons: List[Dict[str, Any]] = attrs.field(factory=list)
    sampling: Optional[Dict[str, Any]] = None
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
        return jsonable({"name": self.name, "kind": self.kind, "fit": self.fit.to_json(),
                         "optimum": self.optimum.to_json(), "comparisons": self.comparisons,
                         "sampling_baseline": self.sampling})

    def markdown(self, images=frozenset()) -> List[str]:
        from .optimise import solutions_table

        opt = self.optimum
        lines = self.fit.markdown(images)
        target = ", ".join(f"{w:g} x {d}" for d, w in zip(opt.domains, opt.weights) if w > 0)
        lines += [f"### Chosen mixture (task `{self.name}`)", "",
                  f"Minimise {target} over the capped simplex"
                  + (f", budget T = {opt.budget:.4g} tokens" if opt.budget is not None else "")
                  + f": predicted target loss **{opt.objective:.5g}**"]
        iv = opt.interval()
        if iv is not None:
            lines[-1] += (f" (90% bootstrap interval {iv['objective_lower']:.5g} to "
                          f"{iv['objective_upper']:.5g}, {opt.draws['objective'].shape[0]} draws)")
        lines[-1] += (f"; {opt.n_at_best} of {opt.n_starts} starts reached the best; KKT violation "
                      f"{opt.kkt_violation:.2g}.")
        image = f"mixture_{self.name}.png"
        if image in images:
            lines += ["", f"![optimal mixture]({image})"]
        rows = solutions_table(opt)
        has_ep = opt.epochs is not None
        head = "| source | proportion |" + (" 90% interval |" if iv is not None else "") + \
            " bounds | active | " + ("epochs | " if has_ep else "") + "marginal value |"
        lines += ["", head, "|---|---|" + ("---|" if iv is not None else "") + "---|---|"
                  + ("---|" if has_ep else "") + "---|"]
        for row in rows:
            cells = [row["source"], f"{row['proportion']:.4f}"]
            if iv is not None:
                cells.append(f"{row['q05']:.4f} - {row['q95']:.4f}")
            cells += [f"[{row['lower']:.3g}, {row['upper']:.3g}]", row["active"]]
            if has_ep:
                cells.append(f"{row['epochs']:.3g}" if np.isfinite(row["epochs"]) else "-")
            mv = row["marginal_value"]
            cells.append(f"{mv:.3g}" if abs(mv) > 1e-12 else "0")
            lines.append("| " + " | ".join(cells) + " |")
        lines += ["", "Marginal value: -(dF/dr_j + nu), the drop of the target loss per unit of "
                  "proportion moved into the source from the free ones (the KKT multiplier of an "
                  "active cap; negative at a lower bound).", ""]
        if self.comparisons or self.sampling:
            lines += ["| mixture | predicted target loss | proportions |", "|---|---|---|"]
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
            lines.append("")
        return lines

    def figures(self) -> Dict[str, Any]:
        """``mixture_<task>.png``: the optimal mixture, bars with 90% bootstrap whiskers."""
        from .plots import optimum_figure

        return {f"mixture_{self.name}.png": optimum_figure(self)}
