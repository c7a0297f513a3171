"""The allocate task: closed form and numerical approach 3, IsoFLOP approach 2, approach 1."""

import json

import numpy as np
import pytest
from matplotlib.collections import PolyCollection

import scalinglaws as sl
from scalinglaws.laws.chinchilla import chinchilla
from scalinglaws.plugins import get_registry
from scalinglaws.report import presenters
from scalinglaws.report.replay import rerender
from scalinglaws.runner import write_outputs
from scalinglaws.tasks.allocate import allocation, approach_from_minima, isoflop_slices, training_envelope

TRUTH = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}

SPEC = """
version: 1
seed: 0
datasets:
  runs:
    source: simulate
    law: chinchilla
    truth: {E: 1.69, A: 406.4, B: 410.7, alpha: 0.34, beta: 0.28}
    design:
      N: {logspace: [1.0e+7, 1.0e+10], num: 13}
      D: {logspace: [1.0e+9, 1.0e+12], num: 13}
    noise: 0.005
tasks:
  - name: closed
    kind: allocate
    dataset: runs
    law: chinchilla
    uncertainty: {method: bootstrap, n: 100}
    budgets: [1.0e+21, 5.76e+23]
  - name: numeric
    kind: allocate
    dataset: runs
    law: chinchilla
    method: numerical
    uncertainty: {method: sandwich}
    budgets: [1.0e+21, 5.76e+23]
    approaches: [3]
  - name: delta
    kind: allocate
    dataset: runs
    law: chinchilla
    uncertainty: {method: hessian}
    budgets: [1.0e+21, 5.76e+23]
    approaches: [3]
"""


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    path = tmp_path_factory.mktemp("alloc") / "spec.yaml"
    path.write_text(SPEC)
    return sl.run(path, out=False)


def rows(task, approach):
    return [r for r in task.allocations if r["approach"] == approach]


def test_closed_form_recovers_the_true_allocation(result):
    task = result.tasks[0]
    truth = allocation(chinchilla, {k: np.asarray([v]) for k, v in TRUTH.items()},
                       np.array([1e21, 5.76e23]), "closed_form")
    for k, row in enumerate(rows(task, 3)):
        assert row["method"] == "closed_form"
        assert row["N_opt_lower"] < row["N_opt"] < row["N_opt_upper"]
        assert row["N_opt"] == pytest.approx(truth["N_opt"][0, k], rel=0.15)
        assert row["N_opt"] * row["D_opt"] * 6 == pytest.approx(row["C"])
        assert row["tokens_per_param"] == pytest.approx(row["D_opt"] / row["N_opt"])
        assert row["a"] == pytest.approx(0.28 / 0.62, abs=0.03)
        assert row["a_lower"] < row["a"] < row["a_upper"]


def test_numerical_matches_closed_form(result):
    closed, numeric, _ = result.tasks
    for c_row, n_row in zip(rows(closed, 3), rows(numeric, 3)):
        assert n_row["method"] == "numerical"
        assert n_row["N_opt"] == pytest.approx(c_row["N_opt"], rel=1e-4)
        assert n_row["a"] == pytest.approx(c_row["a"], rel=1e-3)
        assert n_row["N_opt_lower"] < n_row["N_opt"] < n_row["N_opt_upper"]  # delta method
    assert rows(numeric, 2) == []


def test_delta_method_intervals_of_the_closed_form(result):
    closed, _, delta = result.tasks
    for b, d in zip(rows(closed, 3), rows(delta, 3)):
        assert d["N_opt"] == pytest.approx(b["N_opt"])
        assert d["N_opt_lower"] < d["N_opt"] < d["N_opt_upper"]
        assert d["N_opt_upper"] - d["N_opt"] == pytest.approx(d["N_opt"] - d["N_opt_lower"])
        assert 0.3 < d["N_opt_se"] / b["N_opt_se"] < 3.0
        assert d["a_se"] == pytest.approx(delta.fit.uncertainty.derived["a"].se)


def test_approach_2_runs_on_isoflop_slices_and_warns(result):
    task = result.tasks[0]
    assert len(task.slices) >= 5
    two = rows(task, 2)
    assert len(two) == 2 and two[0]["a"] == pytest.approx(0.28 / 0.62, abs=0.05)
    assert two[0]["interval"] == "bootstrap" and two[0]["n_resamples"] == 100
    for row in two:
        assert row["a_lower"] < row["a"] < row["a_upper"]
        assert row["N_opt_lower"] < row["N_opt"] < row["N_opt_upper"]
    assert any("Czech et al. 2026" in n for n in task.notes)
    assert any(n.startswith("approach 1 not run") for n in task.notes)
    md = "\n".join(presenters.markdown(task))
    assert "Warning: Approach 2" in md and "2: IsoFLOP parabolas" in md
    assert "3: fitted law (closed form)" in md


