"""docs/laws.md is generated from the law registry; these tests keep it from drifting."""

from pathlib import Path

import pytest

from docs_laws import REGENERATE, family_section, laws_page, main
from scalinglaws.plugins import build_registry

PAGE = Path(__file__).resolve().parents[1] / "docs" / "laws.md"


@pytest.fixture(scope="module")
def registry():
    # Built-ins only: installed third-party plugins must not change the committed page.
    return build_registry(entry_points=False)


def test_laws_page_is_current(registry):
    current = PAGE.read_text(encoding="utf-8") if PAGE.exists() else None
    assert current == laws_page(registry), (
        f"{PAGE} is stale (a law family was added or changed); regenerate it with\n"
        f"    {REGENERATE}\nand commit the result")


def test_every_registered_family_has_a_section(registry):
    page = laws_page(registry)
    for name, reg in registry.laws.items():
        assert f"\n## `{name}`\n" in page
        assert reg.obj.reference.split(",")[0].split("'")[0].strip() in page


def test_a_section_lists_formula_inputs_transforms_and_estimator(registry):
    section = "\n".join(family_section(registry.law("chinchilla")))
    assert "Formula: `L(N, D) = E + A / N^alpha + B / D^beta`" in section
    assert "Inputs: `N`, `D`" in section
    assert "| `E` | e | log | -1, -0.5, 0, 0.5, 1 | 1.5 to 2 | irreducible loss |" in section
    assert "| `A` | a | log | 0, 5, 10, 15, 20, 25 |" in section
    assert "Default estimator: loss: huber, delta: 0.001, space: log" in section


def test_check_reports_a_stale_page(tmp_path, capsys):
    stale = tmp_path / "laws.md"
    stale.write_text("# old\n", encoding="utf-8")
    assert main(["--check", str(stale)]) == 1
    assert REGENERATE in capsys.readouterr().err
    stale.write_text(laws_page(build_registry(entry_points=False)), encoding="utf-8")
    assert main(["--check", str(stale)]) == 0
