"""Hypothesis strategies for property tests of law families: true parameters, designs of runs, and
simulated runs with known truth. Public, so that plugin authors test their own families the way
the built-ins are tested (the pattern of ``xarray.testing.strategies`` and of symfit's recovery
tests).

The central property is recovery: draw true parameters within the family's realistic ranges,
simulate runs on a design, fit, and compare::

    import pytest
    from hypothesis import given
    import scalinglaws as sl
    from scalinglaws.testing.strategies import simulated_runs

    chinchilla = sl.get_law("chinchilla")

    @given(simulated_runs(chinchilla, {"N": (5e7, 5e10), "D": (1e9, 5e12)}))
    def test_chinchilla_recovers_its_parameters(runs):
        fit = sl.fit(chinchilla, runs.table)
        for name, value in runs.truth.items():
            assert fit.params[name] == pytest.approx(value, rel=0.02)

Arguments that shape a draw (``kind``, ``points``, ``runs``, ``noise``, ``seed``, ``parameters``,
``design``) accept a fixed value or a strategy. Jitted fits compile on the first example: give such
tests ``@settings(deadline=None)``. Needs ``hypothesis`` (``pip install 'scalinglaws[test]'``).
"""

from __future__ import annotations

import itertools
import math
from typing import Any, Dict, Mapping, NamedTuple, Optional, Tuple, Union

import numpy as np

try:
    from hypothesis import assume
    from hypothesis import strategies as st
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("scalinglaws.testing.strategies needs hypothesis; install it with "
                      "pip install 'scalinglaws[test]' (or pip install hypothesis)") from exc

from ..api import get_law
from ..data.table import Table
from ..laws.base import LawFamily, Parameter

__all__ = ["SimulatedRuns", "parameter_range", "true_parameters", "designs", "simulated_runs"]

Range = Tuple[float, float]


class SimulatedRuns(NamedTuple):
    """Runs drawn from ``family`` with parameters ``truth`` (natural units, tied names included)
    on ``design`` (input name -> values, a grouped family's group input as 0-based indices).
    ``table`` holds the inputs (the group column as labels) and the target, with the truth in
    ``table.meta["truth"]`` as the ``simulate`` data source records it."""

    family: LawFamily
    truth: Dict[str, float]
    design: Dict[str, np.ndarray]
    table: Table


def _family(family: Union[str, LawFamily]) -> LawFamily:
    if isinstance(family, str):
        return get_law(family)
    if not isinstance(family, LawFamily):
        raise TypeError(f"expected a LawFamily or a registered law's name, got {family!r}; "
                        "e.g. simulated_runs(sl.get_law('chinchilla'), ...)")
    return family


def _strategy(value: Any) -> st.SearchStrategy:
    return value if isinstance(value, st.SearchStrategy) else st.just(value)


def parameter_range(p: Parameter) -> Range:
    """Where true values of ``p`` are drawn, in natural units: ``p.realistic`` when the family
    gives it, else the span of its starting values ``init`` mapped back from the fitting space."""
    if p.realistic is not None:
        lo, hi = p.realistic
        return float(lo), float(hi)
    lo, hi = min(p.init), max(p.init)
    return float(p.to_natural(float(lo))), float(p.to_natural(float(hi)))


def _value(p: Parameter, span: Range) -> st.SearchStrategy:
    lo, hi = span
    if not lo <= hi:
        raise ValueError(f"the range of {p.name} must have lo <= hi, got {span}")
    if lo == hi:
        return st.just(lo)
    if p.transform == "log":
        if lo <= 0:
            raise ValueError(f"{p.name} is fitted as log({p.name}): its range must be > 0, got {span}")
        # Log-uniform: scales spanning decades are drawn evenly across the decades.
        return st.floats(math.log(lo), math.log(hi)).map(lambda v: min(max(math.exp(v), lo), hi))
    if p.transform in ("logit", "bounded"):
        return st.floats(lo, hi, exclude_min=True, exclude_max=True)
    return st.floats(lo, hi)


