"""docs/spec-reference.md is generated from the spec classes; these tests keep it from drifting."""

from pathlib import Path

import attrs
import pytest

from docs_reference import CORE_CLASSES, REGENERATE, documented_classes, main, spec_reference
from scalinglaws.plugins import build_registry

PAGE = Path(__file__).resolve().parents[1] / "docs" / "spec-reference.md"


@pytest.fixture(scope="module")
def registry():
    # Built-ins only: installed third-party plugins must not change the committed page.
    return build_registry(entry_points=False)


def test_spec_reference_is_current(registry):
    expected = spec_reference(registry)
    current = PAGE.read_text(encoding="utf-8") if PAGE.exists() else None
    assert current == expected, (
        f"{PAGE} is stale (a spec or plugin option class changed); regenerate it with\n"
        f"    {REGENERATE}\nand commit the result")


def test_every_spec_and_plugin_field_is_documented(registry):
    classes = documented_classes(registry)
    registered = [reg.obj for kind in ("sources", "tasks", "estimators")
                  for reg in getattr(registry, kind).values()]
    assert set(CORE_CLASSES) | set(registered) <= set(classes)
    undocumented = [f"{cls.__module__}.{cls.__qualname__}.{f.name}"
                    for cls in classes for f in attrs.fields(cls)
                    if not str(f.metadata.get("doc") or "").strip()]
    assert not undocumented, ("fields without `doc` metadata (use scalinglaws.fields.field"
                              f"(..., doc=...)): {', '.join(undocumented)}")


def test_nested_option_classes_and_plugin_sections_are_listed(registry):
    page = spec_reference(registry)
    for tag, name in (("source", "simulate"), ("kind", "fit"), ("name", "multistart")):
        assert f"Keys beside `{tag}: {name}`" in page
    assert "#### `Design`" in page  # reached through SimulateSource.design's type
    assert "| `file` |" not in page and "| `digest` |" not in page  # set by the loader
    assert "| `options` |" not in page  # flattened: documented in the plugin sections


def test_check_reports_a_stale_page(tmp_path, capsys):
    stale = tmp_path / "spec-reference.md"
    stale.write_text("# old\n", encoding="utf-8")
    assert main(["--check", str(stale)]) == 1
    assert REGENERATE in capsys.readouterr().err
    stale.write_text(spec_reference(build_registry(entry_points=False)), encoding="utf-8")
    assert main(["--check", str(stale)]) == 0
