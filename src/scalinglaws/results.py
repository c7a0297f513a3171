"""Host-side results: plain numbers with names, ready for reports and JSON."""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

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

    def predict(self, inputs: Mapping[str, Any]) -> np.ndarray:
        """The fitted law's prediction at ``inputs`` (input name -> values)."""
        return self.law.predict(self.params, inputs)

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


jsonable = _jsonable

__all__ = ["FitResult", "jsonable", "Optional"]
