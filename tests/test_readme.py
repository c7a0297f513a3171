"""The README's two commands are the ones CI runs."""

import re

from conftest import REPO

MAIN = "python -m pip install . && scalinglaws run specs/quickstart.yaml --out out"
TESTS = 'python -m pip install ".[test]" && python -m pytest'


def _bash_blocks(text: str) -> list:
    return [b.strip() for b in re.findall(r"```bash\n(.*?)```", text, flags=re.S)]


def test_readme_gives_the_two_commands():
    blocks = _bash_blocks((REPO / "README.md").read_text())
    assert MAIN in blocks and TESTS in blocks


def test_ci_runs_exactly_those_commands():
    lines = [ln.strip() for ln in (REPO / ".ci" / "run").read_text().splitlines()]
    assert MAIN in lines and TESTS in lines
