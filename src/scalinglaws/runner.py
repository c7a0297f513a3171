"""Running a spec: load data, run each task, hand the results to the reporters, atomically."""

from __future__ import annotations

import os
import platform
import shutil
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

import attrs

from .core import enable_float64
from .data.table import Table
from .data.transforms import prepare_table
from .errors import ScalingLawsError
from .plugins import get_registry
from .spec.model import Spec
from .spec.structure import load_spec

RESULTS_SCHEMA_VERSION = 3  # 2: fit.uncertainty, task data, predict and allocate results;
#                            3: allocate.frontier, mixture_fit.evaluation_order (readers accept 2)


@attrs.define
class RunContext:
    """What tasks and data sources see: the spec, the registry, the seed and the loaded tables."""

    spec: Spec
    registry: Any
    tables: Dict[str, Table] = attrs.Factory(dict)
    dataset: str = ""

    @property
    def seed(self) -> int:
        return self.spec.seed

    @property
    def base_dir(self) -> str:
        return self.spec.base_dir

    def table(self, name: str) -> Table:
        """The named dataset, loaded once, then renamed, derived and filtered as the spec says."""
        if name not in self.tables:
            ds = self.spec.datasets[name]
            self.dataset = name
            self.tables[name] = prepare_table(ds.options.load(self), ds)
        return self.tables[name]


@attrs.frozen(kw_only=True, eq=False)
class RunResult:
    """Everything a run produced; reporters turn it into files."""

    spec: Spec
    tasks: List[Any]
    versions: Dict[str, str]
    elapsed_s: float

    def to_json(self) -> Dict[str, Any]:
        return {
            "schema_version": RESULTS_SCHEMA_VERSION,
            "spec": {"name": self.spec.name, "description": self.spec.description,
                     "file": self.spec.file, "sha256": self.spec.digest},
            "seed": self.spec.seed,
            "versions": self.versions,
            "elapsed_s": round(self.elapsed_s, 3),
            "tasks": [t.to_json() for t in self.tasks],
        }


def versions() -> Dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in ("scalinglaws", "jax", "jaxlib", "numpy", "optax"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def execute(spec: Spec, registry) -> RunResult:
    """Run every task of ``spec`` in order (in float64: the tasks simulate, fit and predict)."""
    enable_float64()  # the one switch for a run, before any task makes arrays
    start = time.perf_counter()
    ctx = RunContext(spec=spec, registry=registry)
    results = [task.options.run(ctx, task.name) for task in spec.tasks]
    return RunResult(spec=spec, tasks=results, versions=versions(),
                     elapsed_s=time.perf_counter() - start)


def write_outputs(result: RunResult, out_dir: Union[str, Path], registry,
                  reporters: Optional[List[str]] = None) -> List[str]:
    """Run the reporters into a temporary sibling folder, then swap it into place.

    A reporter that fails leaves nothing behind: the temporary folder is removed and any previous
    output folder is untouched.
    """
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    names = reporters if reporters is not None else list(registry.reporters)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    written: List[str] = []
    try:
        for name in names:
            written += registry.reporters[name].obj(result, tmp)
        old = None
        if out_dir.exists():
            old = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}-{time.time_ns()}"
            os.replace(out_dir, old)
        os.replace(tmp, out_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return written


def run(spec: Union[Spec, str, Path], *, out: Union[str, Path, None, bool] = None,
        registry=None) -> RunResult:
    """Load (if needed) and run a spec; write outputs to ``out`` (the spec's `output.dir` when
    None; nothing when False)."""
    registry = registry if registry is not None else get_registry()
    if not isinstance(spec, Spec):
        spec = load_spec(spec, registry)
    result = execute(spec, registry)
    if out is not False:
        target = spec.output.dir if out is None or out is True else out
        reporters = list(spec.output.reporters) if spec.output.reporters is not None else None
        write_outputs(result, target, registry, reporters)
    return result


__all__ = ["RunContext", "RunResult", "execute", "run", "write_outputs", "ScalingLawsError"]
