"""The `fit_mixture` task: a mixture law fitted to proxy runs with known proportions.

The law is looked up by name among the mixture laws registered through the plugin host
(``register_mixture_laws``; ``scalinglaws list laws`` marks them), and it reports how well the fit
ranks held-out mixtures (Spearman's rho per domain, as RegMix reports) and their error.
"""

from __future__ import annotations

from typing import Any, ClassVar, Dict, List, Mapping, Optional

import attrs
import numpy as np

from ..core.objectives import make_loss
from ..errors import DataError, closest
from ..estimators.multistart import registered_loss
from ..fields import at_least, field, non_negative, positive
from ..results import RecordedLaw, jsonable
from .data import MixtureRuns, load_runs, per_source, spearman, unknown_datasets, unknown_names
from .laws import FitOptions, RecordedMixture


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


def law_rows(task: str, law: str, paper_params) -> List[Dict[str, Any]]:
    """params.csv rows of a fitted mixture law: c, k and t per domain in the paper's form, a
    plugin law's own parameters flattened."""
    out = []
    for p in paper_params:
        d = p["domain"]
        names = [(f"{key}[{d},{j}]", x) for key, v in p.items()
                 if key not in ("domain", "c", "k", "t", "terms") for j, x in enumerate(np.ravel(v))]
        names += [(f"{key}[{d}]", p[key]) for key in ("c", "k") if key in p]
        names += [(f"t[{d},{s}]", v) for s, v in p.get("t", {}).items()]
        out += [{"task": task, "law": law, "parameter": n, "estimate": float(v)} for n, v in names]
    return out


@attrs.frozen(kw_only=True, eq=False)
class MixtureFitResult:
    """A fitted mixture law with its per-domain diagnostics and held-out scores (presented by
    :mod:`scalinglaws.report.mixture_fit`)."""

    name: str
    dataset: str
    fitted: Any  # FittedMixture; a RecordedMixture when rebuilt from results.json
    n_runs: int
    evaluation: Dict[str, Dict[str, Dict[str, float]]] = attrs.field(factory=dict)
    notes: List[str] = attrs.field(factory=list)
    # (predicted, observed) losses (n, D) of the training runs and of each held-out set; not in
    # results.json
    points: Dict[str, Any] = attrs.field(factory=dict)
    kind: ClassVar[str] = "mixture_fit"

    def rows(self) -> List[Dict[str, Any]]:
        return law_rows(self.name, self.fitted.law.name, self.fitted.paper_params())

    def to_json(self) -> Dict[str, Any]:
        f = self.fitted
        return jsonable({
            "name": self.name, "kind": self.kind, "dataset": self.dataset,
            "law": f.law.name, "formula": f.law.formula, "reference": f.law.reference,
            "sources": list(f.sources), "domains": list(f.domains), "n_runs": self.n_runs,
            "params": f.paper_params(), "diagnostics": f.diagnostics, "estimator": f.estimator,
            "evaluation": self.evaluation, "notes": self.notes,
            # results.json sorts its keys: the held-out sets in the spec's order
            "evaluation_order": list(self.evaluation),
        })

    @classmethod
    def from_json(cls, data: Mapping[str, Any], registry=None) -> MixtureFitResult:
        """The result as results.json records it: the law by its record (no predictions, so no
        figure points), the held-out scores in the spec's order."""
        order = data.get("evaluation_order", list(data.get("evaluation", {})))
        sources = data["sources"]
        params = [{**p, "t": {s: p["t"][s] for s in sources}} if "t" in p else p
                  for p in data["params"]]  # t in the order of the sources, as fitted
        fitted = RecordedMixture(
            law=RecordedLaw(name=data["law"], formula=data.get("formula", ""),
                            reference=data.get("reference", "")),
            params=params, diagnostics=data["diagnostics"],
            sources=tuple(sources), domains=tuple(data["domains"]),
            estimator=data.get("estimator", {}))
        return cls(name=data["name"], dataset=data["dataset"], fitted=fitted,
                   n_runs=int(data["n_runs"]), evaluation={k: data["evaluation"][k] for k in order},
                   notes=list(data.get("notes", [])))


FitMixtureTask.result_type = MixtureFitResult  # rebuilt by `scalinglaws report`
