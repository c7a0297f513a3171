"""The Python API: the same objects and steps the CLI uses."""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence, Union

import attrs

from .core import enable_float64
from .data.table import Table
from .estimators.multistart import MultiStart
from .estimators.protocol import estimator_for, residual_space
from .laws.base import LawFamily
from .observations import observe
from .plugins import get_registry
from .results import FitResult
from .runner import run
from .spec.model import LawSpec
from .spec.structure import load_spec as _load_spec


def get_law(name: str) -> LawFamily:
    """The registered law family called ``name`` (built-in or from a plugin)."""
    return get_registry().law(name)


def load_spec(source, registry=None):
    """Load and check a spec (a path, or YAML text) against ``registry``: by default the
    process-wide registry of built-ins and installed plugins."""
    return _load_spec(source, registry if registry is not None else get_registry())


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
    enable_float64()  # before the law's constants and the observations are made
    family = get_law(law) if isinstance(law, str) else law
    if not isinstance(table, Table):
        table = Table.from_columns(dict(table))
    spec = LawSpec(family=family.name, inputs=dict(inputs or {}), target=target,
                   fixed=dict(fixed or {}), tie=dict(tie or {}), groups=groups, shared=tuple(shared))
    if isinstance(estimator, Mapping):
        estimator = MultiStart(**{**family.default_estimator, **estimator})
    est = estimator if estimator is not None else estimator_for(None, family, get_registry())
    family, obs = observe(family, spec, table, space=residual_space(est))
    if weights is not None:
        obs = obs.weighted(weights)
    result = est.fit(family, obs, seed=seed)
    # Kept so that `result.predict` takes the run names the table used.
    return attrs.evolve(result, labels=obs.labels)


__all__ = ["fit", "get_law", "load_spec", "run", "Table", "FitResult", "MultiStart", "LawFamily"]
