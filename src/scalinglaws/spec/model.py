"""The spec as frozen attrs classes (schema version 1).

Keys that depend on a plugin (a data source's options, a task's options, an estimator's
options) are structured into the class that plugin registered; these classes hold the keys every
spec shares.
"""

from typing import Any, Optional

import attrs

from ..fields import Invalid, equal_to, field, one_of
from ..laws.base import TRANSFORMS

SCHEMA_VERSION = 1


@attrs.frozen(kw_only=True)
class ExpressionParameter:
    """A fitted name of an expression law. Written as a mapping, a transform name (`E: log`), a
    single starting value (`alpha: 0.3`) or nothing (`alpha:`, all defaults)."""

    transform: str = field(default="identity", validator=one_of(*TRANSFORMS), doc=(
        "Fitting space: `identity`; `log` for positive scales (fits log E); `logit` for (0, 1); "
        "`bounded` for (`lower`, `upper`)."))
    init: tuple[float, ...] = field(factory=tuple, doc=(
        "Starting values in natural units (E itself, not log E); the grid of starts is the "
        "product over parameters. Default by transform: identity 0, 0.5, 1; log 0.1 to 1e4 by "
        "decades; logit 0.1, 0.5, 0.9; bounded 10%, 50%, 90% of the interval."))
    lower: Optional[float] = field(default=None, doc="Lower end for `transform: bounded`.")
    upper: Optional[float] = field(default=None, doc="Upper end for `transform: bounded`.")
    description: str = field(default="", doc="What the parameter means (shown in reports).")

    @classmethod
    def from_shorthand(cls, value: Any) -> "ExpressionParameter":
        if value is None:
            return cls()
        if isinstance(value, str):
            if value not in TRANSFORMS:
                raise Invalid(f"expected a transform ({', '.join(TRANSFORMS)}), a starting value "
                              f"or a mapping, got {value!r}")
            return cls(transform=value)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return cls(init=(float(value),))
        raise Invalid(f"expected a mapping with transform/init/lower/upper, a transform name or "
                      f"a starting value, got {value!r}")


@attrs.frozen(kw_only=True)
class LawSpec:
    """The law to fit: a registered family or a formula, how its inputs map to table columns, and
    constraints on its parameters (fixed, tied, shared across groups). Written as a family name
    or a mapping with exactly one of `family:` and `expression:`."""

    family: Optional[str] = field(default=None, doc=(
        "Registered law family (`scalinglaws list laws`), e.g. `chinchilla`."))
    expression: Optional[str] = field(default=None, doc=(
        "A formula instead of a family, e.g. `\"E + A / N**alpha + B / D**beta\"`: numbers, names, "
        "+ - * / **, log, exp, sqrt, log1p, softplus, sigmoid, min, max, logsumexp and "
        "`sum(j, ...)` over an axis declared in `axes`. Names under `parameters` are fitted; the "
        "others are inputs (see docs/laws.md)."))
    parameters: dict[str, ExpressionParameter] = field(factory=dict, doc=(
        "The fitted names of an `expression`, in the order results list them: "
        "`{E: log, A: {transform: log, init: [100, 1000]}, alpha: }`."))
    axes: dict[str, tuple[str, ...]] = field(factory=dict, doc=(
        "Axes that `sum(j, ...)` in an `expression` runs over: `{j: [web, code]}` makes "
        "`sum(j, t_j * r_j)` mean `t_web * r_web + t_code * r_code`."))
    inputs: dict[str, str] = field(factory=dict, doc=(
        "Law input -> table column, e.g. `{x: C}` for `power_law` on compute. Inputs default to "
        "columns of the same name (N, D, C, ...)."))
    target: str = field(default="loss", doc="Column the law predicts.")
    fixed: dict[str, float] = field(factory=dict, doc=(
        "Parameters held at given values instead of fitted, e.g. `{alpha: 0.34}`."))
    tie: dict[str, str] = field(factory=dict, doc=(
        "Parameters fitted as one: `{beta: alpha}` fits a single value reported under both names. "
        "Tied parameters need the same transform."))
    groups: Optional[str] = field(default=None, doc=(
        "Column whose values split the rows into groups (model families, datasets, curves) "
        "fitted together: parameters in `shared` are common, every other parameter E gets one "
        "value per group, reported as `E[group]`."))
    shared: tuple[str, ...] = field(factory=tuple, doc=(
        "With `groups`: the parameters common to all groups, e.g. `[alpha, beta]`."))

    def __attrs_post_init__(self):
        if (self.family is None) == (self.expression is None):
            if self.family is None:
                raise Invalid("give the law as `family: <name>` or as `expression: <formula>`")
            raise Invalid("give either `family:` or `expression:`, not both", ("expression",))

    @classmethod
    def from_shorthand(cls, value: Any) -> "LawSpec":
        if isinstance(value, str):
            return cls(family=value)
        raise Invalid(f"expected a law name or a mapping with `family:` or `expression:`, got "
                      f"{value!r}")


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
    extract: dict[str, str] = field(factory=dict, doc=(
        "New columns from the named groups of a regular expression (Python `re` syntax, searched "
        "in each value of a text column), applied after `columns` and before `derive`: "
        "`{checkpoint: \"(?P<size>\\\\d+)M_base2_\\\\d+-(?P<r_github>[0-9.]+)-"
        "(?P<r_pile_cc>[0-9.]+)/(?P<step>\\\\d+)$\"}` makes the columns size, r_github, "
        "r_pile_cc and step from paths like `.../70M_base2_1-0.25-0.75/27000`. A new column is "
        "numeric when every value parses as a number, else text; a value the pattern does not "
        "match is an error naming the row. In double-quoted YAML write `\\\\d` for `\\d`."))
    derive: dict[str, str] = field(factory=dict, doc=(
        "New or replaced columns from formulas of other columns, in order: "
        "`{D: \"C / (6 * N)\", N: \"N_billions * 1e9\"}` (the law formula grammar)."))
    where: tuple[str, ...] = field(factory=tuple, doc=(
        "Keep the rows meeting every condition: `\"loss < 10 and N >= 1e8\"` (comparisons of "
        "formulas joined by `and`; a text column against a quoted value with == or !=, "
        "`domain == 'Github'`); a list means all of them."))
    exclude_largest: dict[str, int] = field(factory=dict, doc=(
        "Drop the k rows with the largest values of a column: `{loss: 5}` (Besiroglu et al. "
        "2024 drop the 5 highest losses)."))
    exclude_smallest: dict[str, int] = field(factory=dict, doc=(
        "Drop the k rows with the smallest values of a column."))
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
