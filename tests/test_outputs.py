"""Outputs appear whole or not at all."""

import pytest

import scalinglaws as sl
from scalinglaws import plugins
from scalinglaws.hookspecs import hookimpl
from scalinglaws.runner import write_outputs

SPEC = """
version: 1
datasets:
  sim:
    source: simulate
    law: power_law
    truth: {E: 1.5, A: 20.0, alpha: 0.3}
    design: {x: [1.0e+6, 1.0e+7, 1.0e+8, 1.0e+9, 1.0e+10]}
tasks:
  - {kind: fit, dataset: sim, law: power_law}
"""


class Failing:
    @hookimpl
    def register_reporters(self, register):
        def fail(result, out):
            (out / "partial.txt").write_text("half")
            raise RuntimeError("disk full")

        register("failing", fail)


def test_failed_reporter_leaves_previous_output_untouched(write_spec, tmp_path):
    registry = plugins.build_registry(((Failing(), "failing"),), entry_points=False)
    result = sl.run(sl.load_spec(write_spec(SPEC), registry), out=False, registry=registry)
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("previous run")
    with pytest.raises(RuntimeError, match="disk full"):
        write_outputs(result, out, registry)
    assert sorted(p.name for p in out.iterdir()) == ["old.txt"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_successful_run_replaces_previous_output(write_spec, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "stale.txt").write_text("old")
    sl.run(write_spec(SPEC), out=out)
    names = sorted(p.name for p in out.iterdir())
    assert names == ["fit_fit.png", "params.csv", "report.md", "results.json"]


def test_reporters_never_import_tasks():
    """Reporters read results through the TaskResult protocol and report/<kind> presenters only."""
    import subprocess
    import sys

    code = ("import sys, scalinglaws.report.files, scalinglaws.report.replay, scalinglaws.builtin.reporters; "
            "print(sorted(m for m in sys.modules if m.startswith('scalinglaws.tasks')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
