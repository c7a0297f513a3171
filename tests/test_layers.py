"""The import contracts of pyproject.toml ([tool.importlinter]): the layers, a core that imports
nothing else from the package, and no cycles inside any package. Run by import-linter, the same
check as `lint-imports` on the command line; function-level imports count too."""

import subprocess
import sys

from conftest import REPO

LINT_IMPORTS = ("import sys; from importlinter.cli import lint_imports_command; "
                "sys.exit(lint_imports_command())")  # the `lint-imports` script, from this Python


def test_import_contracts_are_kept():
    done = subprocess.run([sys.executable, "-c", LINT_IMPORTS, "--no-cache", "--no-logo"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"lint-imports found broken contracts:\n{done.stdout}{done.stderr}"
    assert "Contracts: 3 kept, 0 broken." in done.stdout, done.stdout
