"""Simulated runs drawn from a named law with known true parameters."""

from __future__ import annotations

import itertools
from typing import Any, Optional

import attrs
import numpy as np

from ..errors import DataError
from ..spec.fields import at_least, field, non_negative
from .table import Table


@attrs.frozen(kw_only=True)
class Design:
    """Values of one input: a list, or `{logspace: [lo, hi], num: k}` (geometric spacing)."""

    values: tuple[float, ...] = field(factory=tuple, doc="Explicit values.")
    logspace: Optional[tuple[float, float]] = field(default=None, doc="`[lo, hi]`, both > 0.")
    num: int = field(default=8, validator=at_least(1), doc="How many logspace values.")

    @classmethod
    def from_shorthand(cls, value: Any) -> Design:
        from ..spec.structure import Invalid, make_converter

        if isinstance(value, list):
            return cls(values=make_converter().structure(value, tuple[float, ...]))
        raise Invalid(f"expected a list of values or `{{logspace: [lo, hi], num: k}}`, got {value!r}")

    def points(self) -> np.ndarray:
        if self.logspace is not None:
            lo, hi = self.logspace
            return np.geomspace(lo, hi, self.num)
        return np.asarray(self.values, dtype=np.float64)


@attrs.frozen(kw_only=True)
class SimulateSource:
    """Runs on the Cartesian product of the input designs, with the law's prediction times
    exp(noise * eps), eps ~ N(0, 1): multiplicative noise, additive in log loss."""

    law: str = field(doc="Registered law family to draw from.")
    truth: dict[str, float] = field(doc="True parameter values by name (natural units).")
    design: dict[str, Design] = field(doc=(
        "Values of each law input, e.g. `{N: {logspace: [1e8, 1e10], num: 8}}`."))
    noise: float = field(default=0.0, validator=non_negative,
                         doc="Standard deviation of the log-normal noise.")
    seed: Optional[int] = field(default=None, doc="Seed of the noise; the spec's `seed` when omitted.")
    target: str = field(default="loss", doc="Name of the simulated target column.")
    groups: dict[str, dict[str, float]] = field(factory=dict, doc=(
        "Several groups of runs (model families, datasets, curves), each on the whole design: "
        "group label -> the true values that differ from `truth`, e.g. `{dense: {}, moe: {E: 1.6}}`. "
        "Fit them with `law: {family: ..., groups: <group_column>, shared: [...]}`."))
    group_column: str = field(default="group", doc="Name of the column holding each run's group.")

    def check(self, registry) -> list:
        if registry is None or self.law not in registry.laws:
            return []  # the unknown law itself is reported when loading
        family = registry.laws[self.law].obj
        out: list = []
        missing = [p for p in family.param_names if p not in self.truth]
        extra = [p for p in self.truth if p not in family.param_names]
        if missing:
            out.append((("truth",), f"missing true values for {', '.join(missing)} of law {self.law!r}"))
        if extra:
            out.append((("truth",), f"law {self.law!r} has no parameter {', '.join(extra)}; its "
                        f"parameters are {', '.join(family.param_names)}"))
        wrong = sorted(set(family.inputs) ^ set(self.design))
        if wrong:
            out.append((("design",), f"the design must give exactly the inputs of {self.law!r} "
                        f"({', '.join(family.inputs)}), got {', '.join(self.design) or 'none'}"))
        for name, d in self.design.items():
            if d.logspace is not None and not (0 < d.logspace[0] <= d.logspace[1]):
                out.append((("design", name, "logspace"), f"expected 0 < lo <= hi, got {list(d.logspace)}"))
        for label, overrides in self.groups.items():
            for p in overrides:
                if p not in family.param_names:
                    out.append((("groups", label, p), f"law {self.law!r} has no parameter {p!r}; its "
                                f"parameters are {', '.join(family.param_names)}"))
        return out

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

    def load(self, ctx) -> Table:
        family = ctx.registry.law(self.law)
        grids = [self.design[name].points() for name in family.inputs]
        if any(len(g) == 0 for g in grids):
            raise DataError("a design gives no values", source=f"simulate({self.law})")
        x = np.array(list(itertools.product(*grids)), dtype=np.float64)
        inputs = {name: x[:, i] for i, name in enumerate(family.inputs)}
        truths = self._group_truths()
        clean = np.concatenate([family.predict(t, inputs) for t in truths.values()])
        seed = ctx.seed if self.seed is None else self.seed
        rng = np.random.default_rng(seed)
        y = clean * np.exp(self.noise * rng.standard_normal(len(clean)))
        columns = {name: np.tile(v, len(truths)) for name, v in inputs.items()}
        if self.groups:
            columns[self.group_column] = np.repeat(np.array(list(truths), dtype=object), len(x))
        meta = {"truth": self._reported_truth(), "law": self.law, "noise": self.noise, "seed": seed}
        return Table({**columns, self.target: y}, source=f"simulate({self.law})", meta=meta)