def true_parameters(family: Union[str, LawFamily], ranges: Optional[Mapping[str, Range]] = None
                    ) -> st.SearchStrategy[Dict[str, float]]:
    """True parameter values of ``family``: ``{name: value}`` in natural units.

    Each parameter is drawn from ``ranges[name]`` when given, else :func:`parameter_range`
    (the family's ``realistic`` range or the span of its starting grid); parameters fitted in log
    space are drawn log-uniformly. Per-group copies ``E[g]`` use the range given for ``E``; tied
    names are included with their source's value.

    >>> import scalinglaws as sl
    >>> draw = true_parameters(sl.get_law("power_law"), {"alpha": (0.3, 0.3)})
    >>> draw.example()["alpha"]  # doctest: +SKIP
    0.3
    """
    family = _family(family)
    ranges = dict(ranges or {})
    known = set(family.param_names) | {p.copy_of for p in family.parameters if p.copy_of}
    unknown = sorted(set(ranges) - known)
    if unknown:
        raise ValueError(f"law {family.name!r} has no parameter {', '.join(map(repr, unknown))}; its "
                         f"parameters are {', '.join(family.param_names)}")
    fields = {}
    for p in family.parameters:
        span = ranges.get(p.name, ranges.get(p.copy_of) if p.copy_of else None)
        fields[p.name] = _value(p, (float(span[0]), float(span[1])) if span is not None
                                else parameter_range(p))

    def with_aliases(values: Dict[str, float]) -> Dict[str, float]:
        return {**values, **{t: values[s] for t, s in family.aliases.items() if s in values}}

    return st.fixed_dictionaries(fields).map(with_aliases)


def _scale_inputs(family: LawFamily) -> Tuple[str, ...]:
    grouping = family.grouping
    return tuple(n for n in family.inputs if grouping is None or n != grouping.input)


def _spaced(lo: float, hi: float, k: int) -> np.ndarray:
    return np.geomspace(lo, hi, k) if lo > 0 else np.linspace(lo, hi, k)


def designs(family: Union[str, LawFamily], ranges: Mapping[str, Range], *,
            kind: Any = "grid", points: Any = st.integers(4, 7), runs: Any = st.integers(16, 48)
            ) -> st.SearchStrategy[Dict[str, np.ndarray]]:
    """Designs of runs: ``{input name: values}`` covering ``ranges`` (input -> (lo, hi)).

    ``kind="grid"``: the Cartesian product of ``points`` values per input, evenly spaced in log
    when lo > 0 (linearly otherwise); ``kind="random"``: ``runs`` points, both ends of each range
    and the rest drawn log-uniformly (or uniformly), independently per input. A grouped family's
    design repeats the runs for every group, with the group input holding the group index
    (0, 1, ...).

    >>> import scalinglaws as sl
    >>> draw = designs(sl.get_law("chinchilla"), {"N": (1e8, 1e10), "D": (1e9, 1e12)}, points=3)
    >>> sorted(draw.example())  # doctest: +SKIP
    ['D', 'N']
    """
    family = _family(family)
    names = _scale_inputs(family)
    missing = [n for n in names if n not in ranges]
    if missing:
        example = ", ".join(f"{n!r}: (lo, hi)" for n in missing)
        raise ValueError(f"designs() needs a range for every input of {family.name!r} "
                         f"({', '.join(names)}); add {{{example}}} to `ranges`")
    for n in names:
        lo, hi = ranges[n]
        if not lo <= hi:
            raise ValueError(f"the range of input {n} must have lo <= hi, got {(lo, hi)}")
    kinds, sizes, totals = _strategy(kind), _strategy(points), _strategy(runs)

    @st.composite
    def draw_design(draw) -> Dict[str, np.ndarray]:
        chosen = draw(kinds)
        if chosen == "grid":
            axes = [_spaced(*ranges[n], draw(sizes)) for n in names]
            grid = np.array(list(itertools.product(*axes)), dtype=np.float64)
            design = {n: grid[:, i] for i, n in enumerate(names)}
        elif chosen == "random":
            n_runs = draw(totals)
            if n_runs < 2:
                raise ValueError(f"a random design needs at least 2 runs, got {n_runs}")
            # Points from a drawn seed rather than drawn one by one: Hypothesis would shrink them
            # to one repeated value, a design that determines nothing. Both ends are always in.
            rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
            design = {}
            for n in names:
                lo, hi = ranges[n]
                log = lo > 0
                a, b = (math.log(lo), math.log(hi)) if log else (lo, hi)
                values = np.concatenate([[a, b], rng.uniform(a, b, n_runs - 2)])
                values = rng.permutation(values)
                design[n] = np.exp(values) if log else values
        else:
            raise ValueError(f"kind must be 'grid' or 'random', got {chosen!r}")
        if family.grouping is not None:
            groups = len(family.grouping.labels)
            size = len(next(iter(design.values())))
            design = {n: np.tile(v, groups) for n, v in design.items()}
            design[family.grouping.input] = np.repeat(np.arange(groups, dtype=np.float64), size)
        return design

    return draw_design()


