"""From a table of runs to what an estimator fits: the one way a table becomes arrays for a law.

:func:`observe` takes a law family, the spec's law mapping (input columns, target, fixed, tied and
grouped parameters) and a :class:`~scalinglaws.data.table.Table`, applies the spec's constraints
to the family (:func:`constrain`) and returns it with an :class:`Observations` value: inputs in
the family's order, the target validated for the residual space (logs need positive values),
point weights, group labels and the names behind text run ids. The fit task, predict, allocate,
compare, evaluate, sensitivity and ``scalinglaws.fit`` all call it; no other code turns a table
into arrays for a law.
"""

from __future__ import annotations

from typing import Dict, Optional, Sequence, Tuple

import attrs
import numpy as np

from .data.table import first_appearance_codes
from .errors import DataError
from .laws.expression import expression_law
from .laws.groups import group_label
from .spec.model import LawSpec

SPACES = ("log", "linear")


@attrs.frozen(kw_only=True, eq=False)
class Observations:
    """The data one law is fitted to.

    ``x`` (n, k) holds the inputs in ``inputs`` order (a grouped law's group input is each row's
    index into ``groups``; a run-id input holds codes, whose names are ``labels[input]``), ``y``
    (n,) the target as observed, ``weights`` (n,) the point weights (0 leaves a row out while
    keeping every subset of a dataset the same shape, so the core compiles once), ``space`` the
    residual space the target was validated for: ``log`` (r = log y - log f, y > 0) or ``linear``
    (r = y - f). ``table`` is the source table (row labels for errors, scale columns).
    """

    x: np.ndarray
    y: np.ndarray
    inputs: Tuple[str, ...]
    weights: Optional[np.ndarray] = None
    space: str = "log"
    groups: Optional[Tuple[str, ...]] = None
    labels: Dict[str, tuple] = attrs.field(factory=dict)
    table: object = None

    @classmethod
    def from_arrays(cls, family, x, y, *, weights=None, space: str = "log") -> Observations:
        """Observations of ``family`` from arrays (x: (n, k) in ``family.inputs`` order)."""
        y = np.asarray(y, dtype=np.float64)
        if space == "log" and not np.all(y > 0):
            raise DataError("log residuals need a positive target; use `space: linear`")
        return cls(x=np.asarray(x, dtype=np.float64).reshape(len(y), -1), y=y,
                   inputs=tuple(family.inputs),
                   weights=None if weights is None else np.asarray(weights, dtype=np.float64),
                   space=space)

    def __len__(self) -> int:
        return len(self.y)

    @property
    def columns(self) -> Dict[str, np.ndarray]:
        """Input name -> (n,) column."""
        return {n: self.x[:, i] for i, n in enumerate(self.inputs)}

    @property
    def live(self) -> np.ndarray:
        """Which rows count (weight > 0)."""
        return np.ones(len(self.y), bool) if self.weights is None else self.weights > 0

    def weighted(self, weights) -> Observations:
        """The same rows with ``weights`` (a mask or resample counts) in place of the current
        ones; rows left out keep their place, so the fit compiles once for every subset."""
        return attrs.evolve(self, weights=np.asarray(weights, dtype=np.float64))


def base_law(law: LawSpec, registry):
    """The law before constraints: the registered family, or the compiled expression."""
    if law.expression is not None:
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


def observe(family, law: LawSpec, table, *, space: str = "log") -> Tuple[object, Observations]:
    """(the family with the spec's constraints applied, its Observations from ``table``).

    ``family`` is the law before constraints (:func:`base_law`); ``space`` is the estimator's
    residual space (``log`` validates the target positive). Inputs are validated positive when
    the family takes their logs, with errors naming the table row and column.
    """
    groups = None
    if law.groups is not None:
        groups = tuple(np.unique(table[law.groups]).tolist())
    family = constrain(family, law, groups)
    grouping = family.grouping
    columns, labels = [], {}
    for name in family.inputs:
        if grouping is not None and name == grouping.input:
            columns.append(_group_index(table, law.groups or grouping.input, grouping.labels))
            continue
        column = law.inputs.get(name, name)
        if name in family.id_inputs:
            names, codes = _id_codes(table, column)
            if names is not None:
                labels[name] = names
            columns.append(codes)
            continue
        columns.append(table.numeric(column, positive=family.positive_inputs,
                                     why=f" (input {name} of {family.name})"))
    y = table.numeric(law.target, positive=space == "log", why=" (log residuals take its log)")
    x = np.column_stack(columns) if columns else np.zeros((len(y), 0))
    return family, Observations(x=x, y=y, inputs=tuple(family.inputs), space=space,
                                groups=groups, labels=labels, table=table)


def _group_index(table, column: str, labels: Sequence[str]) -> np.ndarray:
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


def _id_codes(table, column: str) -> Tuple[Optional[tuple], np.ndarray]:
    """A run-id column as numbers: text ids (``"cosine-1e-3"``) coded 0, 1, ... in order of first
    appearance, with their labels; numeric ids as they are (labels None), checked finite."""
    values = table[column]
    if values.dtype != object:
        return None, table.numeric(column)
    return first_appearance_codes(values)


__all__ = ["Observations", "observe", "base_law", "constrain", "resolve_law", "SPACES"]
