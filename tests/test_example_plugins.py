"""The example plugins in plugins/ install into a fresh virtual environment and appear there,
without any change to scalinglaws; and `scalinglaws new-plugin` scaffolds packages that register.

The fresh environment sees this environment's packages (scalinglaws, JAX) through a folder of
links to its site-packages that leaves out every installed scalinglaws plugin, so a plugin can
only appear there by being installed into it. Building a plugin needs its build backend,
hatchling: without build isolation when this environment has it, else pip fetches it from the
configured index (a local mirror or PyPI); with neither the test skips and says why.
"""

import importlib
import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import pytest

from conftest import REPO
from scalinglaws.plugins import GROUP, build_registry
from scalinglaws.scaffold import KINDS, scaffold_plugin

PLUGINS = REPO / "plugins"
# What pip prints when it cannot get the build backend: no index reachable, or none that has it.
_CANNOT_FETCH = ("No matching distribution found", "Could not find a version that satisfies",
                 "Failed to establish a new connection", "Network is unreachable",
                 "Temporary failure in name resolution", "Name or service not known")


def _plugin_distributions():
    """Installed distributions with `scalinglaws` entry points, other than scalinglaws itself."""
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name and name.lower() != "scalinglaws" and any(ep.group == GROUP for ep in dist.entry_points):
            yield dist


def _linked_site_packages(target: Path) -> Path:
    """``target``: links to this environment's site-packages entries, installed plugins left out."""
    hidden = set()
    for dist in _plugin_distributions():
        for file in dist.files or ():
            hidden.add(Path(str(file)).parts[0])  # its dist-info, package folder and .pth files
    target.mkdir()
    for site_dir in {Path(p) for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()}:
        for entry in site_dir.iterdir():
            if entry.name not in hidden and not (target / entry.name).exists():
                (target / entry.name).symlink_to(entry)
    return target


@pytest.fixture(scope="module")
def fresh_env(tmp_path_factory):
    """A new virtual environment (no pip of its own) that sees scalinglaws and JAX, no plugins."""
    root = tmp_path_factory.mktemp("fresh")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True, timeout=60).stdout.strip()
    shared = _linked_site_packages(root / "shared-site-packages")
    # A .pth line starting with `import` runs at start-up: addsitedir also reads the linked .pth
    # files, which is how the editable scalinglaws finds its source.
    pth = f"import site; site.addsitedir({str(shared)!r})\n"
    (Path(purelib) / "_shared_site_packages.pth").write_text(pth)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCALINGLAWS_")}
    return python, env, root


def _run(python, env, *args, cwd=None, timeout=180):
    return subprocess.run([str(python), *args], capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=timeout)


def _listed(python, env, kind: str) -> str:
    out = _run(python, env, "-m", "scalinglaws.cli", "list", kind)
    assert out.returncode == 0, out.stderr
    return out.stdout


def _pip_install(python, env, package: Path) -> None:
    """``pip install --no-deps`` of ``package`` into the fresh environment, or a skip saying why not."""
    if importlib.util.find_spec("hatchling") is not None:
        build = ["--no-build-isolation"]  # offline: the backend comes from this environment
    else:
        build = ["--retries", "0", "--timeout", "15"]  # fetch the backend; fail fast when offline
    out = _run(python, env, "-m", "pip", "install", "--no-deps", "--no-input", *build, str(package),
               timeout=240)
    if out.returncode != 0:
        text = out.stdout + out.stderr
        if any(sign in text for sign in _CANNOT_FETCH):
            pytest.skip("pip cannot build the plugin offline: its build backend hatchling is not "
                        "installed here and no package index that has it is reachable (pip said: "
                        f"{text.strip().splitlines()[-1]})")
        pytest.fail(f"pip install {package.name} failed:\n{text}")


LAW_SPEC = """
    version: 1
    datasets:
      cifar:
        source: simulate
        law: rosenfeld_envelope
        truth: {alpha: 0.66, beta: 0.53, b: 1.0, c_inf: 1.0e-4, eta: 0.01, eps0: 0.9}
        design:
          N: {logspace: [1.0e+4, 1.0e+7], num: 5}
          D: {logspace: [1.0e+3, 5.0e+4], num: 5}
    tasks:
      - kind: fit
        dataset: cifar
        law: {family: rosenfeld_envelope, fixed: {b: 1.0, c_inf: 1.0e-4, eps0: 0.9}}
"""


