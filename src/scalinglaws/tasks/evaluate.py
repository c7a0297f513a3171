"""The `evaluate` task: how far can a fitted law be trusted beyond the runs it was fitted to?

Scores are absolute relative errors |prediction - observation| / observation of runs the fit did
not see, as in Choshen et al. (2024), "A Hitchhiker's Guide to Scaling Law Estimation". For each
candidate (dataset, law, estimator):

* held-out extrapolation: fit on the runs whose scale is at most a cut, score the runs above it;
* leave-largest-out: fit on every run but those at the largest scale, score those;
* k-fold by scale: the distinct scale values split into k contiguous blocks, each held out in
  turn (the last block is extrapolation, the others interpolation);
* learning curve ("how many small runs do I need"): fit on the runs at the m smallest scale
  values below the cut, for growing m, and score the runs above the cut; the smallest m whose
  error is at most `target_error` is reported;
* intermediate checkpoints: with a `step` column, every row is a checkpoint of a run (rows of
  one run share the `runs` column); the first `discard` fraction of each run's steps is dropped
  before fitting (Hitchhiker's guide: about 10%), a run's scale is that of its last checkpoint,
  and only the last checkpoint of a held-out run is scored.

Left-out rows are given weight 0 rather than removed, so every split of a dataset has one shape
and compiles once.
"""

from __future__ import annotations

from typing import Any, ClassVar, Dict, List, Mapping, Optional

import attrs
import numpy as np

from ..draws import predict_theta
from ..errors import DataError, FitError
from ..fields import at_least, field, positive
from ..results import jsonable
from ..uncertainty import progress
from .compare import (
    Candidate,
    Prepared,
    abs_rel_error,
    candidate_problems,
    fit_rows,
    holdout_mask,
    prepare,
)


@attrs.frozen(kw_only=True, eq=False)
class Rows:
    """Per-row facts of a dataset for splitting: which rows may be fitted, which are scored."""

    kept: np.ndarray  # rows usable for fitting (after the checkpoint discard)
    final: np.ndarray  # rows that are scored (a run's last checkpoint; every row without steps)
    run_scale: np.ndarray  # the scale of the run each row belongs to


def checkpoint_rows(p: Prepared, step: Optional[str], run: Optional[str], discard: float) -> Rows:
    n = len(p.y)
    if step is None:
        return Rows(kept=np.ones(n, dtype=bool), final=np.ones(n, dtype=bool), run_scale=p.scale)
    steps = p.table.numeric(step)
    if run is not None:
        runs = np.asarray(p.table[run])
    else:
        first = p.law.inputs.get(p.family.inputs[0], p.family.inputs[0])
        runs = p.table.numeric(first)
    labels, index = np.unique(runs.astype(str) if runs.dtype.kind == "O" else runs,
                              return_inverse=True)
    last = np.full(len(labels), -np.inf)
    np.maximum.at(last, index, steps)
    scale = np.zeros(len(labels))
    np.maximum.at(scale, index, p.scale)
    kept = steps >= discard * last[index]
    if discard > 0:
        kept &= steps > discard * last[index] - 1e-12 * np.abs(last[index])
    final = steps >= last[index]
    return Rows(kept=kept, final=final, run_scale=scale[index])


def _score(p: Prepared, fit, test: np.ndarray) -> Dict[str, Any]:
    inputs = {n: p.x[test, i] for i, n in enumerate(p.family.inputs)}
    pred = predict_theta(fit.law, fit.theta, inputs)
    are = abs_rel_error(pred, p.y[test])
    return {"n_test": int(test.sum()), "are_mean": float(are.mean()), "are_max": float(are.max()),
            "scale": p.scale[test], "observed": p.y[test], "predicted": pred}


