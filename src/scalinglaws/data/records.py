"""A Table built from a stream of JSON-like records (mappings), one row at a time.

The JSON, JSON Lines, glob and url sources all feed records here, so they share one set of rules:

- with ``fields`` (column -> dotted path) only those columns are read; without, every leaf of the
  first record becomes a column (nested keys joined with dots) and later records must have the same;
- numbers stay numbers, numeric text (``"1e9"``) becomes a number, ``null`` becomes NaN, other text
  stays text; a column that mixes numbers and text is refused with both places named, since it is
  almost always one broken value;
- numeric columns are kept in compact arrays, never as lists of Python floats, so a file of
  millions of rows needs memory for its numbers only.

Every error names the record's origin: the file and line (JSON Lines) or the file and row.
"""

from __future__ import annotations

import json
import math
from array import array
from typing import Any, Dict, Mapping, Optional, Tuple

import numpy as np

from ..errors import DataError
from . import dotted
from .table import Table

ON_MISSING = ("error", "skip")


def origin_error(message: str, source: str, *, line: Optional[int] = None, row: Optional[int] = None,
                 column: Optional[str] = None) -> DataError:
    """A DataError at ``source line N`` (for line-based files) or ``source row N``."""
    if line is not None:
        return DataError(message, source=f"{source} line {line}", column=column)
    return DataError(message, source=source, row=row, column=column)


def _where(source: str, line: Optional[int], row: Optional[int]) -> str:
    if line is not None:
        return f"{source} line {line}"
    return f"{source} row {row}" if row is not None else source


class _Column:
    """One column's cells: an array of doubles while every cell is a number, else a list."""

    __slots__ = ("numbers", "cells", "first_number", "first_text")

    def __init__(self) -> None:
        self.numbers: Optional[array] = array("d")
        self.cells: Optional[list] = None
        self.first_number: Optional[Tuple[str, Any]] = None  # (where, value)
        self.first_text: Optional[Tuple[str, Any]] = None

    def append(self, value: Any, where) -> None:
        number = _as_number(value)
        if number is not None:
            if self.first_number is None and value is not None:
                self.first_number = (where(), value)
            if self.numbers is not None:
                self.numbers.append(number)
            else:
                self.cells.append(number)  # type: ignore[union-attr]
            return
        text = _as_text(value)
        if self.first_text is None:
            self.first_text = (where(), value)
        if self.cells is None:
            self.cells = list(self.numbers)  # type: ignore[arg-type]
            self.numbers = None
        self.cells.append(text)

    def values(self) -> Any:
        return np.frombuffer(self.numbers, dtype=np.float64) if self.numbers is not None else self.cells


def _as_number(value: Any) -> Optional[float]:
    """The value as a float, or None when it is text (or a flag, or a container)."""
    if type(value) is float:  # the common case first: this runs once per cell
        return value
    if value is None:
        return math.nan
    if isinstance(value, bool):  # a flag, not a measurement: kept as text
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


class _NotAValue(ValueError):
    """A cell that cannot be a table value (the caller adds where it is)."""


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list) and any(isinstance(v, dict) for v in value):
        raise _NotAValue("holds a list of objects, not a value; if those objects are the runs, "
                         "point `records:` at the list; otherwise pick the columns you need with "
                         "`fields:`")
    return json.dumps(value, sort_keys=True)  # a list of values or an empty object, as text


