"""Host-side results: plain numbers with names, ready for reports and JSON."""

from __future__ import annotations

from typing import Any, ClassVar, Dict, List, Mapping, Optional, Protocol, Sequence, runtime_checkable

import attrs
import numpy as np


@runtime_checkable
class TaskResult(Protocol):
    """What a task's ``run(ctx, name)`` returns: the contract between tasks and reporters.

    - ``kind``: a class attribute naming the result type in results.json (``"fit"``,
      ``"compare"``, ...); :mod:`scalinglaws.report.presenters` looks its markdown and figures
      up by it, and ``scalinglaws report OUT`` finds the class again by it (through the
      ``result_type`` attribute of the registered task class).
    - ``name``: the task's name in the spec.
    - ``to_json()``: the task's entry in results.json (plain JSON values, with ``name`` and
      ``kind``).
    - ``rows()``: its rows of params.csv (``task, law, parameter, estimate``, optionally ``se,
      lower, upper, truth, rel_error``); ``[]`` when it fits no parameters.
    - ``from_json(data, registry=None)``: a classmethod rebuilding the result from its
      results.json entry, so that ``scalinglaws report OUT`` re-renders it without rerunning;
      ``registry`` is the plugin registry, for results that rebuild a law by name.

    A result of a kind without a built-in presenter renders itself: ``markdown(images)`` (its
    lines of report.md; ``images`` are the figure files written) and ``figures()`` ({file name:
    matplotlib Figure}), see :class:`Presentable`.
    """

    kind: ClassVar[str]
    name: str

    def to_json(self) -> Dict[str, Any]: ...

    def rows(self) -> List[Dict[str, Any]]: ...

    @classmethod
    def from_json(cls, data: Mapping[str, Any], registry: Any = None) -> TaskResult: ...


@runtime_checkable
class Presentable(Protocol):
    """A result that writes its own report section and figures (plugin tasks)."""

    def markdown(self, images: Any = frozenset()) -> List[str]: ...

    def figures(self) -> Dict[str, Any]: ...


def fmt(v, digits: int = 4) -> str:
    """A number for a table cell: ``digits`` significant digits, "inf"/"-inf", "-" for None/NaN."""
    if v is None:
        return "-"
    if isinstance(v, (float, np.floating)):
        if not np.isfinite(v):
            return "inf" if v > 0 else ("-inf" if v < 0 else "-")
        return f"{v:.{digits}g}"
    return str(v)


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON: numpy arrays and scalars as lists and numbers, NaN/inf as None."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return v if np.isfinite(v) else None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


@attrs.frozen(kw_only=True, eq=False)
class FitResult:
    """A fitted law: parameters by their names in the paper, the objective and how it was reached.

    ``n_at_best`` counts the polished starts whose objective is within a relative 1e-6 of the best;
    ``n_polished`` is how many starts were run to convergence (all of them with the ``full``
    schedule, the survivors of successive halving otherwise).
    """

    law: Any  # LawFamily
    params: Dict[str, float]
    theta: np.ndarray
    objective: float
    n_points: int
    n_starts: int
    n_polished: int
    n_at_best: int
    converged: bool
    iterations: int
    estimator: Dict[str, Any] = attrs.field(factory=dict)
    # scalinglaws.uncertainty.Uncertainty: intervals of the parameters and derived quantities
    uncertainty: Optional[Any] = None
    # scalinglaws.core.diagnostics.summarise: convergence reason, starts at the optimum, parameters
    # at their ranges, conditioning, residuals, and human-readable warnings
    diagnostics: Dict[str, Any] = attrs.field(factory=dict)
    # Text run ids by input (``law.id_inputs``): the fit coded labels[name][i] as i, in order of
    # first appearance; inputs whose ids were numbers are absent.
    labels: Dict[str, tuple] = attrs.field(factory=dict)

    def predict(self, inputs: Mapping[str, Any]) -> np.ndarray:
        """The fitted law's prediction at ``inputs`` (input name -> values).

        Run-id inputs (``law.id_inputs``, e.g. lr_annealing's ``run``) take the names the fit saw
        (``"cosine"``) or their codes (0, 1, ... in order of first appearance, see ``labels``);
        a name the fit did not see is a new run. Laws of whole training
        curves compute each run's state from the rows given, not from the fit's data: for
        lr_annealing, rows with equal run ids are one schedule, so give a row (run, step, lr) for
        every logged step from the start of each run, not just the step to predict.
        """
        return self.law.predict(self.params, self.coded(inputs))

    def coded(self, inputs: Mapping[str, Any]) -> Dict[str, Any]:
        """``inputs`` with run names replaced by the fit's codes; every input checked present."""
        missing = [n for n in self.law.inputs if n not in inputs]
        if missing:
            raise ValueError(f"predicting {self.law.name} {missing_inputs_message(self.law, missing)}")
        out = dict(inputs)
        for name in getattr(self.law, "id_inputs", ()):
            out[name] = run_codes(inputs[name], self.labels.get(name))
        return out

    def to_json(self) -> Dict[str, Any]:
        return jsonable({
            "law": self.law.name,
            "formula": self.law.formula,
            "reference": getattr(self.law, "reference", ""),
            "params": self.params,
            "objective": self.objective,
            "n_points": self.n_points,
            "n_starts": self.n_starts,
            "n_polished": self.n_polished,
            "n_at_best": self.n_at_best,
            "converged": self.converged,
            "iterations": self.iterations,
            "estimator": self.estimator,
            "uncertainty": None if self.uncertainty is None else self.uncertainty.to_json(),
            "diagnostics": self.diagnostics,
        })

    @classmethod
    def from_json(cls, data: Mapping[str, Any], law) -> FitResult:
        """A fit rebuilt from :meth:`to_json` with its ``law`` (a LawFamily, or a
        :class:`RecordedLaw` when the law cannot be rebuilt), without its uncertainty:
        parameters in the law's order (results.json sorts keys) and the fitting-space vector."""
        params = {k: float(v) for k, v in data["params"].items()}
        if isinstance(law, RecordedLaw):
            theta = np.array(list(params.values()))
        else:
            order = list(law.param_names) + list(law.aliases)
            params = {k: params[k] for k in sorted(params, key=lambda k: (
                order.index(k) if k in order else len(order), k))}
            theta = law.to_fit(params)
        return cls(law=law, params=params, theta=theta, objective=data["objective"],
                   n_points=data["n_points"], n_starts=data["n_starts"],
                   n_polished=data["n_polished"], n_at_best=data["n_at_best"],
                   converged=data["converged"], iterations=data["iterations"],
                   estimator=data.get("estimator", {}), diagnostics=data.get("diagnostics") or {})

    def __repr__(self) -> str:
        ps = ", ".join(f"{k}={v:.6g}" for k, v in self.params.items())
        return f"FitResult({self.law.name}: {ps}; objective={self.objective:.10g})"