def test_example_law_installs_into_a_fresh_environment(fresh_env):
    python, env, root = fresh_env
    assert "rosenfeld_envelope" not in _listed(python, env, "laws"), "the fresh environment is not fresh"
    _pip_install(python, env, PLUGINS / "scalinglaws-example-law")
    line = next(line for line in _listed(python, env, "laws").splitlines()
                if line.startswith("rosenfeld_envelope"))
    assert line.endswith("[scalinglaws-example-law]")
    (root / "law.yaml").write_text(textwrap.dedent(LAW_SPEC))
    out = _run(python, env, "-m", "scalinglaws.cli", "run", "law.yaml", "--out", "law-out", "--json",
               cwd=root)
    assert out.returncode == 0, out.stderr
    params = json.loads(out.stdout)["tasks"][0]["fit"]["params"]
    assert params["alpha"] == pytest.approx(0.66, rel=1e-4) and params["eta"] == pytest.approx(0.01, rel=1e-4)


SOURCE_SPEC = """
    version: 1
    datasets:
      sweep:
        source: run_folders
        root: runs
        metric: val.loss
        config: {N: model.n_params}
    tasks:
      - {kind: fit, dataset: sweep, law: {family: power_law, inputs: {x: N}}}
"""


def test_example_source_installs_into_a_fresh_environment(fresh_env):
    python, env, root = fresh_env
    assert "run_folders" not in _listed(python, env, "sources")
    _pip_install(python, env, PLUGINS / "scalinglaws-example-source")
    line = next(line for line in _listed(python, env, "sources").splitlines()
                if line.startswith("run_folders"))
    assert line.endswith("[scalinglaws-example-source]")
    for name, n in (("a", 1e8), ("b", 1e9)):
        (root / "runs" / name).mkdir(parents=True)
        (root / "runs" / name / "config.json").write_text(json.dumps({"model": {"n_params": n}}))
        (root / "runs" / name / "metrics.jsonl").write_text(json.dumps({"step": 1, "val": {"loss": 3.0}}))
    (root / "source.yaml").write_text(textwrap.dedent(SOURCE_SPEC))
    out = _run(python, env, "-m", "scalinglaws.cli", "validate", "source.yaml", cwd=root)
    assert out.returncode == 0 and "source.yaml: ok" in out.stdout, out.stderr


# --- scalinglaws new-plugin ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_scaffold_is_importable_and_registers(tmp_path, monkeypatch, kind):
    name = f"scalinglaws-demo-{kind}"
    written = scaffold_plugin(name, kind, tmp_path)
    project = tmp_path / name
    assert {p.relative_to(project).as_posix() for p in written} == {
        "pyproject.toml", "README.md", f"src/scalinglaws_demo_{kind}/__init__.py", "tests/test_plugin.py"}
    pyproject = (project / "pyproject.toml").read_text()
    assert f'[project.entry-points.scalinglaws]\ndemo_{kind} = "scalinglaws_demo_{kind}"' in pyproject
    monkeypatch.syspath_prepend(str(project / "src"))
    module = importlib.import_module(f"scalinglaws_demo_{kind}")
    try:
        registry = build_registry(extra_plugins=((module, name),), entry_points=False)
        assert registry.problems == []
        table = {"law": registry.laws, "source": registry.sources, "task": registry.tasks,
                 "reporter": registry.reporters}[kind]
        assert table[f"demo_{kind}"].plugin == name
    finally:
        sys.modules.pop(f"scalinglaws_demo_{kind}", None)


def test_scaffolded_packages_pass_their_own_tests(tmp_path):
    # One pytest process for the four packages (their test modules share a name, hence importlib).
    projects = [tmp_path / f"scalinglaws-demo-{kind}" for kind in KINDS]
    for kind in KINDS:
        scaffold_plugin(f"scalinglaws-demo-{kind}", kind, tmp_path)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(p / "src") for p in projects)}
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "--import-mode=importlib", *(str(p / "tests") for p in projects)],
                         cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0 and "8 passed" in out.stdout, out.stdout + out.stderr


def test_scaffold_refuses_bad_names_and_existing_folders(tmp_path):
    from scalinglaws.errors import ScalingLawsError

    with pytest.raises(ScalingLawsError, match="expected a name of letters, digits"):
        scaffold_plugin("my plugin", "law", tmp_path)
    with pytest.raises(ScalingLawsError, match="expected one of law, source, task, reporter"):
        scaffold_plugin("mine", "estimator", tmp_path)
    (tmp_path / "mine").mkdir()
    with pytest.raises(ScalingLawsError, match=r"mine already exists; choose another NAME or --dir"):
        scaffold_plugin("mine", "law", tmp_path)


def test_new_plugin_command(tmp_path):
    from click.testing import CliRunner

    from scalinglaws.cli import cli

    args = ["new-plugin", "acme-tokens", "--kind", "source", "--dir", str(tmp_path)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "acme-tokens" / "src" / "acme_tokens" / "__init__.py").exists()
    assert "pip install -e" in result.output
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 2 and "already exists" in again.output