def test_figures_show_frontier_band_and_isoflop_minima(result):
    figs = presenters.figures(result.tasks[0])
    assert set(figs) == {"frontier_closed.png", "isoflop_closed.png", "fit_closed.png"}
    ax = figs["frontier_closed.png"].axes[0]
    assert any(isinstance(c, PolyCollection) for c in ax.collections)  # the band
    labels = [line.get_label() for line in ax.lines]
    assert "approach 3 (fitted law)" in labels and any("approach 2 fit" in x for x in labels)
    iso = figs["isoflop_closed.png"].axes[0]
    assert len(iso.lines) == len(result.tasks[0].slices)  # one parabola per slice
    offsets = [c.get_offsets() for c in iso.collections]
    assert sum(len(o) == 1 for o in offsets) >= len(result.tasks[0].slices)  # the minima


def test_results_json_and_report(result, tmp_path):
    out = tmp_path / "out"
    write_outputs(result, out, get_registry())
    data = json.loads((out / "results.json").read_text())
    alloc = data["tasks"][0]
    assert alloc["kind"] == "allocate" and {r["approach"] for r in alloc["allocations"]} == {2, 3}
    before = (out / "report.md").read_text()
    assert "frontier_closed.png" in before
    for name in ("report.md", "frontier_closed.png", "isoflop_closed.png"):
        (out / name).unlink()
    written = rerender(out, get_registry())
    assert {"frontier_closed.png", "isoflop_closed.png", "fit_numeric.png"} <= set(written)

    def strip(text):
        return [line for line in text.splitlines() if not line.startswith("- Run time")]

    assert strip((out / "report.md").read_text()) == strip(before)


def test_approach_1_envelope_on_training_curves():
    # loss curves of 5 model sizes, 40 steps each; the envelope picks the best run per compute
    rng = np.random.default_rng(0)
    n = np.repeat(np.geomspace(1e7, 1e9, 5), 40)
    d = np.tile(np.geomspace(1e8, 1e12, 40), 5)
    loss = 1.69 + 406.4 / n ** 0.34 + 410.7 / d ** 0.28
    loss *= np.exp(0.001 * rng.standard_normal(len(loss)))
    cs, ns = training_envelope(n, 6 * n * d, loss)
    assert len(cs) >= 10 and np.all(np.diff(np.log(ns)[np.argsort(cs)]) > -1.0)
    rows_ = approach_from_minima(1, cs, ns, np.array([1e21]), 0.95)
    assert rows_[0]["approach"] == 1 and 0.2 < rows_[0]["a"] < 0.8


def test_isoflop_slices_need_an_interior_minimum():
    n = np.geomspace(1e8, 1e9, 6)
    assert isoflop_slices(n, np.full(6, 1e20), 2.0 + 0.1 * np.log(n), 0.1, 5) == []
    u = np.log(n)
    bowl = 2.0 + (u - u.mean()) ** 2
    (s,) = isoflop_slices(n, np.full(6, 1e20), bowl, 0.1, 5)
    assert s["N_opt"] == pytest.approx(np.exp(u.mean()))


def test_approach_1_runs_when_the_data_has_training_curves(write_spec):
    n = np.repeat(np.geomspace(1e7, 1e9, 4), 12)
    d = np.tile(np.geomspace(1e8, 1e11, 12), 4)
    step = np.tile(np.arange(1, 13), 4)
    loss = 1.69 + 406.4 / n ** 0.34 + 410.7 / d ** 0.28
    rows_ = ", ".join(f"{{N: {a:.6e}, D: {b:.6e}, step: {s}, loss: {y:.8f}}}"
                      for a, b, s, y in zip(n, d, step, loss))
    path = write_spec(f"""
        version: 1
        datasets:
          curves: {{source: inline, rows: [{rows_}]}}
        tasks:
          - {{name: env, kind: allocate, dataset: curves, approaches: [1], budgets: [1.0e+20]}}
        """)
    task = sl.run(path, out=False).tasks[0]
    (row,) = task.allocations
    assert row["approach"] == 1 and row["method"] == "envelope" and row["n_minima"] >= 5
    assert task.fit is None
    md = "\n".join(presenters.markdown(task))
    assert "1: training-curve envelope" in md
    assert "frontier_env.png" in presenters.figures(task)
