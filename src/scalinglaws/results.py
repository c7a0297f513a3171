"""Host-side results: plain numbers with names, ready for reports and JSON."""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Sequence

import attrs
import numpy as np


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
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
        return _jsonable({
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

    def __repr__(self) -> str:
        ps = ", ".join(f"{k}={v:.6g}" for k, v in self.params.items())
        return f"FitResult({self.law.name}: {ps}; objective={self.objective:.10g})"


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


jsonable = _jsonable

__all__ = ["FitResult", "jsonable", "Optional"]
