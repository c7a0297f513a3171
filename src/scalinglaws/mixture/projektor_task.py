"""The `select_sources` task: projektor (Kang et al. 2023) from pilot runs and revealed samples.

Inputs, every one a dataset of the spec (read by its data source, as every task reads data):

* the pilot runs: one proportion column per source (``source_columns``, default ``p_{}``), the
  run's data size (``size_column``, default ``N``) and its observed performance
  (``performance_column``, default ``loss``); runs at exactly two sizes N1 < N2 (or the two named
  in ``pilot_sizes``: runs at other sizes are held out and scored against the projection);
* per source, a dataset of its revealed samples, and one of the validation set: one sample per
  row, every column a feature (e.g. ``{source: csv, path: features/web.csv}``, with ``header:
  false`` and ``names:`` for a file of bare numbers);
* optionally (``sources_by_size``) other sample datasets for a pilot size, when the pilot training
  data of each size reveal different samples: the OT distance, the fit and the selection's
  gradient are then per size, and the predictions (not the coefficients) are mapped in ln N.

Steps: OT distance of every pilot mixture to the validation set (:mod:`.projektor`), least squares
for the performance model at each pilot size, the log-N mapping to ``target_size``, and the
projected-gradient selection of the mixture within ``lower``/``upper``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Dict, List, Optional, Tuple

import attrs
import numpy as np

from ..errors import DataError, closest
from ..fields import at_least, field, one_of, positive
from ..results import jsonable
from .data import ROW_SUM_TOLERANCE, match_columns, per_source, proportions, unknown_datasets

KIND = "select_sources"


# --- revealed samples -------------------------------------------------------------------------
def features(table) -> np.ndarray:
    """Samples (n, d) from a dataset: one row per sample, every column a feature."""
    if len(table) == 0:
        raise DataError("no samples; the dataset needs one row of numbers per sample",
                        source=table.source)
    return np.column_stack([table.numeric(c) for c in table.names])


# --- pilot runs --------------------------------------------------------------------------------
@attrs.frozen(kw_only=True, eq=False)
class Pilots:
    p: np.ndarray  # (K, S)
    size: np.ndarray  # (K,)
    performance: np.ndarray  # (K,)
    rows: np.ndarray  # (K,) 1-based row numbers in the source table
    notes: List[str]


def load_pilots(table, sources, source_columns: str, size_column: str,
                performance_column: str) -> Pilots:
    _, cols = match_columns(table.names, source_columns, sources, "source", table.source)
    p, notes = proportions(table, cols)
    size = table.numeric(size_column, positive=True, why=" (the pilot run's data size)")
    perf = table.numeric(performance_column)
    rows = np.array([table.row_label(i) for i in range(len(table))])
    return Pilots(p=p, size=size, performance=perf, rows=rows, notes=notes)


# --- the task ----------------------------------------------------------------------------------
@attrs.frozen(kw_only=True)
class SelectSourcesTask:
    """projektor: fit the OT performance model at two pilot sizes, project it to a target size
    and choose the mixture of data sources (Kang et al. 2023)."""

    dataset: str = field(doc=(
        "Dataset of pilot runs: a proportion column per source, the data size and the performance."))
    sources: dict[str, str] = field(doc=(
        "Source name -> dataset of its revealed samples (one sample per row, every column a "
        "feature): `{web: web_samples, code: code_samples}`."))
    validation: str = field(doc="Dataset of the validation samples (the same features).")
    sources_by_size: dict[float, dict[str, str]] = field(factory=dict, doc=(
        "Pilot size -> {source: dataset}: revealed samples that differ by pilot size, "
        "`{1000: {web: web_1k}, 4000: {web: web_4k}}` (sources or sizes not listed use "
        "`sources`). Each size then has its own OT distance and fit, and the predictions, not the "
        "coefficients, are mapped in ln N. Default: `sources` for both sizes."))
    target_size: float = field(validator=positive, doc=(
        "Data size N of the run to plan: the model is mapped to it linearly in ln N."))
    source_columns: str = field(default="p_{}", doc=(
        "Column of each source's proportion in the pilot table, `{}` standing for its name."))
    size_column: str = field(default="N", doc="Column with each pilot run's data size.")
    performance_column: str = field(default="loss", doc="Column with each pilot run's performance.")
    goal: str = field(default="minimise", validator=one_of("minimise", "maximise"), doc=(
        "`minimise` (a loss) or `maximise` (an accuracy, as in the paper)."))
    pilot_sizes: tuple[float, ...] = field(factory=tuple, doc=(
        "The two pilot sizes N1, N2 to fit (default: the two sizes of the table; runs at other "
        "sizes are then held out and scored against the projection)."))
    lower: dict[str, float] = field(factory=dict, doc="Minimum proportion per source (default 0).")
    upper: dict[str, float] = field(factory=dict, doc="Maximum proportion per source (default 1).")
    compare: dict[str, dict[str, float]] = field(factory=dict, doc=(
        "Reference mixtures to predict beside the choice, `{even: {web: 0.5, code: 0.5}}`."))
    eps: float = field(default=0.05, validator=positive, doc=(
        "Entropic regularisation of the OT distance, relative to the largest squared distance."))
    n_starts: int = field(default=16, validator=at_least(1), doc="Projected-gradient starts.")
    steps: int = field(default=150, validator=at_least(1), doc="Iterations for every start.")

    def check(self, spec, registry) -> List[tuple]:
        named = [(("dataset",), self.dataset), (("validation",), self.validation)]
        named += [(("sources", s), d) for s, d in self.sources.items()]
        out: List[tuple] = [] if self.sources else [
            (("sources",), "give at least one source: `{name: dataset of its samples}`")]
        for n, by_size in self.sources_by_size.items():
            key = int(n) if float(n).is_integer() else n  # as written: `1000`, not `1000.0`
            if self.pilot_sizes and n not in self.pilot_sizes:
                out.append((("sources_by_size", key), f"{n:g} is not one of `pilot_sizes` ("
                            f"{', '.join(f'{v:g}' for v in self.pilot_sizes)}); key the datasets "
                            "by a pilot size"))
            for s, f in by_size.items():
                if s not in self.sources:
                    out.append((("sources_by_size", key, s), f"source {s!r}"
                                f"{closest(s, list(self.sources))} is not in `sources` "
                                f"({', '.join(self.sources)}); list every source in `sources`"))
                else:
                    named.append((("sources_by_size", key, s), f))
        for which in ("lower", "upper"):
            for s in getattr(self, which):
                if s not in self.sources:
                    out.append(((which, s), f"source {s!r}{closest(s, list(self.sources))} is not in "
                                f"`sources` ({', '.join(self.sources)})"))
        if self.pilot_sizes and (len(self.pilot_sizes) != 2
                                 or len(set(self.pilot_sizes)) != 2
                                 or min(self.pilot_sizes) <= 0):
            out.append((("pilot_sizes",), f"expected two different sizes > 0, got "
                        f"{list(self.pilot_sizes)}"))
        return unknown_datasets(spec, named) + out

    def _sizes(self, pilots: Pilots, source: str) -> Tuple[float, float]:
        present = sorted(set(float(v) for v in pilots.size))
        if self.pilot_sizes:
            n1, n2 = sorted(float(v) for v in self.pilot_sizes)
            for n in (n1, n2):
                if n not in present:
                    raise DataError(f"no pilot run at size {n:g} (`pilot_sizes`); the sizes in column "
                                    f"{self.size_column!r} are {', '.join(f'{v:g}' for v in present)}",
                                    source=source, column=self.size_column)
            return n1, n2
        if len(present) != 2:
            raise DataError(f"projektor fits the model at two pilot sizes; column "
                            f"{self.size_column!r} has {len(present)} ("
                            f"{', '.join(f'{v:g}' for v in present)}); name the two with "
                            "`pilot_sizes: [N1, N2]`", source=source, column=self.size_column)
        return present[0], present[1]

    def _clouds(self, ctx, names, sizes, source: str):
        """One :class:`.projektor.Clouds` for both sizes, or (with ``sources_by_size``) one per
        size; and the notes on the samples."""
        from . import projektor as pj

        for n in self.sources_by_size:
            if n not in sizes:
                raise DataError(f"sources_by_size: {n:g} is not a pilot size (the pilot sizes are "
                                f"{', '.join(f'{v:g}' for v in sizes)}); key the datasets by N1 or "
                                "N2", source=source, column=self.size_column)
        val = features(ctx.table(self.validation))

        def cloud(datasets: Dict[str, str], key: str):
            feats = []
            for s in names:
                table = ctx.table(datasets[s])  # loaded once per dataset, however often named
                f = features(table)
                if f.shape[1] != val.shape[1]:
                    raise DataError(f"source {s!r} ({key}) has {f.shape[1]} features per sample but "
                                    f"the validation set ({self.validation}) has {val.shape[1]}",
                                    source=table.source)
                feats.append(f)
            return pj.make_clouds(feats, val), feats

        if not self.sources_by_size:
            clouds, feats = cloud(dict(self.sources), "`sources`")
            return [clouds], [f"{len(f)} revealed samples of {s}" for s, f in zip(names, feats)] + [
                f"{len(val)} validation samples"]
        out, notes = [], []
        for n in sizes:
            datasets = {**self.sources, **self.sources_by_size.get(n, {})}
            clouds, feats = cloud(datasets, f"`sources_by_size` at {n:g}")
            out.append(clouds)
            notes.append(f"N = {n:g}: " + ", ".join(f"{len(f)} revealed samples of {s}"
                                                   for s, f in zip(names, feats)))
        return out, notes + [f"{len(val)} validation samples (shared by both sizes); OT distance and "
                             "fit per size, predictions mapped in ln N"]

    def run(self, ctx, name: str) -> SelectSourcesResult:
        from . import projektor as pj

        names = list(self.sources)
        table = ctx.table(self.dataset)
        pilots = load_pilots(table, names, self.source_columns, self.size_column,
                             self.performance_column)
        n1, n2 = self._sizes(pilots, table.source)
        clouds, data_notes = self._clouds(ctx, names, (n1, n2), table.source)
        eps = float(self.eps)
        target = float(self.target_size)
        # ots[k]: the OT distance of every pilot mixture to size k's revealed samples.
        ots = [np.asarray(pj.ot_distances(pilots.p, c, eps=eps).value) for c in clouds]
        own = dict(zip((n1, n2), ots if len(ots) == 2 else ots * 2))
        if len(ots) == 1:
            ot = ots[0]
        else:  # each run's own size; runs at other sizes: the log-N mapping of both distances
            w1, w2 = pj.size_weights(pilots.size, n1, n2)
            ot = np.asarray(w1) * own[n1] + np.asarray(w2) * own[n2]
            for n in (n1, n2):
                ot = np.where(pilots.size == n, own[n], ot)
        fits = {}
        for n in (n1, n2):
            mask = pilots.size == n
            fits[n] = pj.fit_coefficients(pilots.p[mask], own[n][mask], pilots.performance[mask],
                                          size=n)
        lower = per_source(self.lower, names, 0.0, "lower")
        upper = per_source(self.upper, names, 1.0, "upper")
        options = dict(lower=lower, upper=upper, maximise=self.goal == "maximise",
                       n_starts=int(self.n_starts), steps=int(self.steps), seed=ctx.seed, eps=eps,
                       names=names)
        theta: Optional[Any] = None
        ot_by_size: Optional[Dict[float, Dict[str, Any]]] = None
        if len(clouds) == 1:
            theta = pj.interpolate(fits[n1].theta, fits[n2].theta, target, n1, n2)
            sel = pj.select(theta, clouds[0], **options)
            sel_ot, sel_grad = float(sel.ot.value), np.asarray(sel.ot.calibrated)
        else:
            sel = pj.select_mapped(fits[n1].theta, clouds[0], fits[n2].theta, clouds[1], target,
                                   n1, n2, **options)
            w1, w2 = (float(w) for w in pj.size_weights(target, n1, n2))
            sel_ot = w1 * float(sel.ots[0].value) + w2 * float(sel.ots[1].value)
            sel_grad = w1 * np.asarray(sel.ots[0].calibrated) + w2 * np.asarray(sel.ots[1].calibrated)
            ot_by_size = {n: {"ot": float(o.value), "ot_gradient": dict(zip(names, np.asarray(
                o.calibrated)))} for n, o in zip((n1, n2), sel.ots)}
        held = self._held_out(pilots, own, fits, n1, n2)
        comparisons = self._compare(fits, clouds, names, eps, n1, n2)
        return SelectSourcesResult(
            name=name, dataset=self.dataset, sources=tuple(names), goal=self.goal,
            sizes=(n1, n2), target_size=target, eps=eps,
            fits={n: _fit_summary(f, names) for n, f in fits.items()},
            theta=None if theta is None else _theta_dict(theta, names),
            proportions=np.asarray(sel.p), predicted=float(sel.predicted), ot=sel_ot,
            ot_gradient=sel_grad, stationarity=float(sel.stationarity),
            lower=lower, upper=upper, at_lower=np.asarray(sel.at_lower),
            at_upper=np.asarray(sel.at_upper), n_starts=int(self.n_starts),
            start_spread=float(np.ptp(np.asarray(sel.start_values))),
            pilots={"p": pilots.p, "size": pilots.size, "performance": pilots.performance,
                    "ot": ot, "fitted": _fitted(pilots, own, fits, n1, n2)},
            held_out=held, comparisons=comparisons, ot_by_size=ot_by_size,
            notes=list(pilots.notes) + data_notes)

    def _held_out(self, pilots: Pilots, own, fits, n1, n2) -> Optional[Dict[str, Any]]:
        """Runs at sizes other than N1, N2: the projection's error on them."""
        from . import projektor as pj

        mask = (pilots.size != n1) & (pilots.size != n2)
        if not mask.any():
            return None
        # The log-N mapping of both sizes' predictions, every run at once (with one set of samples
        # own[n1] is own[n2], and this equals predicting with the interpolated coefficients).
        pred = np.asarray(pj.predict_mapped(fits[n1].theta, fits[n2].theta, pilots.p[mask],
                                            own[n1][mask], own[n2][mask], pilots.size[mask], n1, n2))
        err = pred - pilots.performance[mask]
        return {"n": int(mask.sum()), "sizes": sorted(set(float(v) for v in pilots.size[mask])),
                "mae": float(np.mean(np.abs(err))), "max_abs_error": float(np.max(np.abs(err))),
                "rows": [int(r) for r in pilots.rows[mask]], "predicted": pred,
                "observed": pilots.performance[mask]}

    def _compare(self, fits, clouds, names, eps, n1, n2) -> List[Dict[str, Any]]:
        from . import projektor as pj

        mixes = {"uniform": {s: 1.0 / len(names) for s in names}}
        for label, mix in self.compare.items():
            bad = [s for s in mix if s not in names]
            if bad:
                raise DataError(f"compare.{label}: source {bad[0]!r}{closest(bad[0], names)} is not "
                                f"in `sources` ({', '.join(names)})")
            mixes[label] = mix
        target = float(self.target_size)
        w1, w2 = (float(w) for w in pj.size_weights(target, n1, n2))
        out = []
        for label, mix in mixes.items():
            r = np.array([float(mix.get(s, 0.0)) for s in names])
            if abs(r.sum() - 1.0) > ROW_SUM_TOLERANCE or np.any(r < 0):
                raise DataError(f"compare.{label}: the proportions sum to {r.sum():.6g}; give a "
                                "mixture summing to one")
            r = r / r.sum()
            ws = [float(pj.ot_distance(r, c, eps=eps).value) for c in clouds]
            # With one set of samples ws[0] is ws[-1]: the mapping of the coefficients.
            entry: Dict[str, Any] = {"predicted": float(pj.predict_mapped(
                fits[n1].theta, fits[n2].theta, r, ws[0], ws[-1], target, n1, n2))}
            if len(ws) == 1:
                entry["ot"] = ws[0]
            else:
                entry.update(ot=w1 * ws[0] + w2 * ws[1],
                             ot_by_size={f"{n1:g}": ws[0], f"{n2:g}": ws[1]})
            out.append({"name": label, "proportions": dict(zip(names, r)), **entry})
        return out


