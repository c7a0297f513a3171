"""The spec as frozen attrs classes (schema version 1).

Keys that depend on a plugin (a data source's options, a task's options, an estimator's
options) are structured into the class that plugin registered; these classes hold the keys every
spec shares.
"""

from typing import Any, Optional

import attrs

from .fields import equal_to, field

SCHEMA_VERSION = 1


@attrs.frozen(kw_only=True)
class LawSpec:
    """A law family and how its inputs map to table columns. Written as a name or a mapping."""

    family: str = field(doc="Registered law family (`scalinglaws list laws`), e.g. `chinchilla`.")
    inputs: dict[str, str] = field(factory=dict, doc=(
        "Law input -> table column, e.g. `{x: C}` for `power_law` on compute. Inputs default to "
        "columns of the same name (N, D, C, ...)."))
    target: str = field(default="loss", doc="Column the law predicts.")
    fixed: dict[str, float] = field(factory=dict, doc=(
        "Parameters held at given values instead of fitted, e.g. `{alpha: 0.34}`."))

    @classmethod
    def from_shorthand(cls, value: Any) -> "LawSpec":
        if isinstance(value, str):
            return cls(family=value)
        from .structure import Invalid

        raise Invalid(f"expected a law name or a mapping with `family:`, got {value!r}")


@attrs.frozen(kw_only=True)
class EstimatorSpec:
    """How to fit: the registered estimator ``name`` and its options (flattened into the mapping)."""

    name: str = field(default="multistart", doc="Registered estimator (`scalinglaws list estimators`).")
    options: Any = field(default=None, flatten=True, doc="The estimator's own keys.")


@attrs.frozen(kw_only=True)
class DatasetSpec:
    """A table of runs from a registered data source; the source's keys sit beside ``source``."""

    name: str = field(doc="The dataset's name (its key under `datasets`).")
    source: str = field(doc=(
        "Registered data source (`scalinglaws list sources`): csv, inline, simulate, ..."))
    columns: dict[str, str] = field(factory=dict, doc=(
        "Rename columns: `{N: \"Model Size\"}` gives the column `Model Size` the name N."))
    options: Any = field(default=None, flatten=True, doc="The source's own keys.")


@attrs.frozen(kw_only=True)
class TaskSpec:
    """An analysis to run; the task's keys sit beside ``kind``."""

    name: str = field(doc=(
        "Name used in outputs (fit_<name>.png); defaults to the kind, numbered if repeated."))
    kind: str = field(doc="Registered task (`scalinglaws list tasks`), e.g. `fit`.")
    options: Any = field(default=None, flatten=True, doc="The task's own keys.")


@attrs.frozen(kw_only=True)
class OutputSpec:
    """Where and what to write."""

    dir: str = field(default="out", doc=(
        "Output folder, relative to the current directory; replaced atomically."))
    reporters: Optional[tuple[str, ...]] = field(default=None, doc=(
        "Reporters to run (`scalinglaws list reporters`); all registered ones when omitted."))


@attrs.frozen(kw_only=True)
class Spec:
    """A whole spec file."""

    version: int = field(default=SCHEMA_VERSION, validator=equal_to(SCHEMA_VERSION), doc=(
        "Schema version; this release reads version 1."))
    name: str = field(default="", doc="A title for reports.")
    description: str = field(default="", doc="Free text shown in the report.")
    seed: int = field(default=0, doc="Seed for everything random (simulation, bootstrap, random starts).")
    datasets: dict[str, DatasetSpec] = field(factory=dict, doc="Named tables of runs.")
    tasks: tuple[TaskSpec, ...] = field(factory=tuple, doc="Analyses, run in order.")
    output: OutputSpec = field(factory=OutputSpec, doc="Outputs.")
    file: Optional[str] = field(default=None, doc="(set by the loader) the spec's path.")
    base_dir: str = field(default=".", doc="(set by the loader) folder that relative paths start from.")
    digest: str = field(default="", doc="(set by the loader) sha256 of the spec's data.")
