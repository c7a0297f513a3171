"""The `mixture_pipeline` task: Ye et al. 2024's nested step -> size -> mixing laws on checkpoints.

The data are in long format, one row per (checkpoint, validation domain): a model-size column, a
step column, a domain column, a loss column and one proportion column per training source (the
mixinglaws files give them through `extract` on the checkpoint path). The task pivots them to a
grid losses[size, mixture, domain, step] (:class:`~scalinglaws.mixture.pipeline.Curves`), runs
:func:`~scalinglaws.mixture.pipeline.run_pipeline` and reports the held-out error of every stage.
See :mod:`scalinglaws.mixture.pipeline` for the formulas and the choice for two model sizes.
"""

from __future__ import annotations

from typing import Any, ClassVar, Dict, List, Optional, Tuple

import attrs
import numpy as np

from ..errors import DataError, closest
from ..fields import field, non_negative, positive
from ..results import jsonable
from . import pipeline as pl
from .data import ROW_SUM_TOLERANCE, match_columns, unknown_datasets
from .fit_task import law_rows
from .laws import RecordedMixture


@attrs.frozen(kw_only=True)
class MixturePipelineTask:
    """Predict the loss of a held-out mixture at a target model size and step through the nested
    step, size and mixing laws of Ye et al. 2024 (arXiv:2403.16952)."""

    datasets: tuple[str, ...] = field(doc=(
        "One or more datasets of checkpoints (concatenated), one row per (checkpoint, validation "
        "domain), e.g. one dataset per model size."))
    size_column: str = field(default="N", doc="Column with the model size N.")
    step_column: str = field(default="step", doc="Column with the training step S.")
    domain_column: str = field(default="domain", doc="Column naming the validation domain.")
    loss_column: str = field(default="loss", doc="Column with the validation loss.")
    sources: tuple[str, ...] = field(factory=tuple, doc=(
        "Training sources; all columns matching `source_columns` when empty."))
    source_columns: str = field(default="r_{}", doc=(
        "Column of each source's proportion, `{}` standing for its name."))
    domains: tuple[str, ...] = field(factory=tuple, doc="Validation domains to use (all if empty).")
    target_step: float = field(validator=positive, doc="Step S* to predict at.")
    target_size: float = field(validator=positive, doc="Model size N* to predict at (unit of `size_column`).")
    fit_steps_max: float = field(validator=positive, doc=(
        "Step stage: fit the checkpoints with S <= this (the later ones score the extrapolation)."))
    fit_steps_min: float = field(default=0.0, validator=non_negative, doc=(
        "Step stage: ignore checkpoints before this step (the early, non-power-law phase)."))
    fit_sizes_max: Optional[float] = field(default=None, doc=(
        "Size stage: fit the sizes <= this (all when omitted); larger runs are only scored."))
    step_shared: tuple[str, ...] = field(factory=tuple, doc=(
        "Step-law parameters (E, B, beta) common to the mixtures of a (size, domain); `[beta]` as "
        "in the authors' code. Empty: every curve has its own three."))
    size_shared: tuple[str, ...] = field(default=("E", "alpha"), doc=(
        "Size-law parameters (E, A, alpha) common to the training mixtures of a domain. Two sizes "
        "give 2 points per curve, too few for 3 parameters: sharing E and alpha (A per mixture) "
        "makes 2 + M parameters from 2 M points."))
    size_fixed: dict[str, float] = field(factory=dict, doc=(
        "Size-law parameters held at given values, e.g. `{alpha: 0.3}`."))
    held_out: tuple[dict[str, float], ...] = field(factory=tuple, doc=(
        "Mixtures left out of every fit and predicted, by their proportions: "
        "`[{github: 0.5, pile_cc: 0.5}]` (sources not named are 0)."))
    leave_one_out: bool = field(default=False, doc=(
        "Also run the pipeline once per mixture, holding that one out."))

    def check(self, spec, registry) -> List[tuple]:
        out = unknown_datasets(spec, [(("datasets", i), d) for i, d in enumerate(self.datasets)])
        if not self.datasets:
            out.append((("datasets",), "give at least one dataset"))
        for key, allowed in (("step_shared", tuple(pl.STEP_NAMES)), ("size_shared", pl.SIZE_NAMES),
                             ("size_fixed", pl.SIZE_NAMES)):
            for n in getattr(self, key):
                if n not in allowed:
                    out.append(((key,), f"{n!r}{closest(n, allowed)} is not a parameter of the "
                                f"{key.split('_')[0]} law ({', '.join(allowed)})"))
        if not self.held_out and not self.leave_one_out:
            out.append((("held_out",), "nothing to predict: give `held_out` mixtures or "
                        "`leave_one_out: true`"))
        if self.fit_steps_min >= self.fit_steps_max:
            out.append((("fit_steps_min",), f"must be below fit_steps_max ({self.fit_steps_max:g})"))
        return out

    def config(self):
        return pl.PipelineConfig(
            target_step=float(self.target_step), target_size=float(self.target_size),
            fit_steps_max=float(self.fit_steps_max), fit_steps_min=float(self.fit_steps_min),
            fit_sizes_max=self.fit_sizes_max, step_shared=tuple(self.step_shared),
            size_shared=tuple(self.size_shared), size_fixed=dict(self.size_fixed))

    def run(self, ctx, name: str) -> MixturePipelineResult:
        curves, notes = self.curves([ctx.table(d) for d in self.datasets])
        held = self.held_out_indices(curves)
        main, loo = pl.run_pipeline(curves, self.config(), held, self.leave_one_out)
        return MixturePipelineResult(name=name, datasets=tuple(self.datasets), task=self,
                                     curves=curves, main=main, loo=loo, notes=notes)

    # --- long table -> grid ----------------------------------------------------------------
    def curves(self, tables) -> Tuple[Any, List[str]]:
        """The grid of losses of the concatenated ``tables`` (a DataError names a bad row)."""
        from ..laws.groups import group_label
        names: Optional[Tuple[str, ...]] = None
        recs: list = []  # (size, step, domain, r tuple, loss, (table, row))
        for t in tables:
            src, cols = match_columns(t.names, self.source_columns, self.sources, "source", t.source)
            if names is not None and tuple(src) != names:
                raise DataError(f"sources {', '.join(src)} differ from those of the first dataset "
                                f"({', '.join(names)}); list them in `sources:`", source=t.source)
            names = tuple(src)
            size = t.numeric(self.size_column, positive=True, why=" (model size)")
            step = t.numeric(self.step_column, positive=True, why=" (training step)")
            loss = t.numeric(self.loss_column, positive=True, why=" (validation loss)")
            dom = [group_label(v) for v in t[self.domain_column]]
            r = np.column_stack([t.numeric(c) for c in cols])
            for i in range(len(t)):
                recs.append((size[i], step[i], dom[i], _mixture(r[i], t, i), loss[i], (t, i)))
        assert names is not None
        present = {x[2] for x in recs}
        domains = tuple(self.domains) or tuple(sorted(present))
        unknown = [d for d in self.domains if d not in present]
        if unknown:
            raise DataError(f"domains: {unknown[0]!r} is not a value of column "
                            f"{self.domain_column!r}{closest(unknown[0], present)}")
        recs = [x for x in recs if x[2] in domains]
        sizes = sorted({x[0] for x in recs})
        steps = sorted({x[1] for x in recs})
        mixtures = sorted({x[3] for x in recs})
        index = [{v: k for k, v in enumerate(axis)} for axis in (sizes, mixtures, domains, steps)]
        losses = np.full((len(sizes), len(mixtures), len(domains), len(steps)), np.nan)
        seen: Dict[tuple, tuple] = {}
        for s, st, d, r, y, (t, i) in recs:
            key = tuple(ix[v] for ix, v in zip(index, (s, r, d, st)))
            if key in seen:
                t0, i0 = seen[key]
                raise DataError(f"a second loss for size {s:g}, mixture {r}, domain {d}, step "
                                f"{st:g} (the first is {t0.source} row {t0.row_label(i0)}); drop "
                                "duplicates with `where`", source=t.source, row=t.row_label(i))
            seen[key] = (t, i)
            losses[key] = y
        notes = [f"{len(recs)} checkpoint losses: {len(sizes)} sizes x {len(mixtures)} mixtures x "
                 f"{len(domains)} domains x {len(steps)} steps"
                 + (f" ({int(np.isnan(losses).sum())} missing)" if np.isnan(losses).any() else "")]
        return pl.Curves(sizes=np.asarray(sizes, dtype=np.float64),
                         mixtures=np.asarray(mixtures, dtype=np.float64), sources=names,
                         domains=domains, steps=np.asarray(steps, dtype=np.float64),
                         losses=losses), notes

    def held_out_indices(self, curves) -> List[int]:
        out = []
        for k, mix in enumerate(self.held_out):
            bad = [s for s in mix if s not in curves.sources]
            if bad:
                raise DataError(f"held_out[{k}]: source {bad[0]!r}{closest(bad[0], curves.sources)} "
                                f"is not among the sources ({', '.join(curves.sources)})")
            r = np.array([float(mix.get(s, 0.0)) for s in curves.sources])
            hit = np.flatnonzero(np.all(np.abs(curves.mixtures - r) < 1e-6, axis=1))
            if len(hit) == 0:
                raise DataError(f"held_out[{k}]: no runs with the mixture {dict(mix)}; the data "
                                f"have {', '.join(curves.labels)} ({'/'.join(curves.sources)})")
            out.append(int(hit[0]))
        return out


