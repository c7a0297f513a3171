"""Runs from a JSON Lines file: one JSON object per line, read as a stream."""

from __future__ import annotations

from pathlib import Path

import attrs

from ..fields import field
from .formats import fields_field, on_missing_field, read_file
from .table import Table


@attrs.frozen(kw_only=True)
class JsonlSource:
    """A JSON Lines file (one run per line), read line by line; fields by dotted paths."""

    path: str = field(doc="The file, relative to the spec's folder.")
    fields: dict[str, str] = fields_field()
    on_missing: str = on_missing_field()

    def load(self, ctx) -> Table:
        return read_file(Path(ctx.base_dir) / self.path, "jsonl", self.path, fields=self.fields,
                         on_missing=self.on_missing)
