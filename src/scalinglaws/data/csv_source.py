"""Runs from a CSV (or TSV) file, with a header row or with the column names in the spec."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import attrs

from ..fields import field
from .table import Table

# YAML writes a tab as "\t" in double quotes; in single quotes or plain it stays the two
# characters backslash-t, which would make csv fail with an unhelpful message: accept both.
_NAMED_DELIMITERS = {"\\t": "\t", "tab": "\t"}


@attrs.frozen(kw_only=True)
class CsvSource:
    """A CSV file; numeric columns become float64, others stay text."""

    path: str = field(doc="The file, relative to the spec's folder.")
    delimiter: str = field(default=",", doc=(
        "Cell separator, one character: `\",\"`, `\";\"`; a tab as `\"\\t\"` (double quotes), "
        "`'\\t'` or `tab`."))
    header: bool = field(default=True, doc=(
        "Whether the first row names the columns. `false` for headerless files (every row is "
        "data); then `names` is required."))
    names: Optional[tuple[str, ...]] = field(default=None, doc=(
        "Column names, one per cell: required with `header: false` (e.g. `[checkpoint, "
        "valid_file, loss]`); with a header they replace its names."))

    def check(self, registry) -> List[tuple]:
        """Spec-time problems as (key path, message)."""
        out = []
        if len(_delimiter(self.delimiter)) != 1:
            out.append((("delimiter",), f"expected one character (or `tab`), got "
                        f"{self.delimiter!r}"))
        if not self.header and not self.names:
            out.append((("names",), "a file without a header (`header: false`) needs `names:`, "
                        "one column name per cell"))
        return out

    def load(self, ctx) -> Table:
        path = Path(ctx.base_dir) / self.path
        return Table.from_csv(path, delimiter=_delimiter(self.delimiter), source=self.path,
                              header=self.header, names=self.names)


def _delimiter(text: str) -> str:
    return _NAMED_DELIMITERS.get(text, text)
