"""The example law plugin: the formula against the paper's complex form, registration in-process,
recovery from simulated runs, and (once `pip install -e` has run) the installed entry point."""

import json
import subprocess
import sys
import textwrap
from importlib import metadata

import numpy as np
import pytest
import scalinglaws as sl
import scalinglaws.core  # noqa: F401  (JAX in float64: LawFamily.predict otherwise computes in float32)
from scalinglaws.plugins import build_registry

import scalinglaws_example_law
from scalinglaws_example_law import rosenfeld_envelope

# CIFAR-10-like values: random-guess top-1 error 0.9, exponents near the paper's Table 2.
TRUTH = {"alpha": 0.66, "beta": 0.53, "b": 1.0, "c_inf": 1e-4, "eta": 0.01, "eps0": 0.9}
DISTRIBUTION = "scalinglaws-example-law"


def paper_form(p, m, n):
    """eps0 |e / (e - i eta)| with complex arithmetic, as eq. 5 is written."""
    e = n ** -p["alpha"] + p["b"] * m ** -p["beta"] + p["c_inf"]
    return p["eps0"] * np.abs(e / (e - 1j * p["eta"]))


def test_prediction_matches_the_papers_complex_form():
    m, n = np.meshgrid(np.geomspace(1e3, 1e8, 6), np.geomspace(1e2, 1e6, 6))
    got = rosenfeld_envelope.predict(TRUTH, {"N": m.ravel(), "D": n.ravel()})
    np.testing.assert_allclose(got, paper_form(TRUTH, m.ravel(), n.ravel()), rtol=1e-12)


def test_saturates_at_random_guess_and_becomes_a_power_law():
    tiny = rosenfeld_envelope.predict(TRUTH, {"N": np.array([1.0]), "D": np.array([1.0])})
    assert tiny[0] == pytest.approx(TRUTH["eps0"], rel=1e-3)
    big = np.array([1e12])
    e = big ** -TRUTH["alpha"] + TRUTH["b"] * big ** -TRUTH["beta"] + TRUTH["c_inf"]
    huge = rosenfeld_envelope.predict(TRUTH, {"N": big, "D": big})
    assert huge[0] == pytest.approx(TRUTH["eps0"] * e[0] / TRUTH["eta"], rel=1e-3)


def test_registers_in_process():
    registry = build_registry(extra_plugins=((scalinglaws_example_law, "rosenfeld"),), entry_points=False)
    assert registry.problems == []
    assert registry.laws["rosenfeld_envelope"].obj is rosenfeld_envelope


SPEC = """
    version: 1
    seed: 3
    datasets:
      cifar:
        source: simulate
        law: rosenfeld_envelope
        truth: {alpha: 0.66, beta: 0.53, b: 1.0, c_inf: 1.0e-4, eta: 0.01, eps0: 0.9}
        design:
          N: {logspace: [1.0e+4, 1.0e+7], num: 7}
          D: {logspace: [1.0e+3, 5.0e+4], num: 7}
        noise: 0.001
    tasks:
      - kind: fit
        dataset: cifar
        law: {family: rosenfeld_envelope, fixed: {eps0: 0.9}}
"""


def test_a_spec_recovers_the_truth_from_simulated_runs(tmp_path):
    registry = build_registry(extra_plugins=((scalinglaws_example_law, "rosenfeld"),), entry_points=False)
    (tmp_path / "spec.yaml").write_text(textwrap.dedent(SPEC))
    result = sl.run(sl.load_spec(tmp_path / "spec.yaml", registry), out=False, registry=registry)
    params = result.tasks[0].fit.params
    for name in ("alpha", "beta", "eta"):
        assert params[name] == pytest.approx(TRUTH[name], rel=0.02), name


def installed() -> bool:
    try:
        metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return False
    return True


needs_install = pytest.mark.skipif(not installed(), reason=(
    f"{DISTRIBUTION} is not installed; run `pip install -e plugins/{DISTRIBUTION}` first"))


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "scalinglaws.cli", *args], capture_output=True,
                          text=True, timeout=300, cwd=cwd)


@needs_install
def test_installed_law_is_listed_by_the_cli():
    out = cli("list", "laws")
    assert out.returncode == 0, out.stderr
    line = next(line for line in out.stdout.splitlines() if line.startswith("rosenfeld_envelope"))
    assert line.endswith(f"[{DISTRIBUTION}]")


@needs_install
def test_installed_law_is_usable_in_a_spec_from_the_cli(tmp_path):
    # Three free parameters keep this second fit (a fresh process, a fresh compile) quick.
    cheap = SPEC.replace("fixed: {eps0: 0.9}", "fixed: {eps0: 0.9, b: 1.0, c_inf: 1.0e-4}")
    (tmp_path / "spec.yaml").write_text(textwrap.dedent(cheap))
    out = cli("run", "spec.yaml", "--out", "out", "--json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    fit = json.loads(out.stdout)["tasks"][0]["fit"]
    assert fit["params"]["alpha"] == pytest.approx(TRUTH["alpha"], rel=0.02)
