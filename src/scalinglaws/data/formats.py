"""Reading one file in a named format (csv, jsonl, json): shared by the file, glob and url sources.

Also the option fields those sources share (``fields``, ``records``, ``on_missing``), declared once
so their documentation reads the same everywhere.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Iterable, Mapping, Optional

from ..errors import DataError
from ..fields import field, one_of
from . import dotted
from .records import ON_MISSING, RecordTable, origin_error
from .table import Table

FORMATS = ("csv", "jsonl", "json")
_SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json"}


def format_from_name(name: str) -> Optional[str]:
    """The format a file name's suffix implies (``.csv``, ``.jsonl``/``.ndjson``, ``.json``)."""
    for suffix, fmt in _SUFFIXES.items():
        if name.lower().endswith(suffix):
            return fmt
    return None


# --- option fields shared by several sources ---------------------------------------------------


def _check_paths(_inst, _attribute, value: Mapping[str, str]) -> None:
    for column, path in value.items():
        try:
            dotted.split(path)
        except ValueError:
            raise ValueError(f"column {column!r}: expected a dotted path like `metrics.val.loss`, "
                             f"got {path!r}") from None


def fields_field() -> Any:
    return field(factory=dict, validator=_check_paths, doc=(
        "Columns to read, each from a dotted path into a record: `{loss: metrics.val.loss, N: "
        "config.n_params}`; a number in a path indexes a list (`history.-1.loss`). Without it, "
        "every value of the first record becomes a column (nested keys joined with dots)."))


def records_field() -> Any:
    return field(default="", doc=(
        "Dotted path to the list of runs inside a JSON document, e.g. `data.runs`; empty: the "
        "document itself is the list (or one run, when it is an object)."))


def on_missing_field() -> Any:
    return field(default="error", validator=one_of(*ON_MISSING), doc=(
        "A record without one of the fields: `error` (naming the file, line and field) or `skip` "
        "the record (the count is noted in the results)."))


# --- opening files -------------------------------------------------------------------------------


def open_text(path: Path, label: str):
    """``path`` opened for reading UTF-8 text, or a DataError that says what is wrong with it."""
    try:
        return open(path, encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"no such file ({Path(path).resolve()}); check the path in the spec",
                        source=label) from None
    except IsADirectoryError:
        raise DataError("is a folder, not a file", source=label) from None
    except PermissionError:
        raise DataError("cannot be read (permission denied)", source=label) from None


def _not_utf8(label: str, exc: UnicodeDecodeError, after_line: Optional[int] = None) -> DataError:
    where = f" after line {after_line}" if after_line else ""
    return DataError(f"is not UTF-8 text (undecodable byte {exc.object[exc.start:exc.start + 1]!r}"
                     f"{where}); save it as UTF-8", source=label)


# --- feeding records ------------------------------------------------------------------------------


def feed_jsonl(lines: Iterable[str], label: str, builder: RecordTable,
               extra: Optional[Mapping[str, Any]] = None) -> None:
    """One record per line, read line by line: the file is never held in memory whole."""
    number = 0
    try:
        for number, text in enumerate(lines, start=1):
            if not text.strip():
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError as exc:
                cut = ("" if text.endswith("\n") else
                       " It is the last line and has no newline: was the file cut off while "
                       "being written?")
                raise origin_error(f"not valid JSON: {exc.msg} (column {exc.colno}).{cut} Fix the "
                                   "line or delete it", label, line=number) from None
            builder.add(record, label, line=number, extra=extra)
    except UnicodeDecodeError as exc:
        raise _not_utf8(label, exc, number) from None


def feed_json(handle, label: str, builder: RecordTable, records: str = "",
              extra: Optional[Mapping[str, Any]] = None) -> None:
    """A JSON document: a list of runs, one run (an object), or a list at the path ``records``."""
    try:
        text = handle.read()  # json has no incremental parser in the standard library
    except UnicodeDecodeError as exc:
        raise _not_utf8(label, exc) from None
    if not text.strip():
        raise DataError("the file is empty; it needs a JSON list of runs or one run", source=label)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        cut = (" The document ends before it is complete: was the file cut off while being "
               "written?" if exc.pos >= len(text.rstrip()) else "")
        raise origin_error(f"not valid JSON: {exc.msg} (column {exc.colno}).{cut} Fix the file",
                           label, line=exc.lineno) from None
    del text
    if records:
        try:
            document = dotted.lookup(document, records, what="document")
        except dotted.PathNotFound as exc:
            raise DataError(f"{exc}; check `records:`", source=label) from None
    if isinstance(document, list):
        if not document:
            raise DataError(f"the list of runs{_at(records)} is empty", source=label)
        for row, record in enumerate(document, start=1):
            builder.add(record, label, row=row, extra=extra)
    elif isinstance(document, dict):
        builder.add(document, label, extra=extra)
    else:
        raise DataError(f"expected a list of runs or one run (an object){_at(records)}, got "
                        f"{json.dumps(document)[:40]}", source=label)


def _at(records: str) -> str:
    return f" at {records!r}" if records else ""


def feed_csv(path: Path, label: str, builder: RecordTable, *, delimiter: str = ",",
             extra: Optional[Mapping[str, Any]] = None) -> None:
    """The rows of a CSV file, with the header checks of :meth:`Table.from_csv`."""
    table = Table.from_csv(path, delimiter=delimiter, source=label)
    columns = {name: table[name] for name in table.names}
    for i in range(len(table)):
        builder.add({name: _plain(values[i]) for name, values in columns.items()}, label,
                    row=i + 1, extra=extra)


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


# --- one file into a table --------------------------------------------------------------------------


def read_file(path: Path, fmt: str, label: str, *, fields: Optional[Dict[str, str]] = None,
              records: str = "", on_missing: str = "error", delimiter: str = ",") -> Table:
    """The table in one file of format ``fmt``; errors name ``label`` (a path or a URL)."""
    if fmt == "csv":
        table = Table.from_csv(path, delimiter=delimiter, source=label)
        if not fields:
            return table
        # CSV has no nesting: a field names a header cell, and the table keeps its row numbers.
        picked = {name: table[header] for name, header in fields.items()}
        return Table(picked, source=label, lines=table.lines)
    builder = RecordTable(fields, on_missing=on_missing)
    with open_text(path, label) as handle:
        if fmt == "jsonl":
            feed_jsonl(handle, label, builder)
        else:
            feed_json(handle, label, builder, records)
    return builder.table(label, empty="the file is empty; it needs one JSON object (one run) per line")
