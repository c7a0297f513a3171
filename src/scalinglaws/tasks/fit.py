"""The `fit` task: fit one law to one dataset and report the parameters."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import attrs
import numpy as np

from ..errors import closest
from ..results import FitResult, jsonable
from ..spec.fields import field
from ..spec.model import EstimatorSpec, LawSpec


def resolve_law(law: LawSpec, registry):
    """The registered family with the spec's fixed parameters applied."""
    return registry.law(law.family).with_fixed(law.fixed)


def law_problems(law: LawSpec, registry, at: tuple) -> list:
    if law.family not in registry.laws:
        names = sorted(registry.laws)
        return [(at + ("family",), f"unknown law {law.family!r}{closest(law.family, names)}; "
                 f"registered: {', '.join(names)}")]
    family = registry.laws[law.family].obj
    out = []
    for name in law.fixed:
        if name not in family.param_names:
            out.append((at + ("fixed", name), f"law {law.family!r} has no parameter {name!r}"
                        f"{closest(name, family.param_names)}; its parameters are "
                        f"{', '.join(family.param_names)}"))
    for name in law.inputs:
        if name not in family.inputs:
            out.append((at + ("inputs", name), f"law {law.family!r} has no input {name!r}; its "
                        f"inputs are {', '.join(family.inputs)}"))
    if len(law.fixed) >= len(family.parameters):
        out.append((at + ("fixed",), "every parameter is fixed; leave at least one free"))
    return out


def observations(family, law: LawSpec, table, *, log_target: bool):
    """Inputs (n, k) in the family's order and the target, validated for the logs to be taken."""
    x = np.column_stack([
        table.numeric(law.inputs.get(name, name), positive=family.positive_inputs,
                      why=f" (input {name} of {family.name})")
        for name in family.inputs
    ])
    y = table.numeric(law.target, positive=log_target, why=" (log residuals take its log)")
    return x, y


def make_estimator(spec: Optional[EstimatorSpec], family, registry):
    if spec is None:
        cls = registry.estimators["multistart"].obj
        return cls(**family.default_estimator)
    return spec.options


@attrs.frozen(kw_only=True)
class FitTask:
    """Fit a law to a dataset. Without an estimator, the family's published recipe is used."""

    dataset: str = field(doc="Name of a dataset under `datasets`.")
    law: LawSpec = field(doc="Law family name, or `{family, inputs, target, fixed}`.")
    estimator: Optional[EstimatorSpec] = field(default=None, doc=(
        "How to fit; the family's published recipe when omitted (Chinchilla: Huber delta 1e-3 on "
        "log residuals, 4500-point grid)."))

    def check(self, spec, registry) -> List[tuple]:
        out = []
        if self.dataset not in spec.datasets:
            names = sorted(spec.datasets)
            out.append((("dataset",), f"no dataset {self.dataset!r}{closest(self.dataset, names)}; "
                        f"the spec defines {', '.join(names) or 'none'}"))
        out += law_problems(self.law, registry, ("law",))
        if self.estimator is not None and not out and hasattr(self.estimator.options, "check"):
            family = resolve_law(self.law, registry)
            out += [(("estimator",) + p, m) for p, m in self.estimator.options.check(family)]
        return out

    def run(self, ctx, name: str) -> FitTaskResult:
        family = resolve_law(self.law, ctx.registry)
        estimator = make_estimator(self.estimator, family, ctx.registry)
        table = ctx.table(self.dataset)
        x, y = observations(family, self.law, table, log_target=getattr(estimator, "space", "log") == "log")
        result = estimator.fit(family, x, y, seed=ctx.seed)
        truth = table.meta.get("truth") if table.meta.get("law") == self.law.family else None
        if truth is not None:
            truth = {k: v for k, v in truth.items() if k in result.params}
        return FitTaskResult(name=name, dataset=self.dataset, law=self.law, fit=result,
                             inputs={n: x[:, i] for i, n in enumerate(family.inputs)}, target=y,
                             truth=truth, notes=list(table.notes))


@attrs.frozen(kw_only=True, eq=False)
class FitTaskResult:
    """What a fit task found, with the data it used (for plots)."""

    name: str
    dataset: str
    law: LawSpec
    fit: FitResult
    inputs: Dict[str, np.ndarray]
    target: np.ndarray
    truth: Optional[Dict[str, float]] = None
    notes: List[str] = attrs.field(factory=list)
    kind: str = "fit"

    def rows(self) -> List[Dict[str, Any]]:
        """One row per parameter: estimate, and truth and relative error when known."""
        out = []
        for pname, value in self.fit.params.items():
            row: Dict[str, Any] = {"task": self.name, "law": self.fit.law.name, "parameter": pname,
                                   "estimate": value}
            if self.truth is not None and pname in self.truth:
                t = self.truth[pname]
                row["truth"] = t
                row["rel_error"] = abs(value - t) / abs(t) if t != 0 else abs(value)
            out.append(row)
        return out

    def to_json(self) -> Dict[str, Any]:
        return jsonable({
            "name": self.name,
            "kind": self.kind,
            "dataset": self.dataset,
            "law_spec": attrs.asdict(self.law),
            "fit": self.fit.to_json(),
            "truth": self.truth,
            "notes": self.notes,
        })