class RecordTable:
    """Accumulates records into columns; :meth:`table` returns the finished :class:`Table`.

    ``fields`` maps column names to dotted paths (empty: every leaf of the first record);
    ``on_missing`` says what to do with a record lacking a field: ``error`` or ``skip`` it (the
    skips are counted in the table's notes).
    """

    def __init__(self, fields: Optional[Mapping[str, str]] = None, *, on_missing: str = "error"):
        if on_missing not in ON_MISSING:
            raise ValueError(f"on_missing must be one of {ON_MISSING}, got {on_missing!r}")
        self.fields = dict(fields or {})
        self.on_missing = on_missing
        self.columns: Dict[str, _Column] = {}
        self.rows = 0
        self.lines = array("q")
        self.skipped = 0
        self.first_skip = ""
        self._first_where = ""

    # adding ---------------------------------------------------------------------------------
    def add(self, record: Any, source: str, *, line: Optional[int] = None, row: Optional[int] = None,
            extra: Optional[Mapping[str, Any]] = None) -> None:
        """Add one record; ``extra`` are columns given by the caller (e.g. the file it came from)."""

        def where() -> str:
            return _where(source, line, row)

        if not isinstance(record, dict):
            raise origin_error(f"expected a JSON object (one run), got {_kind(record)}", source,
                               line=line, row=row)
        cells = self._pick(record, source, line, row)
        if cells is None:
            return
        if extra:
            for name, value in extra.items():
                if name in cells:
                    raise origin_error(f"the record already has a column {name!r}; choose another "
                                       "name for the added column", source, line=line, row=row,
                                       column=name)
                cells[name] = value
        if not self.columns:
            self._first_where = where()
            self.columns = {name: _Column() for name in cells}
        elif not self.fields and not self._same_keys(cells, source, line, row):
            return
        for name, column in self.columns.items():
            try:
                column.append(cells[name], where)
            except _NotAValue as exc:
                raise origin_error(str(exc), source, line=line, row=row, column=name) from None
        self.rows += 1
        self.lines.append(line if line is not None else (row if row is not None else self.rows))

    def _pick(self, record: dict, source: str, line, row) -> Optional[Dict[str, Any]]:
        """The record's cells by column name, or None when the record is skipped."""
        if not self.fields:
            return dotted.flat_dict(record)
        cells = {}
        for name, path in self.fields.items():
            try:
                cells[name] = dotted.lookup(record, path)
            except dotted.PathNotFound as exc:
                self._missing(str(exc), source, line, row, name)
                return None
        return cells

    def _same_keys(self, cells: Mapping, source: str, line, row) -> bool:
        """Without ``fields``, every record must have the first one's keys: a missing key is
        missing data (error or skip), an extra one an error."""
        missing = [n for n in self.columns if n not in cells]
        if missing:
            self._missing(f"no {missing[0]!r}, which the first record ({self._first_where}) has",
                          source, line, row, missing[0])
            return False
        new = [n for n in cells if n not in self.columns]
        if new:
            raise origin_error(f"has {new[0]!r}, which the first record ({self._first_where}) does "
                               "not; records must have the same keys. List the columns you want in "
                               "`fields:`", source, line=line, row=row, column=new[0])
        return True

    def _missing(self, message: str, source: str, line, row, column: str) -> None:
        if self.on_missing == "skip":
            self.skipped += 1
            if not self.first_skip:
                self.first_skip = f"{_where(source, line, row)}: {message}"
            return None
        raise origin_error(f"{message}. Add the value, or skip such records with "
                           "`on_missing: skip`", source, line=line, row=row, column=column)

    # finishing ------------------------------------------------------------------------------
    def table(self, source: str, *, empty: str = "no records") -> Table:
        """The finished table; ``empty`` is the message when no record was added."""
        if self.rows == 0:
            if self.skipped:
                raise DataError(f"every record lacked a field and was skipped (first: "
                                f"{self.first_skip})", source=source)
            raise DataError(empty, source=source)
        for name, column in self.columns.items():
            if column.first_number is not None and column.first_text is not None:
                (num_at, num), (text_at, text) = column.first_number, column.first_text
                raise DataError(f"mixes numbers ({num_at}: {num!r}) and text "
                                f"({text_at}: {text!r}); fix the broken value, or leave the column "
                                "out by listing the ones you need in `fields:`", source=source,
                                column=name)
        notes = []
        if self.skipped:
            notes.append(f"skipped {self.skipped} record(s) of {source} lacking a field "
                         f"(first: {self.first_skip})")
        columns = {name: column.values() for name, column in self.columns.items()}
        return Table(columns, source=source, lines=np.frombuffer(self.lines, dtype=np.int64),
                     notes=notes)


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the text {value!r}"
    return type(value).__name__

