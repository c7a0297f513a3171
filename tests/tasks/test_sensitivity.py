"""The `sensitivity` task: refits under fitting choices, the spread table and its plot."""

import json

import pytest
from matplotlib.collections import PathCollection

from scalinglaws.errors import SpecError
from scalinglaws.laws.chinchilla import chinchilla
from scalinglaws.laws.power_law import power_law
from scalinglaws.plugins import get_registry
from scalinglaws.report import presenters
from scalinglaws.runner import execute
from scalinglaws.spec.structure import load_spec
from scalinglaws.tasks.sensitivity import quantities

SPEC = """
version: 1
seed: 0
datasets:
  runs:
    source: simulate
    law: chinchilla
    truth: {E: 1.69, A: 406.4, B: 410.7, alpha: 0.34, beta: 0.28}
    design: {N: {logspace: [5.0e+7, 5.0e+9], num: 6}, D: {logspace: [1.0e+9, 2.0e+11], num: 6}}
    noise: 0.002
tasks:
  - name: choices
    kind: sensitivity
    dataset: runs
    law: chinchilla
    estimator:
      starts: random
      n_random: 64
      grid: {E: [-0.5, 1.0], A: [3.0, 8.0], B: [3.0, 8.0], alpha: [0.1, 0.6], beta: [0.1, 0.6]}
    deltas: [1.0e-2]
    squared: false
    drop_smallest: [1]
    drop_largest: [1]
    subsample: 0.8
    subsample_repeats: 2
"""


@pytest.fixture(scope="module")
def result():
    registry = get_registry()
    return execute(load_spec(SPEC, registry), registry).tasks[0]


def test_derived_allocation_exponent():
    # The family's own derived quantities (law knowledge on the family), none for a law that
    # declares none.
    params = {"E": 1.0, "A": 400.0, "B": 410.0, "alpha": 0.34, "beta": 0.28}
    q = quantities(chinchilla, params)
    assert q["a"] == pytest.approx(0.28 / 0.62) and q["b"] == pytest.approx(0.34 / 0.62)
    assert set(quantities(power_law, {"E": 1.0, "A": 2.0, "alpha": 0.3})) == {"E", "A", "alpha"}


def test_variants_and_spread(result):
    labels = [r["variant"] for r in result.variants]
    assert labels == ["baseline", "huber delta=0.01", "linear residuals", "grid starts",
                      "drop 1 smallest scale(s)", "drop 1 largest scale(s)", "subsample 80% #1",
                      "subsample 80% #2"]
    assert all("quantities" in r for r in result.variants)
    n = {r["variant"]: r["n_points"] for r in result.variants}
    assert n["baseline"] == 36 and n["subsample 80% #1"] == 29
    assert n["drop 1 smallest scale(s)"] == 35 and n["drop 1 largest scale(s)"] == 35
    # Parameters plus the family's derived quantities (Chinchilla: a, b and G).
    assert set(result.spread) == {"E", "A", "B", "alpha", "beta", "a", "b", "G"}
    for k, s in result.spread.items():
        values = [r["quantities"][k] for r in result.variants]
        assert s["min"] == pytest.approx(min(values)) and s["max"] == pytest.approx(max(values))
        assert s["relative_spread"] == pytest.approx((s["max"] - s["min"]) / abs(s["baseline"]))
        assert s["flagged"] == (s["relative_spread"] > result.threshold)
    # Every variant still finds a near the truth on clean simulated data.
    assert result.truth["a"] == pytest.approx(0.28 / 0.62)
    assert abs(result.spread["a"]["baseline"] - result.truth["a"]) < 0.03
    text = json.dumps(result.to_json(), allow_nan=False)
    assert '"kind": "sensitivity"' in text
    md = "\n".join(presenters.markdown(result, {"sensitivity_choices.png"}))
    assert "| truth |" in md and "relative spread" in md


@pytest.mark.parametrize("rebuilt", [False, True])
def test_sensitivity_figure(result, rebuilt):
    import matplotlib.pyplot as plt

    from scalinglaws.tasks.sensitivity import SensitivityResult

    if rebuilt:  # `scalinglaws report` redraws it from results.json alone
        result = SensitivityResult.from_json(json.loads(json.dumps(result.to_json(), allow_nan=False)))
        assert "| truth |" in "\n".join(presenters.markdown(result))
    fig = presenters.figures(result)["sensitivity_choices.png"]
    panels = [ax for ax in fig.axes if ax.axison]
    assert len(panels) == 8  # one per quantity
    for ax in panels:
        points = [c for c in ax.collections if isinstance(c, PathCollection)]
        assert sum(len(c.get_offsets()) for c in points) == len(result.variants)
        ys = [line.get_ydata()[0] for line in ax.get_lines()]
        assert len(ys) == 2  # baseline and truth
    plt.close(fig)


def test_sensitivity_check(write_spec):
    text = SPEC.replace("dataset: runs\n    law", "dataset: run\n    law").replace(
        "deltas: [1.0e-2]", "deltas: [-1.0]").replace("subsample: 0.8", "subsample: 1.5")
    with pytest.raises(SpecError) as info:
        load_spec(write_spec(text), get_registry())
    message = str(info.value)
    assert "dataset: no dataset 'run'" in message
    assert "Huber thresholds must be > 0" in message
    assert "expected a fraction in (0, 1]" in message


def test_report_command_rebuilds_analysis_tasks(tmp_path):
    """`scalinglaws report OUT` re-renders compare/evaluate/sensitivity from results.json alone."""
    from click.testing import CliRunner

    from conftest import REPO
    from scalinglaws.cli import cli

    out = tmp_path / "out"
    runner = CliRunner()
    ran = runner.invoke(cli, ["run", str(REPO / "specs" / "sensitivity.yaml"), "--out", str(out)])
    assert ran.exit_code == 0, ran.output
    before = (out / "report.md").read_text()
    (out / "report.md").unlink()
    again = runner.invoke(cli, ["report", str(out)])
    assert again.exit_code == 0, again.output
    after = (out / "report.md").read_text()
    assert "sensitivity" in after.lower() and len(after) > 0.5 * len(before)
