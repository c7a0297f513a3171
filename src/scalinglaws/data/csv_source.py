"""Runs from a CSV file with a header row."""

from __future__ import annotations

from pathlib import Path

import attrs

from ..spec.fields import field
from .table import Table


@attrs.frozen(kw_only=True)
class CsvSource:
    """A CSV file; numeric columns become float64, others stay text."""

    path: str = field(doc="The file, relative to the spec's folder.")
    delimiter: str = field(default=",", doc="Cell separator.")

    def load(self, ctx) -> Table:
        path = Path(ctx.base_dir) / self.path
        return Table.from_csv(path, delimiter=self.delimiter, source=self.path)
