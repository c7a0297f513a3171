"""Runs exported by an experiment tracker: one folder per run, each with a config file (JSON) and
a metrics log (JSON Lines, one logged step per line). Each run becomes one row: columns picked
from its config by dotted paths, and one metric reduced over the log (its final, minimum or
maximum value).

    runs/
      lr3e-4-n125m/config.json      {"model": {"n_params": 1.25e8}, "data": {"tokens": 2.5e9}}
      lr3e-4-n125m/metrics.jsonl    {"step": 100, "train": {"loss": 4.1}}
                                    {"step": 100, "val": {"loss": 4.3}}
                                    ...
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import attrs
from scalinglaws import DataError, Table
from scalinglaws.data.dotted import PathNotFound, flat_dict, lookup
from scalinglaws.fields import field, one_of


@attrs.frozen(kw_only=True)
class RunFolders:
    """Tracker exports: one folder per run with config.json and metrics.jsonl; one row per run."""

    root: str = field(doc="Folder holding one sub-folder per run, relative to the spec's folder.")
    metric: str = field(doc=(
        "The metric in each metrics line, by dotted path (`val.loss`); a key with dots or "
        "slashes (`eval/loss`) is matched whole first. Lines without it are passed over."))
    reduce: str = field(default="final", validator=one_of("final", "min", "max"), doc=(
        "`final`: the value at the largest step (the last line when lines have no step); "
        "`min` / `max` over the run's finite values."))
    config: dict[str, str] = field(factory=dict, doc=(
        "Columns from each run's config, by dotted path: `{N: model.n_params, D: data.tokens}`."))
    target: str = field(default="loss", doc="Name of the column holding the reduced metric.")
    step: str = field(default="step", doc="Key of the step in each metrics line.")
    config_file: str = field(default="config.json", doc="Config file name inside each run folder.")
    metrics_file: str = field(default="metrics.jsonl", doc="Metrics log name inside each run folder.")
    run_column: str = field(default="run", doc="Column holding each run's folder name.")
    incomplete: str = field(default="error", validator=one_of("error", "skip"), doc=(
        "A run without its files, a config value or the metric: `error`, or `skip` the run "
        "(the skipped runs are noted in the results)."))

    def load(self, ctx) -> Table:
        root = Path(ctx.base_dir) / self.root
        rows: list[dict[str, Any]] = []
        skipped: list[str] = []
        for folder in self._run_folders(root):
            try:
                rows.append(self._read_run(folder, f"{self.root}/{folder.name}"))
            except DataError as exc:
                if self.incomplete == "error":
                    raise
                skipped.append(str(exc))
        if not rows:
            raise DataError(f"every run was skipped as incomplete (first: {skipped[0]})",
                            source=self.root)
        columns = {name: [row[name] for row in rows] for name in rows[0]}
        notes = [f"skipped {len(skipped)} incomplete run(s) of {self.root} (first: {skipped[0]})"
                 ] if skipped else []
        return Table(columns, source=self.root, notes=notes)

    def _run_folders(self, root: Path) -> list[Path]:
        if not root.is_dir():
            raise DataError(f"no such folder ({root.resolve()}); check `root`", source=self.root)
        folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
        if not folders:
            raise DataError("holds no run folders; each run is a sub-folder with "
                            f"{self.config_file} and {self.metrics_file}", source=self.root)
        return folders

    def _read_run(self, folder: Path, label: str) -> dict[str, Any]:
        row: dict[str, Any] = {self.run_column: folder.name}
        config = self._read_config(folder / self.config_file, f"{label}/{self.config_file}")
        for column, path in self.config.items():
            try:
                row[column] = lookup(config, path)
            except PathNotFound as exc:
                raise DataError(f"{exc}; check `config: {{{column}: {path}}}`",
                                source=f"{label}/{self.config_file}", column=column) from None
        row[self.target] = self._reduce_metric(folder / self.metrics_file,
                                               f"{label}/{self.metrics_file}")
        return row

    def _read_config(self, path: Path, label: str) -> Any:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise DataError("is missing; every run folder needs one", source=label) from None
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(f"not valid JSON: {exc.msg} (column {exc.colno}). Fix the file",
                            source=f"{label} line {exc.lineno}") from None

    def _reduce_metric(self, path: Path, label: str) -> float:
        """One pass over the log, keeping only the best value so far: memory does not grow."""
        best: tuple[float, float, int] | None = None  # (value, step, line)
        first_keys, logged = "", 0
        try:
            handle = path.open(encoding="utf-8")
        except FileNotFoundError:
            raise DataError("is missing; every run folder needs one", source=label) from None
        with handle:
            for number, text in enumerate(handle, start=1):
                if not text.strip():
                    continue
                try:
                    record = json.loads(text)
                except json.JSONDecodeError as exc:
                    raise DataError(f"not valid JSON: {exc.msg} (column {exc.colno}). Fix the "
                                    "line or delete it", source=f"{label} line {number}") from None
                if not isinstance(record, dict):
                    raise DataError("expected a JSON object (one logged step)",
                                    source=f"{label} line {number}")
                first_keys = first_keys or ", ".join(flat_dict(record))
                try:
                    value = lookup(record, self.metric)
                except PathNotFound:
                    continue  # this line logged other metrics
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise DataError(f"{self.metric!r} is {value!r}, not a number",
                                    source=f"{label} line {number}", column=self.target)
                logged += 1
                step = record.get(self.step)
                if isinstance(step, bool) or not isinstance(step, (int, float)):
                    step = number  # no step logged: file order
                if self._better(float(value), float(step), best):
                    best = (float(value), float(step), number)
        if best is None and logged:
            raise DataError(f"every logged {self.metric!r} is NaN or infinite", source=label)
        if best is None:
            seen = f" (its lines have {first_keys})" if first_keys else " (it is empty)"
            raise DataError(f"no line logs {self.metric!r}{seen}; check `metric`", source=label)
        return best[0]

    def _better(self, value: float, step: float, best: tuple[float, float, int] | None) -> bool:
        if self.reduce == "final":
            return best is None or step >= best[1]
        if not math.isfinite(value):  # a diverged step is not the run's minimum or maximum
            return False
        if best is None:
            return True
        return value < best[0] if self.reduce == "min" else value > best[0]
