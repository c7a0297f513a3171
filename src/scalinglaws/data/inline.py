"""Runs written in the spec itself."""

from __future__ import annotations

from typing import Union

import attrs

from ..fields import field
from .table import Table


@attrs.frozen(kw_only=True)
class InlineSource:
    """Rows in the spec: `rows: [{N: 1e8, D: 2e9, loss: 3.1}, ...]`, one mapping per run."""

    rows: tuple[dict[str, Union[float, str]], ...] = field(doc=(
        "One mapping per run, all with the same keys; values are numbers, or text for names "
        "(`run: cosine-1e-3`)."))

    def load(self, ctx) -> Table:
        return Table.from_rows(list(self.rows), source=f"inline rows of dataset {ctx.dataset!r}")
