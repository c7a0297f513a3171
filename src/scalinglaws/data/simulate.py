"""Simulated runs drawn from a named law with known true parameters."""

from __future__ import annotations

import itertools
from typing import Any, Iterator, Optional

import attrs
import numpy as np

from ..errors import DataError, ExpressionError
from ..fields import Invalid, at_least, field, non_negative, numbers, one_of
from ..formula import parse_formula
from .schedules import Schedule, expand
from .table import Table, first_appearance_codes
from .transforms import evaluate_formula

LAYOUTS = ("grid", "zip")
SCHEDULE_COLUMNS = ("run", "step", "lr")  # the columns `schedules:` writes, one row per logged step


@attrs.frozen(kw_only=True)
class Design:
    """Values of one input: a list, or `{logspace: [lo, hi], num: k}` (geometric spacing)."""

    values: tuple[float, ...] = field(factory=tuple, doc="Explicit values.")
    logspace: Optional[tuple[float, float]] = field(default=None, doc="`[lo, hi]`, both > 0.")
    num: int = field(default=8, validator=at_least(1), doc="How many logspace values.")

    @classmethod
    def from_shorthand(cls, value: Any) -> Design:
        if isinstance(value, list):
            return cls(values=numbers(value))
        raise Invalid(f"expected a list of values or `{{logspace: [lo, hi], num: k}}`, got {value!r}")

    def count(self) -> int:
        return self.num if self.logspace is not None else len(self.values)

    def points(self) -> np.ndarray:
        if self.logspace is not None:
            lo, hi = self.logspace
            return np.geomspace(lo, hi, self.num)
        return np.asarray(self.values, dtype=np.float64)


