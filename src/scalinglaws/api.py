"""The Python API: the same objects and steps the CLI uses."""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence, Union

import attrs
import numpy as np

from .data.table import Table
from .estimators.multistart import MultiStart
from .laws.base import LawFamily
from .plugins import get_registry
from .results import FitResult
from .runner import run
from .spec.model import LawSpec
from .spec.structure import load_spec
from .tasks.fit import constrain, group_column, id_labels, make_estimator, observations


def get_law(name: str) -> LawFamily:
    """The registered law family called ``name`` (built-in or from a plugin)."""
    return get_registry().law(name)


def fit(law: Union[str, LawFamily], table: Union[Table, Mapping[str, Any]],
        estimator: Union[None, MultiStart, Mapping[str, Any]] = None, *,
        inputs: Optional[Mapping[str, str]] = None, target: str = "loss",
        fixed: Optional[Mapping[str, float]] = None, tie: Optional[Mapping[str, str]] = None,
        groups: Optional[str] = None, shared: Sequence[str] = (), weights=None,
        seed: int = 0) -> FitResult:
    """Fit ``law`` to the runs in ``table``.

    Columns named like the law's inputs (N, D, C, ...) and ``loss`` are used without mapping;
    ``inputs`` maps other names (``{"x": "C"}``). Without ``estimator``, the family's published
    recipe is used (for ``chinchilla``: Huber delta 1e-3 on log residuals summed over points,
    4500-point grid). ``estimator`` may be a :class:`MultiStart` or a mapping of its options.
    ``fixed`` holds parameters at values, ``tie`` fits parameters as one (``{"beta": "alpha"}``),
    and ``groups`` names a column whose values split the rows into groups fitted together, with
    the parameters in ``shared`` common to all groups and the others reported per group
    (``E[label]``), as in a spec's ``law:``.

    >>> import scalinglaws as sl
    >>> runs = sl.Table.from_columns(x=[1e8, 1e9, 1e10, 1e11], loss=[3.2, 2.7, 2.4, 2.25])
    >>> sl.fit("power_law", runs).params["alpha"] > 0
    True
    """
    family = get_law(law) if isinstance(law, str) else law
    if not isinstance(table, Table):
        table = Table.from_columns(dict(table))
    spec = LawSpec(family=family.name, inputs=dict(inputs or {}), target=target,
                   fixed=dict(fixed or {}), tie=dict(tie or {}), groups=groups, shared=tuple(shared))
    labels = group_column(table, groups)[0] if groups is not None else None
    family = constrain(family, spec, labels)
    if isinstance(estimator, Mapping):
        estimator = MultiStart(**{**family.default_estimator, **estimator})
    est = estimator if estimator is not None else make_estimator(None, family, get_registry())
    x, y = observations(family, spec, table, log_target=getattr(est, "space", "log") == "log")
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    result = est.fit(family, x, y, weights=w, seed=seed)
    # Kept so that `result.predict` takes the run names the table used.
    return attrs.evolve(result, labels=id_labels(family, spec, table))


__all__ = ["fit", "get_law", "load_spec", "run", "Table", "FitResult", "MultiStart", "LawFamily"]