@attrs.frozen(kw_only=True)
class EvaluateTask:
    """Extrapolation error of laws fitted below a scale cut and scored above it (absolute
    relative error, Choshen et al. 2024); leave-largest-out, k-fold by scale, checkpoints with an
    early-training discard, and error against the number of small runs used."""

    candidates: tuple[Candidate, ...] = field(doc="The candidates: `[{name, dataset, law, estimator}]`.")
    scale: Optional[str] = field(default=None, doc=(
        "Column ordering runs by scale; C when the table has (or derives) it, else the column of "
        "the law's first input."))
    cut: Optional[float] = field(default=None, doc=(
        "Fit on runs with scale <= cut, score above; default: hold out the top `holdout` fraction "
        "of distinct scale values."))
    holdout: float = field(default=0.25, validator=positive, doc=(
        "Fraction of the largest distinct scale values held out when `cut` is omitted."))
    leave_largest_out: bool = field(default=True, doc="Also fit on all but the largest scale.")
    kfold: int = field(default=0, validator=at_least(0), doc=(
        "k >= 2: k contiguous blocks of distinct scale values, each held out in turn; 0: off."))
    learning_curve: bool = field(default=True, doc=(
        "Error above the cut against the number of smallest scale values fitted."))
    max_curve_points: int = field(default=12, validator=at_least(2), doc=(
        "At most this many points on the learning curve (evenly spread)."))
    target_error: float = field(default=0.01, validator=positive, doc=(
        "Learning curve: report the fewest smallest scales whose mean error is at most this."))
    step: Optional[str] = field(default=None, doc=(
        "Column of the training step: rows are checkpoints of runs (fit on intermediate "
        "checkpoints, score a held-out run's last one)."))
    runs: Optional[str] = field(default=None, doc=(
        "With `step`: column naming each row's run; default the column of the law's first input "
        "(e.g. N)."))
    discard: float = field(default=0.1, doc=(
        "With `step`: drop checkpoints before this fraction of each run's last step."))

    def check(self, spec, registry) -> List[tuple]:
        out = candidate_problems(self.candidates, spec, registry, ("candidates",))
        if not 0 < self.holdout < 1:
            out.append((("holdout",), f"expected a fraction in (0, 1), got {self.holdout}"))
        if not 0 <= self.discard < 1:
            out.append((("discard",), f"expected a fraction in [0, 1), got {self.discard}"))
        if self.kfold == 1:
            out.append((("kfold",), "k-fold needs k >= 2 (or 0 for off)"))
        if self.runs is not None and self.step is None:
            out.append((("runs",), "`runs` names the runs of checkpoint rows; give `step` too"))
        return out

    def run_candidate(self, ctx, c: Candidate) -> Dict[str, Any]:
        seed = ctx.seed
        p = prepare(ctx, c.name, c.dataset, c.law, c.estimator, self.scale)
        rows = checkpoint_rows(p, self.step, self.runs, self.discard)
        n_par = len(p.family.parameters)
        below, cut = holdout_mask(rows.run_scale, self.cut, self.holdout)
        train, test = rows.kept & below, rows.final & ~below
        if not test.any():
            raise DataError(f"no run above the cut {cut:g} to score", source=p.table.source)
        fit = fit_rows(p, train, seed=seed)
        out: Dict[str, Any] = {
            "name": c.name, "dataset": c.dataset, "law": p.family.name,
            "scale_column": p.scale_column, "n_rows": len(p.y), "n_fitted": int(train.sum()),
            "n_discarded": int((~rows.kept).sum()),
            "holdout": {"cut": cut, "n_train": int(train.sum()), **_score(p, fit, test),
                        **{f"fit_{k}": v for k, v in _score(p, fit, train).items()
                           if k in ("scale", "observed", "predicted")}},
            "one_input": len(p.family.inputs) == 1,
            "params": fit.params,
        }
        distinct = np.unique(rows.run_scale)
        if self.leave_largest_out and len(distinct) >= 2:
            largest = rows.run_scale >= distinct[-1]
            try:
                lfit = fit_rows(p, rows.kept & ~largest, seed=seed)
                out["leave_largest_out"] = {"scale": float(distinct[-1]),
                                            **_score(p, lfit, rows.final & largest)}
            except FitError as exc:
                out["leave_largest_out"] = {"error": str(exc)}
        if self.kfold >= 2:
            blocks = np.array_split(distinct, min(self.kfold, len(distinct)))
            folds = []
            for j, block in enumerate(blocks):
                inside = (rows.run_scale >= block[0]) & (rows.run_scale <= block[-1])
                try:
                    ffit = fit_rows(p, rows.kept & ~inside, seed=seed)
                except FitError as exc:
                    folds.append({"fold": j + 1, "error": str(exc)})
                    continue
                s = _score(p, ffit, rows.final & inside)
                folds.append({"fold": j + 1, "scale_range": (float(block[0]), float(block[-1])),
                              "extrapolation": j == len(blocks) - 1,
                              **{k: s[k] for k in ("n_test", "are_mean", "are_max")}})
            out["kfold"] = folds
        if self.learning_curve:
            out["learning_curve"] = self._learning_curve(p, rows, train, test, n_par, seed)
        return out

    def _learning_curve(self, p, rows, train, test, n_par, seed) -> Dict[str, Any]:
        scales = np.unique(rows.run_scale[train])
        counts = [m for m in range(1, len(scales) + 1)
                  if (train & (rows.run_scale <= scales[m - 1])).sum() > n_par]
        if len(counts) > self.max_curve_points:
            pick = np.unique(np.round(np.linspace(0, len(counts) - 1, self.max_curve_points)).astype(int))
            counts = [counts[i] for i in pick]
        points = []
        for m in counts:
            mask = train & (rows.run_scale <= scales[m - 1])
            try:
                fit = fit_rows(p, mask, seed=seed)
            except FitError:
                continue
            s = _score(p, fit, test)
            points.append({"n_scales": m, "largest_scale": float(scales[m - 1]),
                           "n_rows": int(mask.sum()), "are_mean": s["are_mean"],
                           "are_max": s["are_max"]})
        needed = next((q["n_scales"] for q in points if q["are_mean"] <= self.target_error), None)
        return {"points": points, "target_error": self.target_error, "n_scales_needed": needed,
                "n_scales_available": int(len(scales))}

    def run(self, ctx, name: str) -> EvaluateResult:
        results = []
        for i, c in enumerate(self.candidates):
            with progress(f"evaluate: candidate {i + 1}/{len(self.candidates)} ({c.name})"):
                results.append(self.run_candidate(ctx, c))
        return EvaluateResult(name=name, candidates=results, step=self.step, discard=self.discard)


