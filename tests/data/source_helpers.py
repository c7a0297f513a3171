"""Helpers for the data-source tests (a module, not a conftest: tests/conftest.py is imported by
name elsewhere, and a second conftest module would shadow it)."""

import json
import textwrap
import types
from pathlib import Path


def make_ctx(base: Path):
    """What a source's ``load`` receives, with the spec's folder at ``base``."""
    return types.SimpleNamespace(base_dir=str(base), seed=0, registry=None, dataset="runs")


def write(base: Path, name: str, content) -> Path:
    """Write ``base/name``: text is dedented, bytes written as is, anything else dumped as JSON."""
    path = base / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
    else:
        path.write_text(json.dumps(content), encoding="utf-8")
    return path


def jsonl(*records) -> str:
    """JSON Lines text, one record per line."""
    return "".join(json.dumps(r) + "\n" for r in records)