@attrs.frozen(kw_only=True)
class SimulateSource:
    """Runs drawn from a law with known truth: the law's prediction times exp(noise * eps),
    eps ~ N(0, 1) (multiplicative noise, additive in log loss). The rows are the design points
    (every combination of the input values, or the values paired row by row) or the logged steps
    of learning-rate schedules; `compute` adds inputs that follow from the others."""

    law: str = field(doc="Registered law family to draw from.")
    truth: dict[str, float] = field(doc="True parameter values by name (natural units).")
    design: dict[str, Design] = field(factory=dict, doc=(
        "Values of each law input, e.g. `{N: {logspace: [1e8, 1e10], num: 8}}`; may also give "
        "columns that only `compute` uses (e.g. C to compute D from)."))
    layout: str = field(default="grid", validator=one_of(*LAYOUTS), doc=(
        "How the design's values make rows: `grid` (every combination) or `zip` (the i-th values "
        "of every input form row i; all lists equally long)."))
    compute: dict[str, str] = field(factory=dict, doc=(
        "Columns computed per row from the design (or schedule) columns before the law is "
        "evaluated, in order, as formulas (the law grammar): `{D: \"C / (6 * N)\"}` simulates "
        "runs at fixed compute C."))
    schedules: dict[str, Schedule] = field(factory=dict, doc=(
        "Learning-rate schedules, one run each, expanded into one row per logged step with the "
        "columns run (the schedule's name), step and lr: `{cosine: {kind: cosine, peak: 2.0e-4, "
        "steps: 20000, every: 500, final: 0.1}}`. For laws of whole training curves "
        "(lr_annealing); replaces `design`."))
    noise: float = field(default=0.0, validator=non_negative,
                         doc="Standard deviation of the log-normal noise.")
    seed: Optional[int] = field(default=None, doc="Seed of the noise; the spec's `seed` when omitted.")
    target: str = field(default="loss", doc="Name of the simulated target column.")
    groups: dict[str, dict[str, float]] = field(factory=dict, doc=(
        "Several groups of runs (model families, datasets, curves), each on the whole design: "
        "group label -> the true values that differ from `truth`, e.g. `{dense: {}, moe: {E: 1.6}}`. "
        "Fit them with `law: {family: ..., groups: <group_column>, shared: [...]}`."))
    group_column: str = field(default="group", doc="Name of the column holding each run's group.")

    # checks ---------------------------------------------------------------------------------
    def check(self, registry) -> list:
        if registry is None or self.law not in registry.laws:
            return []  # the unknown law itself is reported when loading
        family = registry.laws[self.law].obj
        return [*self._truth_problems(family), *self._design_problems(),
                *self._schedule_problems(), *self._compute_problems(),
                *self._input_problems(family)]

    def _truth_problems(self, family) -> Iterator[tuple]:
        names = family.param_names
        missing = [p for p in names if p not in self.truth]
        extra = [p for p in self.truth if p not in names]
        if missing:
            yield ("truth",), f"missing true values for {', '.join(missing)} of law {self.law!r}"
        if extra:
            yield (("truth",), f"law {self.law!r} has no parameter {', '.join(extra)}; its "
                   f"parameters are {', '.join(names)}")
        for label, overrides in self.groups.items():
            for p in overrides:
                if p not in names:
                    yield (("groups", label, p), f"law {self.law!r} has no parameter {p!r}; its "
                           f"parameters are {', '.join(names)}")

    def _design_problems(self) -> Iterator[tuple]:
        for name, d in self.design.items():
            if d.logspace is not None and not (0 < d.logspace[0] <= d.logspace[1]):
                yield ("design", name, "logspace"), f"expected 0 < lo <= hi, got {list(d.logspace)}"
            elif d.count() == 0:
                yield ("design", name), "gives no values; list at least one"
        counts = {name: d.count() for name, d in self.design.items()}
        if self.layout == "zip" and len(set(counts.values())) > 1:
            sizes = ", ".join(f"{n}: {c}" for n, c in counts.items())
            yield (("layout",), f"`zip` pairs the i-th values of every input, so every input of "
                   f"`design` needs as many values; got {sizes}. Make the lists equally long, or "
                   "use `layout: grid` for every combination")
        if self.schedules and self.design:
            yield (("schedules",), "a simulation takes its rows from `design` or from "
                   "`schedules`, not both; move the design's inputs into `compute` (constants "
                   "such as `{N: \"1e9\"}`) or drop `design`")

    def _schedule_problems(self) -> Iterator[tuple]:
        for label, schedule in self.schedules.items():
            for key, message in schedule.problems():
                yield ("schedules", label, key), message

    def _compute_problems(self) -> Iterator[tuple]:
        known = set(self._base_names())
        for name, text in self.compute.items():
            if name in self.design or (self.schedules and name in SCHEDULE_COLUMNS):
                yield (("compute", name), f"{name!r} is already a column of the "
                       f"{'design' if name in self.design else 'schedules'}; give it one source")
            try:
                formula = parse_formula(text)
            except ExpressionError as exc:
                yield ("compute", name), exc
                continue
            unknown = [n for n in formula.names if n not in known]
            if unknown:
                yield (("compute", name), f"{name} = {text} uses {', '.join(unknown)}, which is "
                       f"not a column here; the columns so far are "
                       f"{', '.join(sorted(known)) or 'none'} (add it to `design`)")
            known.add(name)

    def _input_problems(self, family) -> Iterator[tuple]:
        given = set(self._base_names()) | set(self.compute)
        missing = [n for n in family.inputs if n not in given]
        if not self.design and not self.schedules:
            yield (("design",), f"nothing to simulate: give values of the inputs of {self.law!r} "
                   f"({', '.join(family.inputs)}) under `design` (or `schedules`)")
        elif missing:
            yield (("design",), f"the inputs {', '.join(missing)} of {self.law!r} have no values; "
                   f"give them under `design` (or `compute`); the law's inputs are "
                   f"{', '.join(family.inputs)}")
        used = {n for text in self.compute.values() for n in _formula_names(text)}
        unused = [n for n in self.design if n not in family.inputs and n not in used]
        if unused:
            yield (("design",), f"{', '.join(unused)} is not an input of {self.law!r} "
                   f"({', '.join(family.inputs)}) and no `compute` formula uses it; remove it "
                   "or rename it")

    def _base_names(self) -> tuple:
        """The columns the rows start from, before `compute`."""
        return SCHEDULE_COLUMNS if self.schedules else tuple(self.design)

    # truth ----------------------------------------------------------------------------------
    def _group_truths(self) -> dict:
        """label -> true values; one unnamed group when `groups` is empty."""
        if not self.groups:
            return {None: dict(self.truth)}
        return {label: {**self.truth, **overrides} for label, overrides in self.groups.items()}

    def _reported_truth(self) -> dict:
        """The truth under the names a fit reports: `E[label]` for every group, and the plain name
        where all groups agree (what a fit sharing that parameter reports)."""
        if not self.groups:
            return dict(self.truth)
        truths = self._group_truths()
        out = {}
        for name in self.truth:
            values = {label: t[name] for label, t in truths.items()}
            if len(set(values.values())) == 1:
                out[name] = self.truth[name]
            out.update({f"{name}[{label}]": v for label, v in values.items()})
        return out

    # rows -----------------------------------------------------------------------------------
    def _base_columns(self) -> dict:
        """The rows before `compute`: schedule steps, or design points (grid or zip)."""
        if self.schedules:
            return dict(zip(SCHEDULE_COLUMNS, expand(self.schedules)))
        grids = [d.points() for d in self.design.values()]
        if self.layout == "zip":
            x = np.column_stack(grids)
        else:
            x = np.array(list(itertools.product(*grids)), dtype=np.float64)
        return {name: x[:, i] for i, name in enumerate(self.design)}

    def _computed(self, columns: dict) -> dict:
        n = len(next(iter(columns.values())))
        for name, text in self.compute.items():
            columns[name] = evaluate_formula(text, columns, n)
        return columns

    def load(self, ctx) -> Table:
        label = f"simulate({self.law})"
        family = ctx.registry.law(self.law)
        problems = self.check(ctx.registry)
        if problems:  # a spec was checked when loaded; this guards sources built in Python
            at, message = problems[0]
            raise DataError(f"`{'.'.join(map(str, at))}`: {message}", source=label)
        columns = self._computed(self._base_columns())
        # The law needs numbers: a text run id (a schedule's name) enters as its code, the table
        # keeps the text.
        inputs = {name: _as_numbers(columns[name]) for name in family.inputs}
        truths = self._group_truths()
        clean = np.concatenate([family.predict(t, inputs) for t in truths.values()])
        seed = ctx.seed if self.seed is None else self.seed
        rng = np.random.default_rng(seed)
        y = clean * np.exp(self.noise * rng.standard_normal(len(clean)))
        n = len(clean) // len(truths)
        out = {name: np.tile(v, len(truths)) for name, v in columns.items()}
        if self.groups:
            out[self.group_column] = np.repeat(np.array(list(truths), dtype=object), n)
        meta = {"truth": self._reported_truth(), "law": self.law, "noise": self.noise, "seed": seed}
        return Table({**out, self.target: y}, source=label, meta=meta)


def _formula_names(text: str) -> tuple:
    """The column names a formula uses; none when it does not parse (reported elsewhere)."""
    try:
        return tuple(parse_formula(text).names)
    except ExpressionError:
        return ()


def _as_numbers(values: np.ndarray) -> np.ndarray:
    if values.dtype == object:
        return first_appearance_codes(values)[1]
    return np.asarray(values, dtype=np.float64)
