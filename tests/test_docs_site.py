"""The documentation: every hook documented, generated pages current, examples run, site builds."""

import doctest
import inspect
import subprocess
import sys

import pytest

from conftest import REPO
from docs_cli import cli_reference
from scalinglaws import hookspecs


def test_every_hook_is_documented_with_its_signature():
    page = (REPO / "docs" / "plugin-hooks.md").read_text()
    hooks = [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
             if name.startswith("register_")]
    assert hooks
    for name in hooks:
        signature = f"{name}{inspect.signature(getattr(hookspecs, name))}"
        assert f"`{signature}`" in page, f"docs/plugin-hooks.md lacks a section for {signature}"


def test_cli_reference_is_current():
    assert (REPO / "docs" / "cli.md").read_text() == cli_reference(), (
        "docs/cli.md is stale; regenerate it with `python tools/docs_cli.py > docs/cli.md`")


def test_embedding_examples_run():
    result = doctest.testfile(str(REPO / "docs" / "embedding.md"), module_relative=False,
                              optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 5 and result.failed == 0


def test_site_builds_without_warnings(tmp_path):
    pytest.importorskip("mkdocs", reason="mkdocs is not installed (pip install '.[docs]')")
    pytest.importorskip("material", reason="mkdocs-material is not installed (pip install '.[docs]')")
    out = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                          str(tmp_path / "site")], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
