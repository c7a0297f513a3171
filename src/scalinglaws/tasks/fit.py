"""The `fit` task: fit one law to one dataset and report the parameters."""

from __future__ import annotations

from typing import Any, ClassVar, Dict, List, Mapping, Optional, Tuple

import attrs
import numpy as np

from ..errors import closest
from ..estimators.protocol import estimator_for, residual_space
from ..fields import field
from ..laws.expression import expression_law, expression_problems
from ..observations import base_law, observe, resolve_law
from ..results import FitResult, RecordedLaw, jsonable
from ..spec.model import EstimatorSpec, ExpressionParameter, LawSpec
from ..uncertainty import Uncertainty, UncertaintySpec, fit_uncertainty


def law_problems(law: LawSpec, registry, at: tuple) -> list:
    """Every problem of a law spec as (path, message); a message about a formula's text is an
    :class:`~scalinglaws.errors.ExpressionError`, which locates the token inside the string."""
    if law.expression is not None:
        out = [(at + path, m) for path, m in expression_problems(law.expression, law.parameters,
                                                                   axes=law.axes)]
        if out:
            return out
        family = expression_law(law.expression, law.parameters, axes=law.axes)
        what = "the expression"
    else:
        if law.family not in registry.laws:
            registered = sorted(registry.laws)
            return [(at + ("family",), f"unknown law {law.family!r}"
                     f"{closest(str(law.family), registered)}; registered: {', '.join(registered)}")]
        family = registry.laws[law.family].obj
        what = f"law {law.family!r}"
        out = [(at + (key,), f"`{key}` belongs to `expression:` laws; {what} declares its own "
                f"parameters (`scalinglaws describe {law.family}`)")
               for key in ("parameters", "axes") if getattr(law, key)]
    names = family.param_names

    def unknown(key: tuple, name: str, role: str = "parameter") -> tuple:
        return (at + key, f"{what} has no {role} {name!r}{closest(name, names)}; its parameters "
                f"are {', '.join(names)}")

    for name in law.fixed:
        if name not in names:
            out.append(unknown(("fixed", name), name))
    for tied, source in law.tie.items():
        if tied not in names:
            out.append(unknown(("tie", tied), tied))
        elif source not in names:
            out.append(unknown(("tie", tied), source))
        elif tied in law.fixed:
            out.append((at + ("tie", tied), f"{tied} is both fixed and tied to {source}; fix "
                        f"{source} instead (a tie to a fixed parameter fixes both)"))
        elif tied == source or source in law.tie:
            out.append((at + ("tie", tied), f"cannot tie {tied} to {source}: tie every parameter "
                        "directly to one that stays free, e.g. {beta: alpha, gamma: alpha}"))
        else:
            a, b = (family.parameters[names.index(n)] for n in (tied, source))
            if (a.transform, a.lower, a.upper) != (b.transform, b.lower, b.upper):
                out.append((at + ("tie", tied), f"cannot tie {tied} (fitted as {a.fitted_as}) to "
                            f"{source} (fitted as {b.fitted_as}): tied parameters need the same "
                            "transform"))
    for i, name in enumerate(law.shared):
        if law.groups is None:
            out.append((at + ("shared",), "`shared` needs `groups: <column>`, the column that "
                        "splits the rows into groups"))
            break
        if name not in names:
            out.append(unknown(("shared", i), name))
        elif name in law.fixed:
            out.append((at + ("shared", i), f"{name} is fixed, hence already common to all groups; "
                        "remove it from `shared`"))
        elif name in law.tie:
            out.append((at + ("shared", i), f"{name} is tied to {law.tie[name]}; share "
                        f"{law.tie[name]} instead ({name} follows it)"))
    for name in law.inputs:
        if name not in family.inputs:
            out.append((at + ("inputs", name), f"{what} has no input {name!r}"
                        f"{closest(name, family.inputs)}; its inputs are {', '.join(family.inputs)}"))
    if law.groups is not None and law.groups in family.inputs:
        out.append((at + ("groups",), f"{law.groups!r} is an input of {what}; name the column "
                    "that holds the group of each row"))
    tied_away = {t for t in law.tie if t not in law.fixed}
    if len(set(law.fixed) | tied_away) >= len(family.parameters):
        out.append((at + ("fixed",), "every parameter is fixed; leave at least one free"))
    return out