def _theta_dict(theta, names) -> Dict[str, Any]:
    t = {k: np.asarray(v) for k, v in theta._asdict().items()}
    return {"b2": dict(zip(names, t["b2"])), "b1": dict(zip(names, t["b1"])), "b0": float(t["b0"]),
            "c2": dict(zip(names, t["c2"])), "c1": dict(zip(names, t["c1"])), "c0": float(t["c0"])}


def _fit_summary(fit, names) -> Dict[str, Any]:
    return {"coefficients": _theta_dict(fit.theta, names), "rmse": fit.rmse,
            "max_abs_error": fit.max_abs_error, "condition": fit.condition, "n_runs": fit.n_runs}


def _fitted(pilots: Pilots, own, fits, n1, n2) -> np.ndarray:
    """Each fitted run's model value at its size, with that size's OT distances ``own[n]``."""
    from . import projektor as pj

    out = np.full(len(pilots.size), np.nan)
    for n in (n1, n2):
        mask = pilots.size == n
        out[mask] = np.asarray(pj.predict(fits[n].theta, pilots.p[mask], own[n][mask]))
    return out


@attrs.frozen(kw_only=True, eq=False)
class SelectSourcesResult:
    """The fitted per-size models, their projection and the chosen mixture."""

    name: str
    dataset: str
    sources: tuple
    goal: str
    sizes: tuple
    target_size: float
    eps: float
    fits: Dict[float, Dict[str, Any]]
    theta: Optional[Dict[str, Any]]  # None with `sources_by_size` (predictions are mapped instead)
    proportions: np.ndarray
    predicted: float
    ot: float
    ot_gradient: np.ndarray
    stationarity: float
    lower: np.ndarray
    upper: np.ndarray
    at_lower: np.ndarray
    at_upper: np.ndarray
    n_starts: int
    start_spread: float
    pilots: Dict[str, np.ndarray]
    held_out: Optional[Dict[str, Any]] = None
    comparisons: List[Dict[str, Any]] = attrs.field(factory=list)
    notes: List[str] = attrs.field(factory=list)
    # With `sources_by_size`: {N_k: {"ot": W_k, "ot_gradient": {source: G_k}}} at the choice; `ot`
    # and `ot_gradient` then hold their log-N mapping to the target size.
    ot_by_size: Optional[Dict[float, Dict[str, Any]]] = None
    kind: ClassVar[str] = KIND

    def rows(self) -> List[Dict[str, Any]]:
        out = []
        labelled = [(f"N={n:g}", f["coefficients"]) for n, f in self.fits.items()]
        if self.theta is not None:
            labelled.append((f"N={self.target_size:g}", self.theta))
        for at, coef in labelled:
            for key in ("b2", "b1", "c2", "c1"):
                for s, v in coef[key].items():
                    out.append({"task": self.name, "law": "ot_projection",
                                "parameter": f"{key}[{s}]@{at}", "estimate": float(v)})
        for s, v in zip(self.sources, self.proportions):
            out.append({"task": self.name, "law": "selection", "parameter": f"p[{s}]",
                        "estimate": float(v)})
        return out

    def to_json(self) -> Dict[str, Any]:
        from .projektor import FORMULA, REFERENCE

        return jsonable({
            "name": self.name, "kind": self.kind, "dataset": self.dataset,
            "law": "ot_projection", "formula": FORMULA, "reference": REFERENCE,
            "sources": list(self.sources), "goal": self.goal, "pilot_sizes": list(self.sizes),
            "target_size": self.target_size, "eps": self.eps,
            "fits": {f"{n:g}": f for n, f in self.fits.items()},
            "coefficients_at_target": self.theta,
            "selection": {"proportions": dict(zip(self.sources, self.proportions)),
                          "predicted": self.predicted, "ot": self.ot,
                          "ot_gradient": dict(zip(self.sources, self.ot_gradient)),
                          "stationarity": self.stationarity,
                          "lower": dict(zip(self.sources, self.lower)),
                          "upper": dict(zip(self.sources, self.upper)),
                          "active_lower": [s for s, a in zip(self.sources, self.at_lower) if a],
                          "active_upper": [s for s, a in zip(self.sources, self.at_upper) if a],
                          "n_starts": self.n_starts, "start_spread": self.start_spread,
                          "ot_by_size": None if self.ot_by_size is None else {
                              f"{n:g}": v for n, v in self.ot_by_size.items()}},
            "held_out": self.held_out, "comparisons": self.comparisons, "notes": self.notes,
            "pilots": self.pilots,
        })

    @classmethod
    def from_json(cls, data: Dict[str, Any], registry=None) -> SelectSourcesResult:
        """The inverse of :meth:`to_json` (what the report and the figure need)."""
        names = tuple(data["sources"])
        sel = data["selection"]
        per = lambda d: np.array([float(d[s]) for s in names])  # noqa: E731
        held = data.get("held_out")
        by_size = sel.get("ot_by_size")
        if by_size:
            by_size = {float(n): v for n, v in by_size.items()}
        if held:
            held = {**held, "predicted": np.asarray(held["predicted"], dtype=float),
                    "observed": np.asarray(held["observed"], dtype=float)}
        return cls(
            name=data["name"], dataset=data["dataset"], sources=names, goal=data["goal"],
            sizes=tuple(float(v) for v in data["pilot_sizes"]),
            target_size=float(data["target_size"]), eps=float(data["eps"]),
            fits={float(n): f for n, f in data["fits"].items()},
            theta=data["coefficients_at_target"], proportions=per(sel["proportions"]),
            predicted=float(sel["predicted"]), ot=float(sel["ot"]),
            ot_gradient=per(sel["ot_gradient"]), stationarity=float(sel["stationarity"]),
            lower=per(sel["lower"]), upper=per(sel["upper"]),
            at_lower=np.array([s in sel["active_lower"] for s in names]),
            at_upper=np.array([s in sel["active_upper"] for s in names]),
            n_starts=int(sel["n_starts"]), start_spread=float(sel["start_spread"]),
            pilots={k: np.asarray(v, dtype=float) for k, v in data["pilots"].items()},
            held_out=held, comparisons=data.get("comparisons", []), notes=data.get("notes", []),
            ot_by_size=by_size or None)


SelectSourcesTask.result_type = SelectSourcesResult  # rebuilt by `scalinglaws report`
