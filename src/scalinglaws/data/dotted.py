"""Dotted paths into parsed JSON: ``metrics.val.loss`` picks ``obj["metrics"]["val"]["loss"]``.

A segment that is a whole number indexes a list (``history.-1.loss`` is the last entry's loss).
A top-level key that itself contains dots (``"val.loss"``, as some trackers write) is matched
whole before the path is split. Plugins may use :func:`lookup` and :class:`PathNotFound` for their
own record formats (parsed JSON: dicts and lists).
"""

from __future__ import annotations

import functools
from typing import Any, Dict, Iterator, Mapping, Tuple


class PathNotFound(LookupError):
    """``path`` leads nowhere in a record; ``reached`` is the part that exists."""

    def __init__(self, path: str, reached: str, there: Any, what: str = "record"):
        self.path, self.reached = path, reached
        super().__init__(_describe_miss(path, reached, there, what))


def _describe_miss(path: str, reached: str, there: Any, what: str) -> str:
    at = f" at {reached!r}" if reached else " at the top level"
    missing = f"no {path!r} in the {what}"
    if isinstance(there, Mapping):
        if not there:
            return f"{missing} (the object{at} is empty)"
        keys = ", ".join(map(str, list(there)[:12]))
        more = ", ..." if len(there) > 12 else ""
        return f"{missing} (the object{at} has keys {keys}{more})"
    if isinstance(there, list):
        return f"{missing} (the list{at} has {len(there)} items)"
    return f"{missing} (the value{at} is {there!r}, not an object)"


@functools.lru_cache(maxsize=1024)  # the same few paths are split once per record
def split(path: str) -> Tuple[str, ...]:
    """The segments of a dotted path; empty segments (``a..b``, a leading dot) are refused."""
    parts = tuple(path.split("."))
    if not path or any(not p for p in parts):
        raise ValueError(f"expected a dotted path like `metrics.val.loss`, got {path!r}")
    return parts


def lookup(record: Any, path: str, *, what: str = "record") -> Any:
    """The value at ``path`` in ``record``, or :class:`PathNotFound` naming how far it got (and
    calling ``record`` by ``what`` in its message)."""
    # Parsed JSON holds dicts and lists only; `dict` checks are many times faster than `Mapping`.
    if isinstance(record, dict) and path in record:
        return record[path]
    here = record
    walked: list = []
    for part in split(path):
        if isinstance(here, dict) and part in here:
            here = here[part]
        elif isinstance(here, list) and _is_index(part) and -len(here) <= int(part) < len(here):
            here = here[int(part)]
        else:
            raise PathNotFound(path, ".".join(walked), here, what)
        walked.append(part)
    return here


def _is_index(part: str) -> bool:
    return part.lstrip("-").isdigit()


def flatten(record: Mapping[str, Any], prefix: str = "") -> Iterator[Tuple[str, Any]]:
    """``(dotted name, value)`` for every leaf of nested objects; lists are leaves."""
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            yield from flatten(value, prefix=f"{name}.")
        else:
            yield name, value


def flat_dict(record: Mapping[str, Any]) -> Dict[str, Any]:
    return dict(flatten(record))
