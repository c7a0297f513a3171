"""Runs from a Parquet file, through pyarrow (the optional extra ``scalinglaws[parquet]``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

import attrs
import numpy as np

from ..errors import DataError, closest
from ..fields import field
from .table import Table

PYARROW_MISSING = ('reading Parquet files needs pyarrow, which is an optional extra of scalinglaws; '
                   'install it with: pip install "scalinglaws[parquet]"')


def _pyarrow(label: str):
    """pyarrow and pyarrow.parquet, or the error naming the extra (checked at load, not import)."""
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise DataError(PYARROW_MISSING, source=label) from None
    return pyarrow, pyarrow.parquet


@attrs.frozen(kw_only=True)
class ParquetSource:
    """A Parquet file (needs `pip install "scalinglaws[parquet]"`); nested columns as `a.b`."""

    path: str = field(doc="The file, relative to the spec's folder.")
    fields: dict[str, str] = field(factory=dict, doc=(
        "Columns to read, each from a column of the file (a nested one by dotted path): "
        "`{C: flops, loss: metrics.loss}`. Without it, every column is read, nested ones named "
        "`a.b`."))

    def load(self, ctx) -> Table:
        pa, pq = _pyarrow(self.path)
        path = Path(ctx.base_dir) / self.path
        if not path.is_file():
            what = "is a folder, not a file" if path.is_dir() else (
                f"no such file ({path.resolve()}); check `path` in the spec")
            raise DataError(what, source=self.path)
        try:
            table = pq.read_table(path, columns=self._top_level(pq, path))
        except (pa.ArrowException, OSError) as exc:
            raise DataError(f"cannot be read as Parquet ({type(exc).__name__}: {exc})",
                            source=self.path) from None
        while any(pa.types.is_struct(f.type) for f in table.schema):
            table = table.flatten()  # one level of nesting per pass: `a.b.c` takes two
        if table.num_rows == 0:
            raise DataError("the file has no rows", source=self.path)
        wanted = self.fields or {name: name for name in table.column_names}
        out: Dict[str, Any] = {}
        for name, column in wanted.items():
            if column not in table.column_names:
                raise self._no_column(column, table.column_names, name)
            out[name] = _to_numpy(pa, table.column(column))
        return Table(out, source=self.path)

    def _top_level(self, pq, path: Path):
        """The top-level columns to read (a nested `a.b` needs `a`), checked against the schema:
        reading only those keeps a wide file's unused columns off the disk and out of memory."""
        if not self.fields:
            return None
        schema_names = pq.read_schema(path).names
        wanted = []
        for name, column in self.fields.items():
            top = column if column in schema_names else column.split(".")[0]
            if top not in schema_names:
                raise self._no_column(column, schema_names, name)
            if top not in wanted:
                wanted.append(top)
        return wanted

    def _no_column(self, column: str, available, name: str) -> DataError:
        return DataError(f"no column {column!r}{closest(column, available)} in the file; it has "
                         f"{', '.join(available)}", source=self.path, column=name)


def _to_numpy(pa, column) -> np.ndarray:
    """Numbers (nulls as NaN) as float64; anything else as text cells."""
    kind = column.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return column.cast(pa.float64()).to_numpy(zero_copy_only=False)
    return np.array(["" if v is None else str(v) for v in column.to_pylist()], dtype=object)