@attrs.frozen(kw_only=True)
class RecordedLaw:
    """A law known only from its record in results.json (a grouped or expression law, or a family
    no plugin registers any more): enough for a report's text, not for predictions or plots."""

    name: str
    formula: str = ""
    reference: str = ""
    param_names: tuple = ()
    inputs: tuple = ()

    @classmethod
    def from_json(cls, fit_json: Mapping[str, Any]) -> RecordedLaw:
        return cls(name=fit_json["law"], formula=fit_json.get("formula", ""),
                   reference=fit_json.get("reference", ""), param_names=tuple(fit_json["params"]))


def missing_inputs_message(law, missing: Sequence[str]) -> str:
    """"needs ...": which inputs a prediction lacks; for laws of whole curves, what a point must
    be."""
    message = f"needs {', '.join(missing)} (the inputs of {law.name} are {', '.join(law.inputs)})"
    ids = getattr(law, "id_inputs", ())
    if ids:
        # The state of a curve law (lr_annealing's areas) accumulates over a run's rows, so a
        # step alone cannot be predicted: the schedule that led to it is part of the input.
        message += (f"; the law follows whole runs: give one row per logged step from the start "
                    f"of each run, rows with equal {ids[0]} forming one run")
    return message


def run_codes(values: Any, labels: Optional[Sequence[str]]) -> np.ndarray:
    """Run ids as codes: the fit's names through ``labels`` (code i is ``labels[i]``), numbers as
    they are, and names the fit did not see as new runs with codes of their own.

    A run id only says which rows form one run (no parameter of the law belongs to a run), so
    a new name is a new schedule, not an error; its code is one that neither the fit's names nor
    the numbers given use, so that it never merges with another run."""
    # A list mixing names and numbers would become all text under np.asarray (3 -> '3'): keep
    # its items as they are.
    array = np.asarray(values, dtype=object if isinstance(values, (list, tuple)) else None)
    if array.dtype.kind not in "OUS":  # numbers: the codes themselves, or numeric ids
        return array.astype(np.float64)
    items = list(array.astype(object).ravel())
    position = {label: float(i) for i, label in enumerate(labels or ())}
    numbers = [float(v) for v in items if not isinstance(v, str)]
    fresh = float(np.floor(max([len(position) - 1.0, *numbers]))) + 1.0
    out = np.empty(array.shape, dtype=np.float64)
    for i, value in enumerate(items):
        if not isinstance(value, str):
            out.flat[i] = float(value)
            continue
        if value not in position:
            position[value], fresh = fresh, fresh + 1.0
        out.flat[i] = position[value]
    return out


__all__ = ["FitResult", "Presentable", "RecordedLaw", "TaskResult", "fmt", "jsonable"]