def simulated_runs(family: Union[str, LawFamily], ranges: Optional[Mapping[str, Range]] = None, *,
                   parameters: Any = None, design: Any = None, noise: Any = 0.0,
                   seed: Any = st.integers(0, 2**32 - 1), target: str = "loss"
                   ) -> st.SearchStrategy[SimulatedRuns]:
    """Runs simulated from ``family``: its prediction at the design times exp(noise * eps),
    eps ~ N(0, 1) (multiplicative noise, additive on the log scale), as :class:`SimulatedRuns`.

    ``parameters`` defaults to :func:`true_parameters` and ``design`` to :func:`designs` over
    ``ranges`` (input -> (lo, hi)). Draws whose predictions are not finite, or not positive for a
    family fitted on log residuals, are rejected (``hypothesis.assume``).

    >>> import scalinglaws as sl
    >>> draw = simulated_runs(sl.get_law("power_law"), {"x": (1e6, 1e12)}, noise=0.01)
    >>> runs = draw.example()  # doctest: +SKIP
    >>> sorted(runs.table.names)  # doctest: +SKIP
    ['loss', 'x']
    """
    family = _family(family)
    if design is None:
        if ranges is None:
            raise ValueError("simulated_runs() needs `ranges` (input -> (lo, hi)) to draw a design, "
                             "or a `design` (a mapping of input values, or a strategy of them)")
        design = designs(family, ranges)
    params = _strategy(parameters) if parameters is not None else true_parameters(family)
    designs_, noises, seeds = _strategy(design), _strategy(noise), _strategy(seed)
    log_fit = family.default_estimator.get("space", "log") == "log"

    @st.composite
    def draw_runs(draw) -> SimulatedRuns:
        truth = dict(draw(params))
        chosen = {k: np.asarray(v, dtype=np.float64) for k, v in draw(designs_).items()}
        clean = np.asarray(family.predict(truth, chosen), dtype=np.float64)
        assume(bool(np.all(np.isfinite(clean))))
        if log_fit:
            assume(bool(np.all(clean > 0)))
        sd, s = float(draw(noises)), int(draw(seeds))
        y = clean * np.exp(sd * np.random.default_rng(s).standard_normal(clean.shape))
        columns: Dict[str, Any] = dict(chosen)
        grouping = family.grouping
        if grouping is not None:
            labels = np.array(grouping.labels, dtype=object)
            columns[grouping.input] = labels[chosen[grouping.input].astype(int)]
        meta = {"truth": dict(truth), "law": family.name, "noise": sd, "seed": s}
        table = Table({**columns, target: y}, source=f"simulated_runs({family.name})", meta=meta)
        return SimulatedRuns(family=family, truth=truth, design=chosen, table=table)

    return draw_runs()