@attrs.frozen(kw_only=True, eq=False)
class EvaluateResult:
    name: str
    candidates: List[Dict[str, Any]]
    step: Optional[str] = None
    discard: float = 0.0
    kind: ClassVar[str] = "evaluate"

    def rows(self) -> List[Dict[str, Any]]:
        """No rows in params.csv: each candidate's parameters are in results.json."""
        return []

    def to_json(self) -> Dict[str, Any]:
        """Everything, the scored points included (so `scalinglaws report` redraws the plot)."""
        return jsonable({"name": self.name, "kind": self.kind, "step": self.step,
                         "discard": self.discard if self.step else None,
                         "candidates": self.candidates})

    @classmethod
    def from_json(cls, data: Mapping[str, Any], registry=None) -> EvaluateResult:
        """Rebuild from results.json (for `scalinglaws report`): tables and plot."""
        arrays = ("scale", "observed", "predicted")
        cands = []
        for c in data["candidates"]:
            c = dict(c)
            for key in ("holdout", "leave_largest_out"):
                if key in c:
                    c[key] = {k: (np.asarray(v, dtype=float) if k.removeprefix("fit_") in arrays
                                  else v) for k, v in c[key].items()}
            cands.append(c)
        return cls(name=data["name"], candidates=cands, step=data.get("step"),
                   discard=data.get("discard") or 0.0)


EvaluateTask.result_type = EvaluateResult  # what `scalinglaws report` rebuilds entries with
