"""The `sensitivity` task: do the conclusions survive the fitting choices?

Li et al. (2025), "(Mis)Fitting: A Survey of Scaling Laws", show that choices left implicit in
papers change the fitted laws and the conclusions drawn from them. This task refits one law to one
dataset under those choices and reports how much the headline quantities move:

* the Huber threshold delta (and squared error, delta -> infinity);
* which points are included: drop the runs at the smallest or the largest scale values, or fit
  random subsamples of the runs;
* residuals of log loss or of loss itself (`space: log | linear`);
* the starting points: the family's grid against random starts.

Quantities are the law's parameters and, for laws with exponents alpha and beta (Chinchilla), the
compute-optimal allocation exponent a = beta / (alpha + beta) (N_opt ~ C^a) and b = 1 - a
(D_opt ~ C^b). The result is a table of variants x quantities and, per quantity, the spread
(max - min) relative to the baseline value; a spread above `threshold` is flagged.
"""

from __future__ import annotations

from typing import Any, ClassVar, Dict, List, Mapping, Optional

import attrs
import numpy as np

from ..errors import FitError
from ..fields import at_least, field, positive
from ..results import jsonable
from ..spec.model import EstimatorSpec, LawSpec
from ..uncertainty import derived_quantities, progress
from .compare import Candidate, candidate_problems, fit_rows, prepare
from .fit import _truth


def quantities(family, params: Dict[str, float]) -> Dict[str, float]:
    """The parameters plus the family's derived quantities (Chinchilla: a = beta / (alpha +
    beta), b = alpha / (alpha + beta), G)."""
    return {**params, **{k: float(v) for k, v in derived_quantities(family, params).items()}}


