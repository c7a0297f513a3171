"""Runs from many files matched by a pattern, as experiment trackers write them (one folder per run).

Each matched file gives one row (a JSON object), or many (a JSON list, JSON Lines, CSV); a column
records the file each row came from. Files are read in sorted order, one at a time.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import List

import attrs

from ..errors import DataError
from ..fields import field, one_of
from .formats import (
    FORMATS,
    feed_csv,
    feed_json,
    feed_jsonl,
    fields_field,
    format_from_name,
    on_missing_field,
    open_text,
    records_field,
)
from .records import RecordTable
from .table import Table


@attrs.frozen(kw_only=True)
class GlobSource:
    """Many JSON, JSON Lines or CSV files matched by a pattern; one row or many per file."""

    pattern: str = field(doc=(
        "Files to read, relative to the spec's folder, e.g. `runs/*/summary.json`; `**` matches "
        "folders at any depth. Files are read in sorted order."))
    format: str = field(default="auto", validator=one_of("auto", *FORMATS), doc=(
        "`csv`, `jsonl` or `json`; `auto` tells each file's format from its suffix (.csv, "
        ".jsonl/.ndjson, .json)."))
    records: str = records_field()
    fields: dict[str, str] = fields_field()
    on_missing: str = on_missing_field()
    file_column: str = field(default="file", doc=(
        "Column holding each row's file (relative to the spec's folder); `\"\"` for none."))
    delimiter: str = field(default=",", doc="Cell separator of CSV files.")

    def load(self, ctx) -> Table:
        base = Path(ctx.base_dir)
        builder = RecordTable(self.fields, on_missing=self.on_missing)
        for path in self.matches(base):
            label = _label(path, base)
            extra = {self.file_column: label} if self.file_column else None
            fmt = self.format if self.format != "auto" else format_from_name(path.name)
            if fmt is None:
                raise DataError("cannot tell the format from the file name; set `format:` to csv, "
                                "jsonl or json (or narrow `pattern` to one kind of file)", source=label)
            if fmt == "csv":
                feed_csv(path, label, builder, delimiter=self.delimiter, extra=extra)
                continue
            with open_text(path, label) as handle:
                if fmt == "jsonl":
                    feed_jsonl(handle, label, builder, extra=extra)
                else:
                    feed_json(handle, label, builder, self.records, extra=extra)
        return builder.table(self.pattern, empty="the matched files hold no records")

    def matches(self, base: Path) -> List[Path]:
        """The files the pattern matches, sorted; a DataError when there are none."""
        found = sorted(glob.glob(os.path.join(glob.escape(str(base)), self.pattern), recursive=True))
        files = [Path(p) for p in found if os.path.isfile(p)]
        if files:
            return files
        if found:
            raise DataError(f"matches only folders (e.g. {_label(Path(found[0]), base)}); end the "
                            "pattern with a file name, e.g. `runs/*/summary.json`", source=self.pattern)
        raise DataError(f"no file matches the pattern (searched from {base.resolve()}); check "
                        "`pattern`", source=self.pattern)


def _label(path: Path, base: Path) -> str:
    """The path as the user thinks of it: relative to the spec's folder when it lies inside."""
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return str(path)
