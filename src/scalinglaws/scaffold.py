"""`scalinglaws new-plugin`: write a plugin package that works as it stands.

The package has a pyproject.toml declaring the `scalinglaws` entry point (hatchling, src layout),
a module whose hook registers a minimal working example of the chosen kind, a README and a test
that registers the plugin in-process and uses it. Replace the example with your own code.
"""

from __future__ import annotations

import re
from pathlib import Path
from string import Template
from typing import List

from . import __version__
from .errors import ScalingLawsError

KINDS = ("law", "source", "task", "reporter")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
# Registry attribute, hook and one-line summary of each kind.
_KIND_INFO = {
    "law": ("laws", "register_laws", "a law family"),
    "source": ("sources", "register_data_sources", "a data source"),
    "task": ("tasks", "register_tasks", "a task"),
    "reporter": ("reporters", "register_reporters", "a reporter"),
}


def scaffold_plugin(name: str, kind: str, directory: str | Path = ".") -> List[Path]:
    """Create ``directory/name/`` holding a plugin package of ``kind``; return the files written.

    ``name`` is the distribution name (``scalinglaws-acme``); the module is its lowercase with
    ``_`` for ``-`` (``scalinglaws_acme``), and the plugin registers ``acme`` (the module name
    without a ``scalinglaws_`` prefix) under the entry point of that name.
    """
    if not _NAME.fullmatch(name):
        raise ScalingLawsError(f"expected a name of letters, digits, - and _ that starts with a letter, "
                               f"got {name!r}")
    if kind not in KINDS:
        raise ScalingLawsError(f"expected one of {', '.join(KINDS)} as the kind, got {kind!r}")
    root = Path(directory) / name
    if root.exists():
        raise ScalingLawsError(f"{root} already exists; choose another NAME or --dir")
    package = name.lower().replace("-", "_")
    short = package.removeprefix("scalinglaws_") or package
    registry_attr, hook, what = _KIND_INFO[kind]
    values = {"name": name, "package": package, "short": short, "kind": kind, "what": what,
              "hook": hook, "registry_attr": registry_attr, "version": _minor(__version__)}
    files = {
        "pyproject.toml": _PYPROJECT,
        "README.md": _README,
        f"src/{package}/__init__.py": _MODULES[kind],
        "tests/test_plugin.py": _TEST_HEAD + ("" if kind == "reporter" else _SPEC_HELPER) + _TESTS[kind],
    }
    values["imports"] = _TEST_IMPORTS[kind]
    written = []
    for relative, template in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(Template(template).substitute(values), encoding="utf-8")
        written.append(path)
    return written


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


_PYPROJECT = '''\
[build-system]
requires = ["hatchling>=1.21"]
build-backend = "hatchling.build"

[project]
name = "$name"
version = "0.1.0"
description = "A scalinglaws plugin adding $what."
readme = "README.md"
requires-python = ">=3.11"
dependencies = ["scalinglaws>=$version"]

[project.optional-dependencies]
test = ["pytest>=8"]

# scalinglaws loads every entry point of this group: the name is the plugin's name in messages,
# the value the module holding the hook functions.
[project.entry-points.scalinglaws]
$short = "$package"

[tool.hatch.build.targets.wheel]
packages = ["src/$package"]

[tool.pytest.ini_options]
testpaths = ["tests"]
'''

_README = '''\
# $name

A [scalinglaws](https://pypi.org/project/scalinglaws/) plugin adding $what, `$short`.

## Develop

```console
$$ pip install -e ".[test]"
$$ scalinglaws list $registry_attr      # shows $short, from this distribution
$$ pytest
```

The module `src/$package/__init__.py` implements the hook `$hook`; the example it registers
works as it stands, so replace it step by step and keep the tests passing.

## Publish

```console
$$ python -m build
$$ python -m twine upload dist/*
```

Users then `pip install $name`; nothing in scalinglaws changes.
'''