@attrs.frozen(kw_only=True)
class FitTask:
    """Fit a law to a dataset. Without an estimator, the family's published recipe is used."""

    dataset: str = field(doc="Name of a dataset under `datasets`.")
    law: LawSpec = field(doc=(
        "Law family name, or `{family | expression, inputs, target, fixed, tie, groups, shared}`."))
    estimator: Optional[EstimatorSpec] = field(default=None, doc=(
        "How to fit; the family's published recipe when omitted (Chinchilla: Huber delta 1e-3 on "
        "log residuals, 4500-point grid)."))
    uncertainty: Optional[UncertaintySpec] = field(default=None, doc=(
        "Intervals for the parameters and derived quantities: `{method: bootstrap | sandwich | "
        "hessian | none, n: 1000, level: 0.95}`; none when omitted."))

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
        table = ctx.table(self.dataset)
        family, estimator, obs, result = fit_table(self, ctx, table)
        truth = _truth(table.meta, self.law, result.params)
        return FitTaskResult(name=name, dataset=self.dataset, law=self.law, fit=result,
                             inputs=obs.columns, target=obs.y,
                             truth=truth, notes=list(table.notes), labels=result.labels)


def fit_table(task, ctx, table):
    """Fit ``task.law`` (with ``task.estimator`` and ``task.uncertainty``) to ``table``: returns
    (family, estimator, observations, FitResult with its uncertainty). Shared by the tasks built
    on a fit (fit, predict, allocate)."""
    estimator, family, obs = fit_problem(ctx.registry, task.law, task.estimator, table)
    result = estimator.fit(family, obs, seed=ctx.seed)
    # The names behind the run-id codes, so that predictions can be asked for by name.
    result = attrs.evolve(result, labels=obs.labels)
    unc = fit_uncertainty(task.uncertainty, family, estimator, obs, result, seed=ctx.seed)
    if unc is not None:
        result = attrs.evolve(result, uncertainty=unc)
    return family, estimator, obs, result


def fit_problem(registry, law: LawSpec, estimator_spec, table):
    """(estimator, constrained family, Observations) for a law spec, its estimator spec and a
    table: the one way every task gets from a table to what it fits."""
    base = base_law(law, registry)
    estimator = estimator_for(estimator_spec, base, registry)
    family, obs = observe(base, law, table, space=residual_space(estimator))
    return estimator, family, obs


def _truth(meta, law: LawSpec, params) -> Optional[Dict[str, float]]:
    """The simulated truth to show beside the estimates: when the data were drawn from the law's
    own family, or from any law whose parameter names cover an expression's."""
    truth = meta.get("truth")
    if truth is None:
        return None
    same_family = law.family is not None and meta.get("law") == law.family
    if not same_family and not (law.expression is not None and set(params) <= set(truth)):
        return None
    return {k: v for k, v in truth.items() if k in params}