def _mixture(r: np.ndarray, table, i: int) -> tuple:
    """Proportions summing to one (renormalised within tolerance), rounded to name a mixture."""
    total = float(np.sum(r))
    if np.any(r < 0) or abs(total - 1.0) > ROW_SUM_TOLERANCE:
        raise DataError(f"the proportions {r.tolist()} must be >= 0 and sum to 1 (tolerance "
                        f"{ROW_SUM_TOLERANCE}); is a source column missing?", source=table.source,
                        row=table.row_label(i))
    return tuple(np.round(r / total, 9).tolist())


# --- the result --------------------------------------------------------------------------------


def _stage_errors(pred: np.ndarray, actual: np.ndarray, domains) -> Dict[str, Dict[str, float]]:
    """Errors per domain; the last axis of ``pred``/``actual`` is the domain."""
    return {d: pl.errors(pred[..., i], actual[..., i]) for i, d in enumerate(domains)}


@attrs.frozen(kw_only=True, eq=False)
class MixturePipelineResult:
    """The three stages of the main fold, its held-out errors, and the leave-one-out folds."""

    name: str
    datasets: Tuple[str, ...]
    task: MixturePipelineTask
    curves: Any  # pipeline.Curves
    main: Any  # pipeline.Fold
    loo: List[Any] = attrs.field(factory=list)
    notes: List[str] = attrs.field(factory=list)
    kind: ClassVar[str] = "mixture_pipeline"

    # --- numbers ------------------------------------------------------------------------------
    def summary(self) -> Dict[str, Dict[str, Dict[str, float]]]:
        """Errors by stage and domain: step extrapolation, size stage at the target, the held-out
        pipeline prediction, the mixing law alone on actual losses, and leave-one-out."""
        c, m, t = self.curves, self.main, self.task
        out = {"step": _stage_errors(m.step.predicted, m.step.actual, c.domains)}
        actual_train = c.at(t.target_size, t.target_step)[list(m.train)]
        out["size"] = _stage_errors(m.size.predicted, actual_train, c.domains)
        out["held_out"] = _stage_errors(m.predicted, m.actual, c.domains)
        if m.mixing_only is not None:
            out["mixing_only"] = _stage_errors(m.mixing_only, m.actual, c.domains)
        if self.loo:
            out["leave_one_out"] = _stage_errors(np.vstack([f.predicted for f in self.loo]),
                                                 np.vstack([f.actual for f in self.loo]), c.domains)
            if all(f.mixing_only is not None for f in self.loo):
                out["leave_one_out_mixing_only"] = _stage_errors(
                    np.vstack([f.mixing_only for f in self.loo]),
                    np.vstack([f.actual for f in self.loo]), c.domains)
        return out

    def _fold_json(self, f) -> Dict[str, Any]:
        c = self.curves
        return {"held_out": [c.labels[i] for i in f.test], "train": [c.labels[i] for i in f.train],
                "predicted": f.predicted, "actual": f.actual, "mixing_only": f.mixing_only}

    def to_json(self) -> Dict[str, Any]:
        c, m, t = self.curves, self.main, self.task
        step_rows = []
        for a, n in enumerate(m.step.sizes):
            for b, mi in enumerate(m.train):
                for i, d in enumerate(c.domains):
                    step_rows.append({"size": n, "mixture": c.labels[mi], "domain": d,
                                      **m.step.params[a][b][i],
                                      "predicted": m.step.predicted[a, b, i],
                                      "actual": m.step.actual[a, b, i]})
        return jsonable({
            "name": self.name, "kind": self.kind, "datasets": list(self.datasets),
            "reference": pl.REFERENCE, "formulas": pl.FORMULAS,
            "config": {k: getattr(t, k) for k in (
                "target_step", "target_size", "fit_steps_max", "fit_steps_min", "fit_sizes_max",
                "step_shared", "size_shared", "size_fixed", "leave_one_out")},
            "sources": list(c.sources), "domains": list(c.domains), "sizes": c.sizes,
            "steps": c.steps, "mixtures": list(c.labels), "notes": self.notes,
            "stages": {
                "step": step_rows,
                "size": {"params": dict(zip(c.domains, m.size.params)), "skipped": m.size.skipped,
                         "predicted": m.size.predicted},
                "mixing": {"params": m.mixing.paper_params(), "diagnostics": m.mixing.diagnostics},
            },
            "fold": self._fold_json(m),
            "leave_one_out": [self._fold_json(f) for f in self.loo],
            "errors": self.summary(),
            # What `scalinglaws report` needs to redraw the report and the figure.
            "replay": {"task": attrs.asdict(t), "mixture_proportions": c.mixtures,
                       "losses": c.losses, "folds": [_fold_state(f) for f in [m, *self.loo]]},
        })

    @classmethod
    def from_json(cls, data: Dict[str, Any], registry=None) -> MixturePipelineResult:
        """The inverse of :meth:`to_json`, for re-rendering the report and the figure."""
        replay = data["replay"]
        options: Dict[str, Any] = {k: tuple(v) if isinstance(v, list) and k != "held_out" else v
                                   for k, v in replay["task"].items()}
        options["held_out"] = tuple(options.get("held_out") or ())
        curves = pl.Curves(sizes=_floats(data["sizes"]),
                           mixtures=_floats(replay["mixture_proportions"]),
                           sources=tuple(data["sources"]), domains=tuple(data["domains"]),
                           steps=_floats(data["steps"]), losses=_floats(replay["losses"]))
        folds = [_fold_from_state(f) for f in replay["folds"]]
        return cls(name=data["name"], datasets=tuple(data["datasets"]),
                   task=MixturePipelineTask(**options), curves=curves, main=folds[0],
                   loo=folds[1:], notes=list(data.get("notes", [])))

    def rows(self) -> List[Dict[str, Any]]:
        """params.csv: the size and mixing laws of the main fold, and every step-law curve."""
        c, m = self.curves, self.main
        out: List[Dict[str, Any]] = []

        def add(law, parameter, value):
            out.append({"task": self.name, "law": law, "parameter": parameter,
                        "estimate": float(value)})

        for a, n in enumerate(m.step.sizes):
            for b, mi in enumerate(m.train):
                for i, d in enumerate(c.domains):
                    for k, v in m.step.params[a][b][i].items():
                        add("step", f"{k}[{n:g},{c.labels[mi]},{d}]", v)
        for d, p in zip(c.domains, m.size.params):
            for k, v in p.items():
                if isinstance(v, dict):
                    for lb, x in v.items():
                        add("size", f"{k}[{d},{lb}]", x)
                else:
                    add("size", f"{k}[{d}]", v)
        return out + law_rows(self.name, "mixing_exp", m.mixing.paper_params())


