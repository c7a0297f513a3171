"""User-facing errors: each says where the problem is and how to fix it.

The CLI prints ``str(error)`` of a :class:`ScalingLawsError` as is (exit code 2) and shows a
traceback only with ``--traceback``; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from typing import Iterable, Optional, Sequence

import attrs


class ScalingLawsError(Exception):
    """An error in the user's input (spec, data, options), not in scalinglaws."""


@attrs.frozen
class Problem:
    """One thing wrong with a spec, at ``file:line:col`` and a path like ``tasks[0].law``."""

    message: str
    path: str = ""
    file: Optional[str] = None
    line: Optional[int] = None  # 1-based
    column: Optional[int] = None  # 1-based

    def __str__(self) -> str:
        where = self.file or "<spec>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class SpecError(ScalingLawsError):
    """Every problem found in a spec, reported at once, one line each."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def single(cls, message: str, **where) -> SpecError:
        return cls([Problem(message, **where)])


class DataError(ScalingLawsError):
    """Bad data: names the source, the row and the column, and says what to do."""

    def __init__(self, message: str, *, source: str = "", row: Optional[int] = None,
                 column: Optional[str] = None):
        self.source, self.row, self.column = source, row, column
        where = source
        if row is not None:
            where += f" row {row}" if where else f"row {row}"
        if column is not None:
            where += f", column {column!r}" if where else f"column {column!r}"
        super().__init__(f"{where}: {message}" if where else message)


class FitError(ScalingLawsError):
    """A fit that cannot be done as asked (too few points, no finite start, ...)."""


class ExpressionError(ScalingLawsError):
    """A problem at one character of a formula written as text (``law: {expression: ...}``).

    ``offset`` is the 0-based position of the offending token in ``text``; ``str()`` shows the
    reason, then the formula's line with a ``^`` under the token, so the fix is visible at once.
    Spec errors add the file position of the token in front.
    """

    def __init__(self, reason: str, *, text: str, offset: int):
        self.reason, self.text = reason, text
        self.offset = max(0, min(int(offset), len(text)))
        super().__init__(f"{reason} (column {self.column})\n{self.pointer()}")

    @property
    def column(self) -> int:
        """1-based column of the token on its line of the formula."""
        return self.offset - (self.text.rfind("\n", 0, self.offset) + 1) + 1

    def pointer(self, indent: str = "    ") -> str:
        """Two lines: the formula's line holding the token, and a caret under the token."""
        start = self.text.rfind("\n", 0, self.offset) + 1
        end = self.text.find("\n", self.offset)
        line = self.text[start:] if end < 0 else self.text[start:end]
        # Tabs and control characters are shown as spaces so that the caret stays aligned.
        line = "".join(c if c.isprintable() else " " for c in line)
        return f"{indent}{line}\n{indent}{' ' * (self.offset - start)}^"


def closest(name: str, candidates: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the nearest candidate, or '' when nothing is close."""
    import difflib

    match = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""
