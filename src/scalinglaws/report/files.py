"""The built-in reporters. Each writes into the (temporary) output folder and names its files."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import List


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
            for row in getattr(task, "rows", lambda: [])():
                writer.writerow({k: (f"{v:.10g}" if isinstance(v, float) else v)
                                 for k, v in row.items()})
    return ["params.csv"]


def report_md(result, out: Path) -> List[str]:
    """report.md: a readable summary with the fitting checklist of every task."""
    from .markdown import render

    images = {p.name for p in out.glob("*.png")}
    (out / "report.md").write_text(render(result, images), encoding="utf-8")
    return ["report.md"]


def plots(result, out: Path) -> List[str]:
    """Every task's figures: ``task.figures()`` returns {file name: matplotlib Figure}; a fit task
    without it gets fit_<task>.png."""
    from .plots import fit_figure, save

    written = []
    for task in result.tasks:
        figures = getattr(task, "figures", None)
        if figures is not None:
            named = figures()
        elif getattr(task, "kind", None) == "fit":
            named = {f"fit_{task.name}.png": fit_figure(task)}
        else:
            named = {}
        for name, fig in named.items():
            save(fig, out / name)
            written.append(name)
    return written
