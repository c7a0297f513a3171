"""The `fit_mixture` task: a mixture law fitted to proxy runs with known proportions.

The law is looked up by name among the mixture laws registered through the plugin host
(``register_mixture_laws``; ``scalinglaws list laws`` marks them), and it reports how well the fit
ranks held-out mixtures (Spearman's rho per domain, as RegMix reports) and their error.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import attrs
import numpy as np

from ..core.objectives import make_loss
from ..errors import DataError, closest
from ..estimators.multistart import registered_loss
from ..fields import at_least, field, non_negative, positive
from ..results import jsonable
from .data import MixtureRuns, load_runs, per_source, spearman, unknown_datasets, unknown_names
from .laws import FitOptions


@attrs.frozen(kw_only=True)
class EvalSet:
    """Held-out runs to score the fitted law on (same source and domain columns)."""

    dataset: str = field(doc="Dataset with the held-out mixtures (and losses).")
    loss_dataset: Optional[str] = field(default=None, doc=(
        "Dataset with their losses, when they are in a separate table."))
    join_on: Optional[str] = field(default=None, doc="Key column joining the two tables.")


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
    law: str = field(default="mixing_exp", doc=(
        "A registered mixture law (`scalinglaws list laws`): `mixing_exp` (Ye et al. 2024: c_i + "
        "k_i exp(t_i . r)), `mixing_exp_repetition` (the same of Muennighoff's effective mixture; "
        "needs `unique_tokens` and `budget_column`), `mixing_mlp` (exp-activation surrogate fitted "
        "with Adam), or a plugin's."))
    loss: str = field(default="squared", validator=registered_loss, doc=(
        "Per-point loss on log residuals, by name (a registered loss with its default parameters: "
        "docs/estimators.md)."))
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
        out = unknown_datasets(spec, [(("dataset",), self.dataset),
                                      (("loss_dataset",), self.loss_dataset)]
                               + [(("evaluate", label, key), getattr(ev, key))
                                  for label, ev in self.evaluate.items()
                                  for key in ("dataset", "loss_dataset")])
        if registry is None:
            return out
        if self.law not in registry.mixture_laws:
            known_laws = sorted(registry.mixture_laws)
            return out + [(("law",), f"unknown mixture law {self.law!r}"
                           f"{closest(self.law, known_laws)}; registered: {', '.join(known_laws)}")]
        for key in registry.mixture_law(self.law).requires:
            if not getattr(self, key):
                out.append(((key,), f"`{self.law}` needs `{key}`"))
        return out

    def load(self, ctx, dataset: str, loss_dataset: Optional[str], join_on: Optional[str],
             sources=(), domains=()) -> MixtureRuns:
        table = ctx.table(dataset)
        lt = ctx.table(loss_dataset) if loss_dataset is not None else None
        return load_runs(table, lt, join_on=join_on, sources=sources or self.sources,
                         source_columns=self.source_columns, domains=domains or self.domains,
                         domain_columns=self.domain_columns, budget_column=self.budget_column)

    def fit(self, runs: MixtureRuns, ctx, boot_domains: Optional[List[int]] = None):
        """The registered law's fit, with this task's options."""
        return ctx.registry.mixture_law(self.law).fit(runs, FitOptions(
            loss=make_loss(self.loss, float(self.delta)), n_bootstrap=int(self.bootstrap),
            bootstrap_domains=boot_domains, seed=ctx.seed,
            unique_tokens=(per_source(self.unique_tokens, runs.sources, np.inf, "unique_tokens")
                           if self.unique_tokens else None),
            settings={"hidden": int(self.hidden), "steps": int(self.steps),
                      "learning_rate": float(self.learning_rate), "r_star": float(self.r_star)}))

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
            bad = unknown_names(self.bootstrap_domains, runs.domains, "domain")
            if bad:
                raise DataError("bootstrap_domains: " + "; ".join(bad))
            boot = [runs.domains.index(d) for d in self.bootstrap_domains]
        fitted = self.fit(runs, ctx, boot)
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
    """Predicted losses (n, D) of the runs; a law whose context is the budget (the repetition
    law) under each run's own."""
    if runs.budget is not None and fitted.law.budget_context:
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
            for key, v in p.items():  # a plugin law's own parameters, flattened
                if key not in ("domain", "c", "k", "t", "terms"):
                    out += [{"task": self.name, "law": law, "parameter": f"{key}[{d},{j}]",
                             "estimate": float(x)} for j, x in enumerate(np.ravel(v))]
            if "c" in p:
                out.append({"task": self.name, "law": law, "parameter": f"c[{d}]",
                            "estimate": p["c"]})
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
        from ..core.objectives import describe_loss

        loss = describe_loss(est.get("loss", "squared"), est.get("delta", 1.0), est.get("loss_args"))
        lines.append(f"- Fit: {est.get('method')}, {loss} on log residuals"
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
            cells = [d, _fmt(float(f.params["c"][i])) if "c" in f.params else "-",
                     _fmt(f.diagnostics[i]["rmse_log"], 3)]
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
