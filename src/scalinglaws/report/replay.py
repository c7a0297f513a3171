"""Re-render report.md and the plots of a run from its results.json alone (`scalinglaws report`).

Tasks are rebuilt from their JSON: fits (and the fits behind `predict` and `allocate`) get their
law from the registry and their parameters, data and bootstrap draws (the first 200 are kept in
results.json) from the file, so the plots are the run's plots, bands included (drawn from the kept
draws). A task whose law cannot be rebuilt (a grouped law, an unregistered family) or whose kind
this module does not know still gets a section in report.md, without plots, unless its task
class offers ``result_from_json(data, registry)`` (see :func:`rebuild_task`).
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, List, Optional

import attrs
import numpy as np

from ..uncertainty import Uncertainty


def _law_stub(fit_json: Dict[str, Any]):
    return SimpleNamespace(name=fit_json["law"], formula=fit_json.get("formula", ""),
                           reference=fit_json.get("reference", ""), inputs=(), grouping=None,
                           param_names=tuple(fit_json["params"]), aliases={})


def _family(law_spec: Dict[str, Any], registry):
    """The law the task fitted, or None when it cannot be rebuilt from the spec alone."""
    from ..spec.model import LawSpec
    from ..tasks.fit import resolve_law

    if not law_spec or law_spec.get("groups") or law_spec.get("expression"):
        return None
    try:
        keys = ("family", "inputs", "target", "fixed", "tie")
        return resolve_law(LawSpec(**{k: law_spec[k] for k in keys if k in law_spec}), registry)
    except Exception:
        return None


def _fit(fit_json: Optional[Dict[str, Any]], law_spec, registry):
    from ..results import FitResult

    if fit_json is None:
        return None, False
    family = _family(law_spec, registry)
    params = {k: float(v) for k, v in fit_json["params"].items()}
    usable = family is not None and set(family.param_names) <= set(params)
    if usable:  # results.json sorts keys; restore the law's order
        order = list(family.param_names) + list(family.aliases)
        params = {k: params[k] for k in sorted(params, key=lambda k: (
            order.index(k) if k in order else len(order), k))}
    law = family if usable else _law_stub(fit_json)
    theta = family.to_fit(params) if usable else np.array(list(params.values()))
    unc = Uncertainty.from_json(fit_json.get("uncertainty"))
    if unc is not None:
        derived_order = ["a", "b", "G"]
        unc = attrs.evolve(
            unc, params={k: unc.params[k] for k in params if k in unc.params},
            derived={k: unc.derived[k] for k in sorted(unc.derived, key=lambda k: (
                derived_order.index(k) if k in derived_order else 9, k))})
    fit = FitResult(law=law, params=params, theta=theta, objective=fit_json["objective"],
                    n_points=fit_json["n_points"], n_starts=fit_json["n_starts"],
                    n_polished=fit_json["n_polished"], n_at_best=fit_json["n_at_best"],
                    converged=fit_json["converged"], iterations=fit_json["iterations"],
                    estimator=fit_json.get("estimator", {}), uncertainty=unc,
                    **_extra_fields(fit_json))
    return fit, usable


def _extra_fields(fit_json) -> Dict[str, Any]:
    """FitResult fields beyond the core ones that results.json carries (e.g. diagnostics)."""
    from ..results import FitResult

    names = {f.name for f in attrs.fields(FitResult)}
    return {k: fit_json[k] for k in ("diagnostics",) if k in names and fit_json.get(k) is not None}


def _data(task_json):
    data = task_json.get("data") or {}
    inputs = {k: np.asarray(v, dtype=float) for k, v in (data.get("inputs") or {}).items()}
    return inputs, np.asarray(data.get("target") or [], dtype=float)


class _NoFigures:
    """Wraps a rebuilt task whose law could not be rebuilt: a report section, no plots."""

    def __init__(self, task):
        self._task = task

    def __getattr__(self, name):
        return getattr(self._task, name)

    def figures(self):
        return {}


class _Generic:
    """A task kind this module does not rebuild: its name, kind and top-level numbers."""

    def __init__(self, data: Dict[str, Any]):
        self.data = data
        self.name = data.get("name", "?")
        self.kind = data.get("kind", "?")

    def figures(self):
        return {}

    def markdown(self, images=frozenset()) -> List[str]:
        lines = [f"## Task `{self.name}` ({self.kind})", "",
                 "Re-rendered from results.json, which holds this task's full result; scalars:", ""]
        for k, v in self.data.items():
            if isinstance(v, (int, float, str, bool)) and k not in ("name", "kind"):
                lines.append(f"- {k}: {v}")
        return lines + [""]


def rebuild_task(data: Dict[str, Any], registry):
    from ..spec.model import LawSpec
    from ..tasks.allocate import AllocateResult
    from ..tasks.fit import FitTaskResult
    from ..tasks.predict import PredictResult

    kind = data.get("kind")
    if kind not in ("fit", "predict", "allocate"):
        # Opt-in protocol for other tasks: the task class (as registered) may offer
        # `result_from_json(data, registry)` returning an object with markdown()/figures().
        reg = getattr(registry, "tasks", {}).get(kind)
        loader = getattr(getattr(reg, "obj", None), "result_from_json", None)
        if loader is not None:
            try:
                return loader(data, registry)
            except Exception:  # an old or foreign results.json: fall back to the summary
                pass
        return _Generic(data)
    law_spec = data.get("law_spec") or {}
    fit, usable = _fit(data.get("fit"), law_spec, registry)
    labels = {k: tuple(v) for k, v in ((data.get("data") or {}).get("labels") or {}).items()}
    if fit is not None and labels:  # the fit takes run names again, as in the run
        fit = attrs.evolve(fit, labels=labels)
    inputs, target = _data(data)
    law: Any
    try:
        law = LawSpec(**{k: v for k, v in law_spec.items()
                         if k in ("family", "target", "inputs", "fixed", "tie")})
    except Exception:
        law = SimpleNamespace(target=law_spec.get("target", "loss"))
    task: Any
    common = dict(name=data["name"], dataset=data["dataset"], law=law, fit=fit)
    if kind == "fit":
        task = FitTaskResult(**common, inputs=inputs, target=target, truth=data.get("truth"),
                             notes=data.get("notes", []), labels=labels)
    elif kind == "predict":
        task = PredictResult(**common, predictions=data["predictions"], noise=data["noise"],
                             inputs=inputs, target=target, notes=data.get("notes", []))
    else:
        task = AllocateResult(**common, budgets=np.asarray(data["budgets"], dtype=float),
                              allocations=data["allocations"], method=data.get("method"),
                              slices=data.get("slices", []), notes=data.get("notes", []),
                              data_notes=data.get("data_notes", []), inputs=inputs,
                              target=target, level=data.get("level", 0.95))
    if not usable and fit is not None:
        return _NoFigures(task)
    return task


def load_results(path, registry):
    """A RunResult-like object from results.json: what the markdown and plot reporters read."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    spec = data.get("spec", {})
    spec_view = SimpleNamespace(name=spec.get("name", ""), description=spec.get("description", ""),
                                file=spec.get("file"), digest=spec.get("sha256", ""),
                                seed=data.get("seed"))
    tasks = [rebuild_task(t, registry) for t in data.get("tasks", [])]
    first = ["python", "scalinglaws", "jax", "jaxlib", "numpy", "optax"]
    raw = data.get("versions", {})
    versions = {k: raw[k] for k in sorted(raw, key=lambda k: (
        first.index(k) if k in first else len(first), k))}
    return SimpleNamespace(spec=spec_view, tasks=tasks, versions=versions,
                           elapsed_s=float(data.get("elapsed_s", 0.0)),
                           schema_version=data.get("schema_version"))


def rerender(out_dir, registry=None) -> List[str]:
    """Rewrite OUT/report.md and the plots from OUT/results.json; returns the files written."""
    from ..plugins import get_registry
    from . import files

    out = Path(out_dir)
    registry = registry if registry is not None else get_registry()
    result = load_results(out / "results.json", registry)
    written = files.plots(result, out)
    written += files.report_md(result, out)
    return written