def _floats(value) -> np.ndarray:
    """JSON lists (None for NaN) back to float64 arrays."""
    return np.array(value, dtype=np.float64)


def _fold_state(f) -> Dict[str, Any]:
    return {"train": list(f.train), "test": list(f.test),
            "step": {"sizes": f.step.sizes, "params": f.step.params,
                     "predicted": f.step.predicted, "actual": f.step.actual},
            "size": {"params": f.size.params, "predicted": f.size.predicted,
                     "skipped": f.size.skipped},
            "mixing": {"params": f.mixing.paper_params(), "diagnostics": f.mixing.diagnostics},
            "predicted": f.predicted, "actual": f.actual, "mixing_only": f.mixing_only}


def _fold_from_state(d: Dict[str, Any]):
    st, sz = d["step"], d["size"]
    return pl.Fold(train=tuple(d["train"]), test=tuple(d["test"]),
                   step=pl.StepStage(sizes=_floats(st["sizes"]), params=st["params"],
                                     predicted=_floats(st["predicted"]), actual=_floats(st["actual"])),
                   size=pl.SizeStage(params=sz["params"], predicted=_floats(sz["predicted"]),
                                     skipped=bool(sz["skipped"])),
                   mixing=RecordedMixture(params=d["mixing"]["params"],
                                          diagnostics=d["mixing"]["diagnostics"]),
                   predicted=_floats(d["predicted"]), actual=_floats(d["actual"]),
                   mixing_only=None if d["mixing_only"] is None else _floats(d["mixing_only"]))


MixturePipelineTask.result_type = MixturePipelineResult  # rebuilt by `scalinglaws report`
