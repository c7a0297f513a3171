"""Fit uncertainty: bootstrap, sandwich and Hessian intervals; results.json v2; report re-render."""

import io
import json

import numpy as np
import pytest
from click.testing import CliRunner

import scalinglaws as sl
from scalinglaws.cli import cli
from scalinglaws.laws.chinchilla import chinchilla
from scalinglaws.plugins import get_registry
from scalinglaws.report.plots import fit_figure
from scalinglaws.runner import RESULTS_SCHEMA_VERSION, write_outputs
from scalinglaws.uncertainty import progress

TRUTH = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}

SPEC = """
version: 1
name: uncertainty
seed: 0
datasets:
  sim:
    source: simulate
    law: chinchilla
    truth: {E: 1.69, A: 406.4, B: 410.7, alpha: 0.34, beta: 0.28}
    design:
      N: {logspace: [1.0e+7, 1.0e+10], num: 7}
      D: {logspace: [1.0e+9, 1.0e+12], num: 7}
    noise: 0.01
tasks:
  - name: chin
    kind: fit
    dataset: sim
    law: chinchilla
    uncertainty: {method: METHOD, n: 200, level: 0.9}
"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = {}
    for method in ("bootstrap", "sandwich", "hessian", "none"):
        path = tmp_path_factory.mktemp(method) / "spec.yaml"
        path.write_text(SPEC.replace("METHOD", method))
        out[method] = sl.run(path, out=False)
    return out


def test_bootstrap_intervals_cover_estimates_and_truth(runs):
    task = runs["bootstrap"].tasks[0]
    unc = task.fit.uncertainty
    assert unc.method == "bootstrap" and unc.n_resamples == 200 and unc.level == 0.9
    assert unc.n_converged == 200
    for name, value in task.fit.params.items():
        iv = unc.params[name]
        assert iv.lower < value < iv.upper and iv.se > 0, name
    a = unc.derived["a"]
    assert a.estimate == pytest.approx(task.fit.params["beta"] / (task.fit.params["alpha"]
                                                                   + task.fit.params["beta"]))
    assert set(unc.derived) == {"a", "b", "G"}
    assert unc.derived["b"].se == pytest.approx(a.se)
    assert len(unc.draws["alpha"]) == 200


def test_delta_methods_agree_with_bootstrap_in_size(runs):
    boot = runs["bootstrap"].tasks[0].fit.uncertainty
    for method in ("sandwich", "hessian"):
        unc = runs[method].tasks[0].fit.uncertainty
        assert unc.method == method and unc.draws is None
        for name in ("E", "alpha", "beta", "a"):
            iv = unc.params.get(name) or unc.derived[name]
            ref = boot.params.get(name) or boot.derived[name]
            assert 0.4 < iv.se / ref.se < 2.5, (method, name, iv.se, ref.se)
            assert iv.upper - iv.estimate == pytest.approx(iv.estimate - iv.lower)
    assert runs["none"].tasks[0].fit.uncertainty is None


def test_results_json_and_report_carry_the_intervals(runs, tmp_path):
    result = runs["bootstrap"]
    data = json.loads(json.dumps(result.to_json()))
    assert data["schema_version"] == RESULTS_SCHEMA_VERSION == 3
    unc = data["tasks"][0]["fit"]["uncertainty"]
    assert unc["method"] == "bootstrap" and unc["level"] == 0.9
    assert set(unc["params"]["alpha"]) == {"estimate", "se", "lower", "upper"}
    assert set(unc["derived"]) == {"a", "b", "G"}
    assert len(unc["draws"]["E"]) == 200
    assert len(data["tasks"][0]["data"]["target"]) == 49
    out = tmp_path / "out"
    write_outputs(result, out, get_registry())
    report = (out / "report.md").read_text()
    assert "- Uncertainty: nonparametric bootstrap, 200 resamples" in report
    assert "| a |" in report and "90% interval" in report
    header = (out / "params.csv").read_text().splitlines()[0]
    assert header == "task,law,parameter,estimate,se,lower,upper,truth,rel_error"
    none = tmp_path / "none"
    write_outputs(runs["none"], none, get_registry())
    assert "- Uncertainty: none (point estimate)" in (none / "report.md").read_text()


def test_fit_plot_draws_a_band_only_with_draws(runs):
    from matplotlib.collections import PolyCollection

    with_band = fit_figure(runs["bootstrap"].tasks[0])
    bands = [c for c in with_band.axes[0].collections if isinstance(c, PolyCollection)]
    assert len(bands) == 7  # one per value of D
    assert len(with_band.axes[0].lines) == 7
    without = fit_figure(runs["sandwich"].tasks[0])
    assert not [c for c in without.axes[0].collections if isinstance(c, PolyCollection)]


def test_report_command_rerenders_from_results_json(runs, tmp_path):
    out = tmp_path / "out"
    write_outputs(runs["bootstrap"], out, get_registry())
    before = (out / "report.md").read_text()
    (out / "report.md").unlink()
    (out / "fit_chin.png").unlink()
    result = CliRunner().invoke(cli, ["report", str(out)])
    assert result.exit_code == 0, result.output
    def strip(text):  # results.json keeps the run time to the millisecond
        return [line for line in text.splitlines() if not line.startswith("- Run time")]

    assert strip((out / "report.md").read_text()) == strip(before)
    assert (out / "fit_chin.png").stat().st_size > 10_000
    missing = CliRunner().invoke(cli, ["report", str(tmp_path)])
    assert missing.exit_code == 2 and "results.json not found" in missing.output


def test_progress_is_quiet_off_a_terminal_and_spins_on_one():
    quiet = io.StringIO()
    with progress("bootstrap", stream=quiet):
        pass
    assert quiet.getvalue() == ""

    class Tty(io.StringIO):
        def isatty(self):
            return True

    tty = Tty()
    with progress("bootstrap: 10 refits", stream=tty):
        pass
    assert "bootstrap: 10 refits" in tty.getvalue()


def test_closed_form_allocation_matches_its_definition():
    p = {"alpha": 0.34, "beta": 0.28, "A": 406.4, "B": 410.7}
    d = chinchilla.derived(p)
    c = 5.76e23
    out = chinchilla.allocation(p, [c])
    assert out["N_opt"][0] * out["D_opt"][0] * 6 == pytest.approx(c)
    # the optimum of E + A N^-alpha + B (C/6N)^-beta along C = 6 N D
    n = np.geomspace(1e9, 1e12, 200001)
    loss = p["A"] * n ** -p["alpha"] + p["B"] * (c / (6 * n)) ** -p["beta"]
    assert out["N_opt"][0] == pytest.approx(n[np.argmin(loss)], rel=1e-3)
    assert d["a"] + d["b"] == pytest.approx(1.0)


def test_bad_uncertainty_method_is_a_spec_error(write_spec):
    path = write_spec(SPEC.replace("METHOD", "jackknife"))
    with pytest.raises(sl.errors.ScalingLawsError, match="jackknife"):
        sl.load_spec(path)


def test_report_rerenders_unknown_task_kinds_as_a_summary(tmp_path):
    from scalinglaws.report.replay import rerender

    data = {"schema_version": 2, "spec": {"name": "other", "file": "x.yaml", "sha256": "0"},
            "seed": 0, "versions": {"python": "3"}, "elapsed_s": 1.0,
            "tasks": [{"kind": "mystery", "name": "m", "score": 1.5, "rows": [1, 2]}]}
    (tmp_path / "results.json").write_text(json.dumps(data))
    assert rerender(tmp_path, get_registry()) == ["report.md"]
    text = (tmp_path / "report.md").read_text()
    assert "## Task `m` (mystery)" in text and "- score: 1.5" in text
