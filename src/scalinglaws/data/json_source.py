"""Runs from a JSON document: a list of objects, or an object holding the list at a dotted path."""

from __future__ import annotations

from pathlib import Path

import attrs

from ..fields import field
from .formats import fields_field, on_missing_field, read_file, records_field
from .table import Table


@attrs.frozen(kw_only=True)
class JsonSource:
    """A JSON file: a list of runs, or an object with the list at `records`; fields by dotted paths."""

    path: str = field(doc="The file, relative to the spec's folder.")
    records: str = records_field()
    fields: dict[str, str] = fields_field()
    on_missing: str = on_missing_field()

    def load(self, ctx) -> Table:
        return read_file(Path(ctx.base_dir) / self.path, "json", self.path, fields=self.fields,
                         records=self.records, on_missing=self.on_missing)