@attrs.frozen(kw_only=True)
class SensitivityTask:
    """Refit under the choices the Misfitting survey (Li et al. 2025) shows change conclusions
    (Huber delta, points included, log or linear residuals, starting points) and report how much
    the parameters (and a = beta / (alpha + beta)) move."""

    dataset: str = field(doc="Name of a dataset under `datasets`.")
    law: LawSpec = field(doc="Law family name, or a law mapping as in the `fit` task.")
    estimator: Optional[EstimatorSpec] = field(default=None, doc=(
        "The baseline fit; the family's published recipe when omitted."))
    scale: Optional[str] = field(default=None, doc=(
        "Column ordering runs by scale (for dropping the smallest or largest); C when the table "
        "has (or derives) it, else the column of the law's first input."))
    deltas: tuple[float, ...] = field(default=(1e-4, 1e-2, 1e-1), doc=(
        "Huber thresholds to refit with (the baseline's is kept as the baseline)."))
    squared: bool = field(default=True, doc="Also refit with squared error (delta -> infinity).")
    linear_space: bool = field(default=True, doc=(
        "Also refit on residuals of the target itself instead of its log (or of its log when the "
        "baseline is linear)."))
    starts: bool = field(default=True, doc=(
        "Also refit from the other kind of starting points: random starts when the baseline uses "
        "the grid, the family's grid when it uses random starts."))
    n_random: int = field(default=256, validator=at_least(1), doc=(
        "Random starts of the `starts` variant."))
    drop_smallest: tuple[int, ...] = field(default=(1, 2), doc=(
        "Refit without the runs at the k smallest distinct scale values, for each k."))
    drop_largest: tuple[int, ...] = field(default=(1, 2), doc=(
        "Refit without the runs at the k largest distinct scale values, for each k."))
    subsample: float = field(default=0.8, validator=positive, doc=(
        "Fraction of the runs kept in each random subsample (0 < f < 1; 1 for none)."))
    subsample_repeats: int = field(default=3, validator=at_least(0), doc="How many subsamples.")
    threshold: float = field(default=0.05, validator=positive, doc=(
        "Flag a quantity whose spread (max - min) / |baseline| exceeds this."))

    def check(self, spec, registry) -> List[tuple]:
        c = Candidate(name="baseline", dataset=self.dataset, law=self.law, estimator=self.estimator)
        out = [(p[2:], m) for p, m in candidate_problems([c], spec, registry, ("_",))]
        if not 0 < self.subsample <= 1:
            out.append((("subsample",), f"expected a fraction in (0, 1], got {self.subsample}"))
        if any(not (d > 0) for d in self.deltas):
            out.append((("deltas",), "Huber thresholds must be > 0"))
        return out

    def variants(self, p, seed: int = 0) -> List[Dict[str, Any]]:
        """(label, group, estimator, mask) of every refit; the baseline first."""
        est = p.estimator
        out: List[Dict[str, Any]] = [{"label": "baseline", "group": "baseline", "estimator": est,
                                      "mask": None}]
        # Variants of the estimator's own options, for any estimator that has them (an attrs
        # class with these fields); the point variants below apply to every estimator.
        options = attrs.fields_dict(type(est)) if attrs.has(type(est)) else {}
        if {"loss", "delta"} <= set(options):
            for d in self.deltas:
                if est.loss == "huber" and np.isclose(d, est.delta):
                    continue
                out.append({"label": f"huber delta={d:g}", "group": "loss",
                            "estimator": attrs.evolve(est, loss="huber", delta=float(d)), "mask": None})
            if self.squared and est.loss != "squared":
                out.append({"label": "squared error", "group": "loss",
                            "estimator": attrs.evolve(est, loss="squared"), "mask": None})
        if self.linear_space and "space" in options:
            other = "linear" if est.space == "log" else "log"
            out.append({"label": f"{other} residuals", "group": "space",
                        "estimator": attrs.evolve(est, space=other), "mask": None})
        if self.starts and {"starts", "n_random"} <= set(options):
            if est.starts == "grid":
                alt = attrs.evolve(est, starts="random", n_random=self.n_random)
                label = f"{self.n_random} random starts"
            else:
                alt = attrs.evolve(est, starts="grid")
                label = "grid starts"
            out.append({"label": label, "group": "starts", "estimator": alt, "mask": None})
        distinct = np.unique(p.scale)
        for k in self.drop_smallest:
            if 0 < k < len(distinct):
                out.append({"label": f"drop {k} smallest scale(s)", "group": "points",
                            "estimator": est, "mask": p.scale > distinct[k - 1]})
        for k in self.drop_largest:
            if 0 < k < len(distinct):
                out.append({"label": f"drop {k} largest scale(s)", "group": "points",
                            "estimator": est, "mask": p.scale < distinct[-k]})
        if self.subsample < 1:
            n = len(p.y)
            keep = max(1, int(round(self.subsample * n)))
            for r in range(self.subsample_repeats):
                rng = np.random.default_rng([seed, r])
                mask = np.zeros(n, dtype=bool)
                mask[rng.choice(n, keep, replace=False)] = True
                out.append({"label": f"subsample {self.subsample:.0%} #{r + 1}", "group": "points",
                            "estimator": est, "mask": mask})
        return out

    def run(self, ctx, name: str) -> SensitivityResult:
        p = prepare(ctx, "baseline", self.dataset, self.law, self.estimator, self.scale)
        rows = []
        variants = self.variants(p, ctx.seed)
        for i, v in enumerate(variants):
            try:
                with progress(f"sensitivity: refit {i + 1}/{len(variants)} ({v['label']})"):
                    fit = fit_rows(p, v["mask"], estimator=v["estimator"], seed=ctx.seed)
            except FitError as exc:
                rows.append({"variant": v["label"], "group": v["group"], "error": str(exc)})
                continue
            n_used = len(p.y) if v["mask"] is None else int(np.sum(v["mask"]))
            rows.append({"variant": v["label"], "group": v["group"], "n_points": n_used,
                         "objective": fit.objective, "converged": fit.converged,
                         "quantities": quantities(p.family, fit.params)})
        base = rows[0]["quantities"]
        spread = {}
        for k, b in base.items():
            values = np.array([r["quantities"][k] for r in rows if "quantities" in r])
            rel = float((values.max() - values.min()) / abs(b)) if b != 0 else float("inf")
            spread[k] = {"baseline": b, "min": float(values.min()), "max": float(values.max()),
                         "std": float(values.std()), "relative_spread": rel,
                         "flagged": bool(rel > self.threshold)}
        truth = _truth(p.table.meta, self.law, rows[0]["quantities"])
        truth = quantities(p.family, truth) if truth else truth
        return SensitivityResult(name=name, dataset=self.dataset, law=p.family.name, variants=rows,
                                 spread=spread, threshold=self.threshold, truth=truth)


@attrs.frozen(kw_only=True, eq=False)
class SensitivityResult:
    name: str
    dataset: str
    law: str
    variants: List[Dict[str, Any]]
    spread: Dict[str, Dict[str, Any]]
    threshold: float
    truth: Optional[Dict[str, float]] = None
    kind: ClassVar[str] = "sensitivity"

    def rows(self) -> List[Dict[str, Any]]:
        """No rows in params.csv: every variant's parameters are in results.json."""
        return []

    def to_json(self) -> Dict[str, Any]:
        return jsonable({"kind": self.kind, **attrs.asdict(self)})

    @classmethod
    def from_json(cls, data: Mapping[str, Any], registry=None) -> SensitivityResult:
        """Rebuild from results.json (for `scalinglaws report`): every field is stored as is."""
        return cls(**{k: data[k] for k in attrs.fields_dict(cls) if k != "truth"}, truth=data.get("truth"))


SensitivityTask.result_type = SensitivityResult  # what `scalinglaws report` rebuilds entries with
