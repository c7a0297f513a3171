"""The built-in reporters. Each writes into the (temporary) output folder and names its files."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import List

from . import presenters
from .plots import save


def results_json(result, out: Path) -> List[str]:
    """results.json: the stable, versioned record of the run (``schema_version``)."""
    text = json.dumps(result.to_json(), indent=2, sort_keys=True, allow_nan=False)
    (out / "results.json").write_text(text + "\n", encoding="utf-8")
    return ["results.json"]


PARAMS_COLUMNS = ["task", "law", "parameter", "estimate", "se", "lower", "upper", "truth", "rel_error"]


def params_csv(result, out: Path) -> List[str]:
    """params.csv: one row per fitted parameter of every task that fits a law."""
    with (out / "params.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=PARAMS_COLUMNS)
        writer.writeheader()
        for task in result.tasks:
            for row in task.rows():  # scalinglaws.results.TaskResult
                writer.writerow({k: (f"{v:.10g}" if isinstance(v, float) else v)
                                 for k, v in row.items()})
    return ["params.csv"]


def report_md(result, out: Path) -> List[str]:
    """report.md: a readable summary with the fitting checklist of every task."""
    images = {p.name for p in out.glob("*.png")}
    (out / "report.md").write_text(render(result, images), encoding="utf-8")
    return ["report.md"]


def plots(result, out: Path) -> List[str]:
    """Every task's figures (:func:`scalinglaws.report.presenters.figures`), as PNG files."""
    written = []
    for task in result.tasks:
        for name, fig in presenters.figures(task).items():
            save(fig, out / name)
            written.append(name)
    return written


def render(result, images=frozenset()) -> str:
    """report.md's text: the spec's name and description, every task's section
    (:func:`scalinglaws.report.presenters.markdown`) and what reproduces the run."""
    spec = result.spec
    lines = [f"# {spec.name or 'scalinglaws report'}", ""]
    if spec.description:
        lines += [spec.description.strip(), ""]
    for task in result.tasks:
        lines += presenters.markdown(task, images)
    v = result.versions
    lines += [
        "## Reproducibility",
        "",
        f"- Spec: `{spec.file}` (sha256 `{spec.digest}`)",
        f"- Seed: {spec.seed}",
        "- Versions: " + ", ".join(f"{k} {val}" for k, val in v.items()),
        f"- Run time: {result.elapsed_s:.2f} s",
        "",
    ]
    return "\n".join(lines)
