"""Table: named columns of a set of runs, with the provenance needed for row-level errors."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Dict, Iterable, Mapping, Optional, Sequence

import numpy as np

from ..errors import DataError, closest

# The conventional compute identity C = 6 N D (Kaplan et al. 2020): a table with two of the three
# gets the third, so Chinchilla-style data with N and C fits without a spec-level derivation.
_DERIVED = {
    "D": (("C", "N"), lambda c: c["C"] / (6.0 * c["N"]), "D = C / (6 N)"),
    "C": (("N", "D"), lambda c: 6.0 * c["N"] * c["D"], "C = 6 N D"),
    "N": (("C", "D"), lambda c: c["C"] / (6.0 * c["D"]), "N = C / (6 D)"),
}


def _to_column(values: Sequence[Any]) -> np.ndarray:
    """float64 when every cell is a number, else the cells as text."""
    try:
        return np.array([float(v) for v in values], dtype=np.float64)
    except (TypeError, ValueError):
        return np.array(["" if v is None else str(v) for v in values], dtype=object)


def first_appearance_codes(values: Iterable[Any]) -> tuple:
    """(labels, codes): the distinct values as text in order of first appearance, and each
    value's index into them as float64. Codes follow the data's order, not the sort order of
    the text, so "run-10" before "run-9" in a file keeps code 0.

    >>> first_appearance_codes(["cosine", "wsd", "cosine"])
    (('cosine', 'wsd'), array([0., 1., 0.]))
    """
    position: Dict[str, int] = {}
    codes = [position.setdefault(str(value), len(position)) for value in values]
    return tuple(position), np.asarray(codes, dtype=np.float64)


def _check_names(names: Sequence[str], label: str, what: str) -> None:
    """Every column needs a name, and a distinct one (row 0 is the header)."""
    for i, h in enumerate(names):
        if not h:
            raise DataError(f"{what.replace('the ', '')} cell {i + 1} is empty; every column needs "
                            "a name", source=label, row=0)
        if list(names).index(h) != i:
            raise DataError(f"column {h!r} appears twice in {what}", source=label, row=0)


class Table:
    """Columns of equal length. ``source`` and ``lines`` (the file line of each row, when read from
    a file) let errors name the row a bad value came from; ``meta`` carries facts such as a
    simulated dataset's true parameters."""

    def __init__(self, columns: Mapping[str, Any], *, source: str = "<table>",
                 lines: Optional[np.ndarray] = None, meta: Optional[Mapping[str, Any]] = None,
                 notes: Sequence[str] = ()):
        cols: Dict[str, np.ndarray] = {}
        n = None
        for name, values in columns.items():
            arr = np.asarray(values)
            if arr.ndim != 1:
                raise DataError(f"column {name!r} must be one-dimensional, got shape {arr.shape}",
                                source=source)
            arr = arr.astype(np.float64) if arr.dtype.kind in "iuf" else _to_column(list(arr))
            if n is not None and len(arr) != n:
                raise DataError(f"column {name!r} has {len(arr)} values, others have {n}; "
                                "columns must be equally long", source=source)
            n = len(arr)
            cols[str(name)] = arr
        self._columns = cols
        self.source = source
        self.lines = lines
        self.meta = dict(meta or {})
        self.notes = list(notes)
        self.row_numbers = np.arange(1, (n or 0) + 1)  # 1-based rows of the source, kept by take()

    # construction -------------------------------------------------------------------------
    @classmethod
    def from_columns(cls, columns: Optional[Mapping[str, Any]] = None, /, *, source: str = "<table>",
                     **kw: Any) -> Table:
        """``Table.from_columns(N=[...], D=[...], loss=[...])`` or from a mapping."""
        merged = dict(columns or {})
        merged.update(kw)
        return cls(merged, source=source)

    @classmethod
    def from_rows(cls, rows: Sequence[Mapping[str, Any]], *, source: str = "<rows>") -> Table:
        names: list = []
        for row in rows:
            for k in row:
                if k not in names:
                    names.append(k)
        for i, row in enumerate(rows, start=1):
            missing = [k for k in names if k not in row]
            if missing:
                raise DataError(f"missing {', '.join(map(repr, missing))}; every row needs the "
                                "same keys", source=source, row=i)
        return cls({k: [row[k] for row in rows] for k in names}, source=source)

    @classmethod
    def from_csv(cls, path, *, delimiter: str = ",", source: Optional[str] = None,
                 header: bool = True, names: Optional[Sequence[str]] = None) -> Table:
        """Read a CSV file; numeric columns become float64.

        With ``header`` (the default) the first row names the columns; ``names`` then renames them
        (as many names as header cells). Without a header, ``names`` is required and every row is
        data: ``Table.from_csv("2Mix_70M.txt", delimiter="\\t", header=False,
        names=["checkpoint", "valid_file", "loss"])``.
        """
        path = Path(path)
        label = source or str(path)
        names = None if names is None else [str(n).strip() for n in names]
        if not header and not names:
            raise DataError("a file without a header row needs `names:`, one column name per cell "
                            "(e.g. `names: [checkpoint, domain, loss]`)", source=label)
        if names is not None:
            _check_names(names, label, "`names`")
        try:
            handle = path.open(newline="", encoding="utf-8")
        except FileNotFoundError:
            raise DataError(f"no such file ({path.resolve()}); check `path` in the spec",
                            source=label) from None
        with handle:
            reader = csv.reader(handle, delimiter=delimiter)
            if header:
                first = next(reader, None)
                if first is None:
                    raise DataError("the file is empty; it needs a header row and at least one run",
                                    source=label)
                first = [h.strip() for h in first]
                _check_names(first, label, "the header")
                if names is not None and len(names) != len(first):
                    raise DataError(f"`names` has {len(names)} names, the header has {len(first)} "
                                    f"cells ({', '.join(first)}); give one name per column",
                                    source=label, row=0)
                columns = names if names is not None else first
            else:
                assert names is not None  # checked above: a headerless file needs names
                columns = names
            what = "the header" if header and names is None else "`names`"
            cells: list = [[] for _ in columns]
            lines: list = []
            for row in reader:
                if not row or all(not c.strip() for c in row):
                    continue
                if len(row) != len(columns):
                    # A header row is row 0, so data rows count from 1 either way; without a
                    # header the row number is also the file line (blank lines aside).
                    raise DataError(f"has {len(row)} cells, {what} has {len(columns)} "
                                    f"({', '.join(columns)}); check `delimiter` "
                                    f"({delimiter!r}) and the row (file line {reader.line_num})",
                                    source=label, row=len(lines) + 1)
                for col, value in zip(cells, row):
                    col.append(value.strip())
                lines.append(reader.line_num)
        if not lines:
            raise DataError("the file has a header but no rows" if header else "the file is empty",
                            source=label)
        return cls({h: c for h, c in zip(columns, cells)}, source=label, lines=np.array(lines))

    # access -------------------------------------------------------------------------------
    @property
    def names(self) -> list:
        return list(self._columns)

    def __len__(self) -> int:
        return len(next(iter(self._columns.values()))) if self._columns else 0

    def __contains__(self, name: str) -> bool:
        return name in self._columns

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._columns:
            raise DataError(self._missing_message(name), source=self.source, column=name)
        return self._columns[name]

    def _missing_message(self, name: str) -> str:
        return (f"no column {name!r}{closest(name, self._columns)}; the table has "
                f"{', '.join(self._columns)}. Rename one with `columns: {{{name}: <column>}}`")

    def row_label(self, i: int) -> int:
        """1-based row number of row ``i`` in the source (data rows, the header not counted)."""
        return int(self.row_numbers[i])

    def numeric(self, name: str, *, positive: bool = False, why: str = "") -> np.ndarray:
        """Column ``name`` as finite float64 (and > 0 when ``positive``), or a DataError naming the
        first bad row."""
        if name not in self._columns:
            derived = self._derive(name)
            if derived is None:
                raise DataError(self._missing_message(name), source=self.source, column=name)
            return derived if not positive else self._check_positive(name, derived, why)
        col = self._columns[name]
        if col.dtype.kind != "f":
            for i, v in enumerate(col):
                try:
                    float(v)
                except ValueError:
                    raise DataError(f"{v!r} is not a number; fix the cell or drop the row",
                                    source=self.source, row=self.row_label(i), column=name) from None
        values = col.astype(np.float64)
        bad = ~np.isfinite(values)
        if bad.any():
            i = int(np.argmax(bad))
            raise DataError(f"value {float(values[i])!r} is not finite; fix or drop the row",
                            source=self.source, row=self.row_label(i), column=name)
        return self._check_positive(name, values, why) if positive else values

    def _check_positive(self, name: str, values: np.ndarray, why: str) -> np.ndarray:
        bad = ~(values > 0)
        if bad.any():
            i = int(np.argmax(bad))
            raise DataError(f"value {float(values[i])!r} must be > 0{why}; fix or drop the row",
                            source=self.source, row=self.row_label(i), column=name)
        return values

    def _derive(self, name: str) -> Optional[np.ndarray]:
        if name not in _DERIVED:
            return None
        needs, fn, text = _DERIVED[name]
        if not all(n in self._columns for n in needs):
            return None
        values = fn({n: self.numeric(n) for n in needs})
        if text not in self.notes:
            self.notes.append(text)
        return values

    # transformation -----------------------------------------------------------------------
    def rename(self, mapping: Mapping[str, str]) -> Table:
        """``{new: old}``: give column ``old`` the name ``new``."""
        cols = dict(self._columns)
        for new, old in mapping.items():
            if old not in self._columns:
                raise DataError(self._missing_message(old), source=self.source, column=old)
            cols[new] = cols.pop(old) if old in cols else self._columns[old]
        out = self._replace(cols)
        out.lines, out.row_numbers = self.lines, self.row_numbers
        return out

    def take(self, index: Iterable[int], *, note: str = "") -> Table:
        """The rows at ``index``; errors about them still name their original row numbers."""
        idx = np.asarray(list(index), dtype=np.int64)
        cols = {k: v[idx] for k, v in self._columns.items()}
        out = self._replace(cols)
        out.lines = self.lines[idx] if self.lines is not None else None
        out.row_numbers = self.row_numbers[idx]
        if note:
            out.notes.append(note)
        return out

    def with_columns(self, columns: Mapping[str, Any], *, note: str = "") -> Table:
        """A table with ``columns`` added or replaced (same number of rows)."""
        out = self._replace({**self._columns, **{k: np.asarray(v) for k, v in columns.items()}})
        out.lines, out.row_numbers = self.lines, self.row_numbers
        if note:
            out.notes.append(note)
        return out

    def _replace(self, cols: Mapping[str, np.ndarray]) -> Table:
        return Table(cols, source=self.source, lines=self.lines, meta=self.meta, notes=self.notes)

    def __repr__(self) -> str:
        return f"Table({len(self)} rows: {', '.join(self._columns)}; from {self.source})"
