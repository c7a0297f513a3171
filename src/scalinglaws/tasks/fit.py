"""The `fit` task: fit one law to one dataset and report the parameters."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

import attrs
import numpy as np

from ..data.table import first_appearance_codes
from ..errors import DataError, closest
from ..laws.groups import group_label
from ..results import FitResult, jsonable
from ..spec.fields import field
from ..spec.model import EstimatorSpec, LawSpec
from ..uncertainty import UncertaintySpec, fit_uncertainty


def base_law(law: LawSpec, registry):
    """The law before constraints: the registered family, or the compiled expression."""
    if law.expression is not None:
        from ..laws.expression import expression_law

        return expression_law(law.expression, law.parameters, axes=law.axes)
    return registry.law(law.family)


def constrain(family, law: LawSpec, group_labels: Optional[Sequence] = None):
    """``family`` with the spec's ties, fixed values and groups applied, in that order: a tie to a
    fixed parameter fixes both, and only parameters still free are split by group."""
    ties = {t: s for t, s in law.tie.items() if s not in law.fixed}
    fixed = {**law.fixed, **{t: law.fixed[s] for t, s in law.tie.items() if s in law.fixed}}
    family = family.with_tied(ties).with_fixed(fixed)
    if law.groups is not None and group_labels is not None:
        family = family.with_groups(group_labels, law.shared, input_name=law.groups)
    return family


def resolve_law(law: LawSpec, registry, group_labels: Optional[Sequence] = None):
    """The family the spec describes, ready to fit. Without ``group_labels`` (known only once the
    data is loaded) a law with ``groups:`` is returned unsplit."""
    return constrain(base_law(law, registry), law, group_labels)


def law_problems(law: LawSpec, registry, at: tuple) -> list:
    """Every problem of a law spec as (path, message); a message about a formula's text is an
    :class:`~scalinglaws.errors.ExpressionError`, which locates the token inside the string."""
    if law.expression is not None:
        from ..laws.expression import expression_law, expression_problems

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


def group_column(table, column: str) -> Tuple[tuple, np.ndarray]:
    """The distinct values of ``column`` (sorted) and each row's index into them."""
    values = table[column]
    labels, index = np.unique(values, return_inverse=True)
    return tuple(labels.tolist()), index.astype(np.float64)


def group_index(table, column: str, labels: Sequence[str]) -> np.ndarray:
    """Each row's index into ``labels`` (as :func:`~scalinglaws.laws.groups.group_label` writes
    them), or a DataError naming the first row whose group the law was not split by."""
    position = {label: i for i, label in enumerate(labels)}
    out = np.empty(len(table))
    for i, value in enumerate(table[column]):
        label = group_label(value)
        if label not in position:
            raise DataError(f"group {label!r} is not one of the law's groups ({', '.join(labels)})",
                            source=table.source, row=table.row_label(i), column=column)
        out[i] = position[label]
    return out


def observations(family, law: LawSpec, table, *, log_target: bool):
    """Inputs (n, k) in the family's order and the target, validated for the logs to be taken.
    A grouped family's group input is each row's index into the family's group labels."""
    grouping = family.grouping
    columns = []
    for name in family.inputs:
        if grouping is not None and name == grouping.input:
            columns.append(group_index(table, law.groups or grouping.input, grouping.labels))
            continue
        column = law.inputs.get(name, name)
        if name in family.id_inputs:
            columns.append(id_codes(table, column)[1])
            continue
        columns.append(table.numeric(column, positive=family.positive_inputs,
                                     why=f" (input {name} of {family.name})"))
    x = np.column_stack(columns)
    y = table.numeric(law.target, positive=log_target, why=" (log residuals take its log)")
    return x, y


def id_codes(table, column: str) -> Tuple[Optional[tuple], np.ndarray]:
    """A run-id column as numbers: text ids (``"cosine-1e-3"``) coded 0, 1, ... in order of first
    appearance, with their labels; numeric ids as they are (labels None), checked finite."""
    values = table[column]
    if values.dtype != object:
        return None, table.numeric(column)
    return first_appearance_codes(values)


def id_labels(family, law: LawSpec, table) -> Dict[str, tuple]:
    """input name -> labels of the codes :func:`observations` gave its text ids (code i is
    ``labels[i]``), for reports; inputs holding numeric ids are left out."""
    out = {}
    for name in family.id_inputs:
        labels = id_codes(table, law.inputs.get(name, name))[0]
        if labels is not None:
            out[name] = labels
    return out


def make_estimator(spec: Optional[EstimatorSpec], family, registry):
    if spec is None:
        cls = registry.estimators["multistart"].obj
        return cls(**family.default_estimator)
    return spec.options


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
        family, estimator, x, y, result = fit_table(self, ctx, table)
        truth = _truth(table.meta, self.law, result.params)
        return FitTaskResult(name=name, dataset=self.dataset, law=self.law, fit=result,
                             inputs={n: x[:, i] for i, n in enumerate(family.inputs)}, target=y,
                             truth=truth, notes=list(table.notes), labels=result.labels)


def fit_table(task, ctx, table):
    """Fit ``task.law`` (with ``task.estimator`` and ``task.uncertainty``) to ``table``: returns
    (family, estimator, x, y, FitResult with its uncertainty). Shared by the tasks built on a fit
    (fit, predict, allocate)."""
    law = task.law
    labels = group_column(table, law.groups)[0] if law.groups is not None else None
    family = resolve_law(law, ctx.registry, labels)
    estimator = make_estimator(task.estimator, family, ctx.registry)
    x, y = observations(family, law, table, log_target=getattr(estimator, "space", "log") == "log")
    result = estimator.fit(family, x, y, seed=ctx.seed)
    # The names behind the run-id codes, so that predictions can be asked for by name.
    result = attrs.evolve(result, labels=id_labels(family, law, table))
    unc = fit_uncertainty(task.uncertainty, family, estimator, x, y, result, seed=ctx.seed)
    if unc is not None:
        result = attrs.evolve(result, uncertainty=unc)
    return family, estimator, x, y, result


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
    kind: str = "fit"

    @property
    def uncertainty(self):
        return self.fit.uncertainty

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
