"""Re-render report.md and the plots of a run from its results.json alone (`scalinglaws report`).

Every task entry is rebuilt by its result type's ``from_json`` (the
:class:`~scalinglaws.results.TaskResult` protocol), found by the entry's ``kind`` among the
``result_type`` attributes of the registered task classes, built-in and plugin alike. The fits
behind `fit`, `predict` and `allocate` take their law from the registry and their parameters,
data and bootstrap draws (the first 200 are kept in results.json) from the file, so the plots are
the run's plots, bands included. An entry whose kind no registered task names (or whose result
type cannot read it) still gets a section in report.md: its name, kind and scalars.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

import attrs

from . import files


@attrs.frozen(kw_only=True)
class RecordedSpec:
    """The spec as results.json records it: what report.md's title and reproducibility say."""

    name: str = ""
    description: str = ""
    file: Optional[str] = None
    digest: str = ""
    seed: Optional[int] = None


@attrs.frozen(kw_only=True)
class RecordedRun:
    """A run rebuilt from results.json: what the markdown and plot reporters read."""

    spec: RecordedSpec
    tasks: List[Any]
    versions: Dict[str, str]
    elapsed_s: float
    schema_version: Optional[int] = None


@attrs.frozen(kw_only=True)
class UnknownResult:
    """A results.json entry of a kind no registered task names: its name, kind and scalars."""

    data: Dict[str, Any]

    @property
    def kind(self) -> str:
        return self.data.get("kind", "?")

    @property
    def name(self) -> str:
        return self.data.get("name", "?")

    def to_json(self) -> Dict[str, Any]:
        return self.data

    def rows(self) -> List[Dict[str, Any]]:
        return []

    @classmethod
    def from_json(cls, data: Mapping[str, Any], registry: Any = None) -> UnknownResult:
        return cls(data=dict(data))

    def figures(self) -> Dict[str, Any]:
        return {}

    def markdown(self, images=frozenset()) -> List[str]:
        lines = [f"## Task `{self.name}` ({self.kind})", "",
                 "Re-rendered from results.json, which holds this task's full result; scalars:", ""]
        for k, v in self.data.items():
            if isinstance(v, (int, float, str, bool)) and k not in ("name", "kind"):
                lines.append(f"- {k}: {v}")
        return lines + [""]


def result_types(registry) -> Dict[str, type]:
    """kind -> result type, from the ``result_type`` of every registered task class."""
    out: Dict[str, type] = {}
    for reg in registry.tasks.values():
        result_type = getattr(reg.obj, "result_type", None)  # optional for plugin tasks
        if result_type is not None:
            out.setdefault(result_type.kind, result_type)
    return out


def rebuild_task(data: Dict[str, Any], registry, types: Optional[Dict[str, type]] = None):
    """The result of one results.json entry, through its type's ``from_json``."""
    types = result_types(registry) if types is None else types
    result_type = types.get(data.get("kind"))
    if result_type is not None:
        try:
            return result_type.from_json(data, registry)
        except Exception:  # an old or foreign results.json: fall back to the summary
            pass
    return UnknownResult.from_json(data)


def load_results(path, registry) -> RecordedRun:
    """The run recorded in results.json, its tasks rebuilt (:func:`rebuild_task`)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    spec = data.get("spec", {})
    recorded = RecordedSpec(name=spec.get("name", ""), description=spec.get("description", ""),
                            file=spec.get("file"), digest=spec.get("sha256", ""),
                            seed=data.get("seed"))
    types = result_types(registry)
    tasks = [rebuild_task(t, registry, types) for t in data.get("tasks", [])]
    first = ["python", "scalinglaws", "jax", "jaxlib", "numpy", "optax"]
    raw = data.get("versions", {})
    versions = {k: raw[k] for k in sorted(raw, key=lambda k: (
        first.index(k) if k in first else len(first), k))}
    return RecordedRun(spec=recorded, tasks=tasks, versions=versions,
                       elapsed_s=float(data.get("elapsed_s", 0.0)),
                       schema_version=data.get("schema_version"))


def rerender(out_dir, registry) -> List[str]:
    """Rewrite OUT/report.md and the plots from OUT/results.json, with the task kinds of
    ``registry`` (the plugin registry, e.g. ``scalinglaws.plugins.get_registry()``); returns the
    files written."""
    out = Path(out_dir)
    result = load_results(out / "results.json", registry)
    written = files.plots(result, out)
    written += files.report_md(result, out)
    return written