def parameter_rows(task: str, fit: Optional[FitResult],
                   truth: Optional[Dict[str, float]] = None) -> List[Dict[str, Any]]:
    """params.csv rows of a fit: one per parameter, with estimate, standard error and interval
    when computed, and truth and relative error when known. Every task that fits a law uses it."""
    if fit is None:
        return []
    out = []
    unc = fit.uncertainty
    for pname, value in fit.params.items():
        row: Dict[str, Any] = {"task": task, "law": fit.law.name, "parameter": pname,
                               "estimate": value}
        if unc is not None and pname in unc.params:
            iv = unc.params[pname]
            row.update(se=iv.se, lower=iv.lower, upper=iv.upper)
        if truth is not None and pname in truth:
            t = truth[pname]
            row["truth"] = t
            row["rel_error"] = abs(value - t) / abs(t) if t != 0 else abs(value)
        out.append(row)
    return out


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
    # Text run ids by input: code i of `inputs[name]` stands for labels[name][i].
    labels: Dict[str, tuple] = attrs.field(factory=dict)
    kind: ClassVar[str] = "fit"

    @property
    def uncertainty(self):
        return self.fit.uncertainty

    @classmethod
    def from_json(cls, data: Mapping[str, Any], registry=None) -> FitTaskResult:
        """Rebuild from results.json (for `scalinglaws report`): the fit with its law from
        ``registry`` (:func:`fit_from_json`), and the data."""
        law, fit, inputs, target, labels = fit_from_json(data, registry)
        return cls(name=data["name"], dataset=data["dataset"], law=law, fit=fit, inputs=inputs,
                   target=target, truth=data.get("truth"), notes=data.get("notes", []),
                   labels=labels)

    def rows(self) -> List[Dict[str, Any]]:
        return parameter_rows(self.name, self.fit, self.truth)

    def to_json(self) -> Dict[str, Any]:
        return jsonable({
            "name": self.name,
            "kind": self.kind,
            "dataset": self.dataset,
            "law_spec": attrs.asdict(self.law),
            "fit": self.fit.to_json(),
            "truth": self.truth,
            "notes": self.notes,
            "data": {"inputs": self.inputs, "target": self.target,
                     **({"labels": self.labels} if self.labels else {})},
        })


FitTask.result_type = FitTaskResult  # what `scalinglaws report` rebuilds results.json entries with


def law_spec_from_json(data: Mapping[str, Any]) -> LawSpec:
    """A LawSpec from its ``attrs.asdict`` form in results.json."""
    return LawSpec(family=data.get("family"), expression=data.get("expression"),
                   parameters={k: ExpressionParameter(**{**v, "init": tuple(v.get("init", ()))})
                               for k, v in (data.get("parameters") or {}).items()},
                   axes={k: tuple(v) for k, v in (data.get("axes") or {}).items()},
                   inputs=dict(data.get("inputs") or {}), target=data.get("target", "loss"),
                   fixed=dict(data.get("fixed") or {}), tie=dict(data.get("tie") or {}),
                   groups=data.get("groups"), shared=tuple(data.get("shared") or ()))


def fit_from_json(data: Mapping[str, Any], registry) -> Tuple[LawSpec, Optional[FitResult],
                                                             Dict[str, np.ndarray], np.ndarray,
                                                             Dict[str, tuple]]:
    """(law spec, fit, inputs, target, run-id labels) of a results.json entry of a task built on
    a fit (fit, predict, allocate). The fit's law is rebuilt from ``registry`` when it is a
    registered family without groups (a :class:`~scalinglaws.results.RecordedLaw` otherwise, or
    without a registry: text, no plots); its uncertainty keeps the draws results.json holds
    (the first 200)."""
    law = law_spec_from_json(data["law_spec"])
    block = data.get("data") or {}
    inputs = {k: np.asarray(v, dtype=float) for k, v in (block.get("inputs") or {}).items()}
    target = np.asarray(block.get("target") or [], dtype=float)
    labels = {k: tuple(v) for k, v in (block.get("labels") or {}).items()}
    fit_json = data.get("fit")
    if fit_json is None:
        return law, None, inputs, target, labels
    family = None
    if law.groups is None and law.expression is None and registry is not None:
        try:
            family = resolve_law(law, registry)
        except Exception:  # a family no plugin registers any more
            family = None
    if family is None or not set(family.param_names) <= set(fit_json["params"]):
        family = RecordedLaw.from_json(fit_json)
    fit = FitResult.from_json(fit_json, family)
    unc = Uncertainty.from_json(fit_json.get("uncertainty"))
    if unc is not None:  # results.json sorts keys: the law's order, then a, b, G
        derived_order = ["a", "b", "G"]
        unc = attrs.evolve(
            unc, params={k: unc.params[k] for k in fit.params if k in unc.params},
            derived={k: unc.derived[k] for k in sorted(unc.derived, key=lambda k: (
                derived_order.index(k) if k in derived_order else 9, k))})
    # labels: the fit takes run names again, as in the run
    fit = attrs.evolve(fit, uncertainty=unc, **({"labels": labels} if labels else {}))
    return law, fit, inputs, target, labels