_LAW = '''\
"""$name: a scalinglaws plugin adding the law family `$short`.

The example is a power law with a floor, L = E + A x^-alpha. Replace it with yours: keep
`log_predict` a pure JAX function of (theta, z), theta in the fitting space in the order of
`parameters` (log E for a `log` parameter), z the prepared inputs.
"""

import jax.numpy as jnp
import numpy as np
from scalinglaws import LawFamily, Parameter
from scalinglaws.hookspecs import hookimpl


def log_predict(theta, z):
    """log L = LSE(log E, log A - alpha log x), with z = log x."""
    return jnp.logaddexp(theta[0], theta[1] - theta[2] * z[:, 0])


law = LawFamily(
    name="$short",
    formula="L(x) = E + A x^-alpha",
    reference="(the paper this law comes from)",
    description="Loss against one scale variable x.",
    inputs=("x",),
    parameters=(
        Parameter(name="E", transform="log", init=(-1.0, 0.0, 1.0), description="irreducible loss"),
        Parameter(name="A", transform="log", init=(0.0, 5.0, 10.0), description="scale"),
        Parameter(name="alpha", init=(0.1, 0.5, 1.0), description="exponent"),
    ),
    log_predict=log_predict,
    prepare=np.log,  # z = log x, once per fit, outside the compiled objective
    default_estimator={"loss": "squared", "space": "log"},
)


@hookimpl
def register_laws(register):
    register(law)
'''

_SOURCE = '''\
"""$name: a scalinglaws plugin adding the data source `$short`.

The example reads a whitespace-separated text file with a header line (`N D loss`). Replace
`load` with your format's reader; raise DataError naming the file, row and column of bad data.
"""

from pathlib import Path

import attrs
from scalinglaws import DataError, Table
from scalinglaws.hookspecs import hookimpl
from scalinglaws.fields import field


@attrs.frozen(kw_only=True)
class Source:
    """Runs from a whitespace-separated text file with a header line."""

    # Each field is a key written beside `source: $short` in a spec.
    path: str = field(doc="The file, relative to the spec's folder.")

    def load(self, ctx) -> Table:
        file = Path(ctx.base_dir) / self.path
        try:
            text = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise DataError(f"no such file ({file.resolve()}); check `path`", source=self.path) from None
        rows = [(i, line.split()) for i, line in enumerate(text.splitlines(), start=1)
                if line.strip() and not line.startswith("#")]
        if len(rows) < 2:
            raise DataError("needs a header line and at least one run", source=self.path)
        (_, header), data = rows[0], rows[1:]
        for line, cells in data:
            if len(cells) != len(header):
                raise DataError(f"line {line} has {len(cells)} values, the header has {len(header)}",
                                source=self.path)
        columns = {name: [cells[j] for _, cells in data] for j, name in enumerate(header)}
        return Table(columns, source=self.path)


@hookimpl
def register_data_sources(register):
    register("$short", Source)
'''

_TASK = '''\
"""$name: a scalinglaws plugin adding the task `$short`.

The example counts a dataset's runs and gives each numeric column's range. Replace `run` with
your analysis; its result implements `scalinglaws.results.TaskResult` (`kind`, `name`,
`to_json()`, `rows()`, `from_json()`) and presents itself (`markdown(images)`, `figures()`).
"""

from typing import ClassVar

import attrs
from scalinglaws.hookspecs import hookimpl
from scalinglaws.fields import field


@attrs.frozen(kw_only=True)
class Task:
    """Count a dataset's runs and give each numeric column's range."""

    # Each field is a key written beside `kind: $short` in a spec's task.
    dataset: str = field(doc="Name of a dataset under `datasets`.")

    def check(self, spec, registry):
        """Problems `scalinglaws validate` reports at this task's line."""
        if self.dataset not in spec.datasets:
            yield ("dataset",), (f"no dataset {self.dataset!r}; the spec defines "
                                 f"{', '.join(spec.datasets) or 'none'}")

    def run(self, ctx, name):
        table = ctx.table(self.dataset)
        ranges = {c: [float(table[c].min()), float(table[c].max())]
                  for c in table.names if table[c].dtype.kind == "f"}
        return Result(name=name, dataset=self.dataset, n_runs=len(table), ranges=ranges)


@attrs.frozen(kw_only=True)
class Result:
    name: str
    dataset: str
    n_runs: int
    ranges: dict
    kind: ClassVar[str] = "$short"

    def to_json(self):
        """This task's entry in results.json."""
        return {"name": self.name, "kind": self.kind, "dataset": self.dataset,
                "n_runs": self.n_runs, "ranges": self.ranges}

    def rows(self):
        """Rows of params.csv: none, nothing is fitted."""
        return []

    @classmethod
    def from_json(cls, data, registry=None):
        """The result again from its entry in results.json (`scalinglaws report OUT`)."""
        return cls(name=data["name"], dataset=data["dataset"], n_runs=data["n_runs"],
                   ranges=data["ranges"])

    def markdown(self, images=frozenset()):
        """This task's section of report.md (``images``: the figures written)."""
        return [f"## Task `{self.name}`: {self.n_runs} runs in `{self.dataset}`", ""]

    def figures(self):
        """{file name: matplotlib Figure}: none."""
        return {}


Task.result_type = Result  # what `scalinglaws report` rebuilds this task's results with


@hookimpl
def register_tasks(register):
    register("$short", Task)
'''

