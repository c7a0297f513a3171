"""What every dataset may ask of its table: rename, derive columns, filter rows.

Order: ``columns`` (rename) -> ``derive`` (in the order written, so a derived column may use an
earlier one) -> ``where`` -> ``exclude_largest`` / ``exclude_smallest``. Each step that drops rows
leaves a note (kept k of n) that reports show next to the points used.
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError
from ..laws.formula import parse_formula
from .conditions import parse_condition
from .table import Table


def _values(table: Table, names, why: str) -> dict:
    return {n: table.numeric(n, why=why) for n in names}


def derive(table: Table, name: str, text: str) -> Table:
    formula = parse_formula(text)
    with np.errstate(all="ignore"):  # non-finite results are reported by the checks of use
        values = formula.compile(np)(_values(table, formula.names, f" (used by {name} = {text})"))
    values = np.broadcast_to(np.asarray(values, dtype=np.float64), (len(table),)).copy()
    return table.with_columns({name: values}, note=f"{name} = {text}")


def keep_where(table: Table, text: str) -> Table:
    condition = parse_condition(text)
    with np.errstate(all="ignore"):
        mask = condition.mask(_values(table, condition.names, f" (used by where: {text})"))
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
