"""What every dataset may ask of its table: rename, derive columns, filter rows.

Order: ``columns`` (rename) -> ``extract`` (named groups of a regular expression on a text column)
-> ``derive`` (in the order written, so a derived column may use an
earlier one) -> ``where`` -> ``exclude_largest`` / ``exclude_smallest``. Each step that drops rows
leaves a note (kept k of n) that reports show next to the points used.
"""

from __future__ import annotations

import re

import numpy as np

from ..errors import DataError
from ..formula import parse_formula
from .conditions import parse_condition
from .table import Table, _to_column


def _values(table: Table, names, why: str) -> dict:
    return {n: table.numeric(n, why=why) for n in names}


def compile_pattern(pattern: str) -> re.Pattern:
    """``pattern`` compiled, or a ValueError saying what is wrong (it must have named groups)."""
    try:
        rx = re.compile(pattern)
    except re.error as exc:
        where = f" at position {exc.pos}" if exc.pos is not None else ""
        raise ValueError(f"invalid regular expression {pattern!r}: {exc.msg}{where}") from None
    if not rx.groupindex:
        raise ValueError(f"the pattern {pattern!r} has no named group; name each part to keep, "
                         f"e.g. `(?P<step>\\d+)`, which makes the column `step`")
    return rx


def extract(table: Table, column: str, pattern: str) -> Table:
    """New columns from the named groups of ``pattern`` searched in each value of ``column``.

    ``re.search`` (anchor with ``^``/``$`` when the whole value must match). A group that does not
    take part in a match gives an empty text cell. Each new column is float64 when every value
    parses as a number, else text (the Table's rule for file columns).
    """
    try:
        rx = compile_pattern(pattern)
    except ValueError as exc:
        raise DataError(f"extract.{column}: {exc}", source=table.source, column=column) from None
    values = table[column]
    groups = list(rx.groupindex)
    cells: dict = {g: [] for g in groups}
    for i, value in enumerate(values):
        text = value if isinstance(value, str) else _as_text(value)
        m = rx.search(text)
        if m is None:
            line = table.lines[i] if table.lines is not None else None
            at = f" (file line {int(line)})" if line is not None else ""
            raise DataError(f"{text!r}{at} does not match the `extract` pattern {pattern!r}; fix "
                            "the pattern, or drop such rows with `where` on another column",
                            source=table.source, row=table.row_label(i), column=column)
        for g in groups:
            cells[g].append(m.group(g) if m.group(g) is not None else "")
    new = {g: _to_column(v) for g, v in cells.items()}
    return table.with_columns(new, note=f"{', '.join(groups)} extracted from {column}")


def _as_text(value) -> str:
    """A numeric cell as it would read in a file (3.0 -> "3")."""
    v = float(value)
    return str(int(v)) if v.is_integer() else repr(v)


def evaluate_formula(text: str, columns, n: int) -> np.ndarray:
    """The formula ``text`` on ``columns`` (a name -> float array mapping, or a callable giving
    the arrays of the names it is asked for) as a float64 column of ``n`` rows."""
    formula = parse_formula(text)
    values_of = columns if callable(columns) else (lambda names: {k: columns[k] for k in names})
    with np.errstate(all="ignore"):  # non-finite results are reported by the checks of use
        values = formula.compile(np)(values_of(formula.names))
    return np.broadcast_to(np.asarray(values, dtype=np.float64), (n,)).copy()


def derive(table: Table, name: str, text: str) -> Table:
    values = evaluate_formula(
        text, lambda names: _values(table, names, f" (used by {name} = {text})"), len(table))
    return table.with_columns({name: values}, note=f"{name} = {text}")


def keep_where(table: Table, text: str) -> Table:
    condition = parse_condition(text)
    cells = {}
    for name in condition.text_names:
        column = table[name]
        if column.dtype != object:
            raise DataError(f"where {text!r}: column {name!r} holds numbers; compare it without "
                            f"quotes (e.g. `{name} == 3`)", source=table.source, column=name)
        cells[name] = column
    with np.errstate(all="ignore"):
        mask = condition.mask(_values(table, condition.names, f" (used by where: {text})"), cells)
    return table.take(np.flatnonzero(np.broadcast_to(mask, (len(table),))),
                      note=f"where {text}: kept {int(np.sum(mask))} of {len(table)} rows")


def exclude_extremes(table: Table, column: str, k: int, *, largest: bool) -> Table:
    if k == 0:
        return table
    if k >= len(table):
        raise DataError(f"excluding the {k} {'largest' if largest else 'smallest'} values of "
                        f"{column!r} would leave no rows (the table has {len(table)})",
                        source=table.source, column=column)
    values = table.numeric(column)
    order = np.argsort(values, kind="stable")
    drop = order[-k:] if largest else order[:k]
    keep = np.setdiff1d(np.arange(len(table)), drop)
    which = "largest" if largest else "smallest"
    return table.take(keep, note=f"dropped {k} row{'s' if k != 1 else ''} with the {which} {column}")


def prepare_table(table: Table, ds) -> Table:
    """Apply a :class:`~scalinglaws.spec.DatasetSpec`'s common keys to a loaded table."""
    if ds.columns:
        table = table.rename(ds.columns)
    for column, pattern in getattr(ds, "extract", {}).items():
        table = extract(table, column, pattern)
    for name, text in ds.derive.items():
        table = derive(table, name, text)
    for text in ds.where:
        table = keep_where(table, text)
    for column, k in ds.exclude_largest.items():
        table = exclude_extremes(table, column, k, largest=True)
    for column, k in ds.exclude_smallest.items():
        table = exclude_extremes(table, column, k, largest=False)
    if len(table) == 0:
        raise DataError("no rows are left after the dataset's filters; loosen `where`",
                        source=table.source)
    return table