_REPORTER = '''\
"""$name: a scalinglaws plugin adding the reporter `$short`.

The example writes `$short.txt`, one line per task. A reporter writes into `out_dir` (a temporary
folder that replaces the output folder once every reporter has succeeded) and returns the names
of the files it wrote.
"""

from scalinglaws.hookspecs import hookimpl


def report(result, out_dir):
    lines = [f"{task.name}: {task.kind}" for task in result.tasks]
    (out_dir / "$short.txt").write_text("\\n".join(lines) + "\\n", encoding="utf-8")
    return ["$short.txt"]


@hookimpl
def register_reporters(register):
    register("$short", report)
'''

_MODULES = {"law": _LAW, "source": _SOURCE, "task": _TASK, "reporter": _REPORTER}

_TEST_HEAD = '''\
"""The plugin registers and works, in-process: no install needed."""

$imports

import $package

PLUGIN = ($package, "$name")


def registry():
    return build_registry(extra_plugins=(PLUGIN,), entry_points=False)


def test_registers():
    reg = registry()
    assert reg.problems == []
    assert "$short" in reg.$registry_attr
'''

_SPEC_HELPER = '''

def spec(tmp_path, text):
    path = tmp_path / "spec.yaml"
    path.write_text(textwrap.dedent(text))
    return load_spec(path, registry())
'''

# Each kind's test imports only what it uses, in isort order, so the generated tests lint clean.
_REGISTRY_IMPORT = "from scalinglaws.plugins import build_registry"
_TEST_IMPORTS = {
    "law": f"import textwrap\n\nfrom scalinglaws import load_spec, run\n{_REGISTRY_IMPORT}",
    "source": (f"import textwrap\n\nfrom scalinglaws import load_spec\n{_REGISTRY_IMPORT}\n"
               "from scalinglaws.runner import RunContext"),
    "task": f"import textwrap\n\nfrom scalinglaws import load_spec, run\n{_REGISTRY_IMPORT}",
    "reporter": f"import types\n\n{_REGISTRY_IMPORT}",
}

_TESTS = {
    "law": '''

def test_fit_recovers_simulated_truth(tmp_path):
    loaded = spec(tmp_path, """
        version: 1
        datasets:
          sim:
            source: simulate
            law: $short
            truth: {E: 1.5, A: 50.0, alpha: 0.3}
            design: {x: {logspace: [1.0e+6, 1.0e+10], num: 8}}
        tasks:
          - {kind: fit, dataset: sim, law: $short}
    """)
    params = run(loaded, out=False, registry=registry()).tasks[0].fit.params
    assert abs(params["alpha"] - 0.3) < 1e-6
''',
    "source": '''

def test_reads_a_file_through_a_spec(tmp_path):
    (tmp_path / "runs.txt").write_text("N D loss\\n1e8 2e9 3.1\\n2e8 4e9 2.9\\n")
    loaded = spec(tmp_path, """
        version: 1
        datasets:
          runs: {source: $short, path: runs.txt}
        tasks:
          - {kind: fit, dataset: runs, law: chinchilla}
    """)
    table = RunContext(spec=loaded, registry=registry()).table("runs")
    assert list(table.numeric("loss")) == [3.1, 2.9]
''',
    "task": '''

def test_runs_in_a_spec(tmp_path):
    loaded = spec(tmp_path, """
        version: 1
        datasets:
          runs:
            source: inline
            rows: [{N: 1.0e+8, loss: 3.1}, {N: 2.0e+8, loss: 2.9}, {N: 4.0e+8, loss: 2.7}]
        tasks:
          - {kind: $short, dataset: runs}
    """)
    result = run(loaded, out=False, registry=registry()).tasks[0].to_json()
    assert result["n_runs"] == 3 and result["ranges"]["loss"] == [2.7, 3.1]
''',
    "reporter": '''

def test_writes_its_file(tmp_path):
    result = types.SimpleNamespace(tasks=[types.SimpleNamespace(name="fit", kind="fit")])
    reporter = registry().reporters["$short"].obj
    assert reporter(result, tmp_path) == ["$short.txt"]
    assert (tmp_path / "$short.txt").read_text() == "fit: fit\\n"
''',
}
