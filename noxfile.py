"""Developer sessions: `nox` runs lint, typecheck and tests; `nox -s docs` builds the docs."""

import nox

nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.default_venv_backend = "venv"


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite (the README's test command)."""
    session.install(".[test]")
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff: lint the package, tests, benchmarks and this file."""
    session.install("ruff")
    session.run("ruff", "check", "src", "tests", "tools", "benchmarks", "noxfile.py", *session.posargs)


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy on src/."""
    session.install(".", "mypy", "types-PyYAML")
    session.run("mypy", *session.posargs)


@nox.session(default=False)
def docs(session: nox.Session) -> None:
    """Build the mkdocs site with warnings as errors; check the generated pages are current."""
    session.install(".[docs]")
    for script, page in (("tools/docs_reference.py", "docs/spec-reference.md"),
                         ("tools/docs_laws.py", "docs/laws.md"),
                         ("tools/docs_cli.py", "docs/cli.md")):
        session.run("python", script, "--check", page)
    session.run("mkdocs", "build", "--strict", *session.posargs)


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Time the core against the scipy reference loop (prints ratios)."""
    session.install(".[test]")
    session.run("python", "benchmarks/bench_chinchilla.py", *session.posargs)
