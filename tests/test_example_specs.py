"""Every example spec in specs/ is valid (loading checks keys, types, names and formulas; the
runnable examples are run by the tests of their tasks and families)."""

import pytest

from conftest import REPO
from scalinglaws import load_spec

SPECS = sorted(p.relative_to(REPO) for p in (REPO / "specs").rglob("*.yaml"))


@pytest.mark.parametrize("path", SPECS, ids=str)
def test_example_spec_is_valid(path):
    spec = load_spec(REPO / path)
    assert spec.tasks
