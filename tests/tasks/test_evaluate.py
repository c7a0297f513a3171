"""The `evaluate` task: extrapolation error with known truth, a broken power law, checkpoints."""

import json

import numpy as np
import pytest
from matplotlib.collections import PathCollection

from scalinglaws.data.table import Table
from scalinglaws.errors import SpecError
from scalinglaws.plugins import get_registry
from scalinglaws.report import presenters
from scalinglaws.runner import RunContext, execute
from scalinglaws.spec.model import LawSpec, Spec
from scalinglaws.spec.structure import load_spec
from scalinglaws.tasks.compare import Candidate
from scalinglaws.tasks.evaluate import EvaluateTask

HEAD = """
version: 1
seed: 0
datasets:
  runs:
    source: simulate
    law: chinchilla
    truth: {E: 1.69, A: 406.4, B: 410.7, alpha: 0.34, beta: 0.28}
    design: {N: {logspace: [5.0e+7, 5.0e+9], num: 6}, D: {logspace: [1.0e+9, 2.0e+11], num: 6}}
    noise: 0.001
  broken:
    source: simulate
    law: bnsl
    truth: {a: 0.5, b: 20.0, c0: 0.1, c1: 0.5, d1: 1.0e+4, f1: 0.3}
    design: {x: {logspace: [10.0, 1.0e+8], num: 29}}
    noise: 0.002
"""

SPEC = HEAD + """
tasks:
  - name: truth
    kind: evaluate
    candidates:
      - {name: chinchilla, dataset: runs, law: chinchilla, estimator: {starts: random, n_random: 64}}
    kfold: 3
    max_curve_points: 5
  - name: broken
    kind: evaluate
    candidates:
      - {name: power_law, dataset: broken, law: power_law, estimator: {starts: random, n_random: 64}}
      - {name: bnsl, dataset: broken, law: bnsl,
         estimator: {loss: squared, starts: random, n_random: 96, schedule: full}}
    leave_largest_out: false
    learning_curve: false
"""


@pytest.fixture(scope="module")
def results():
    registry = get_registry()
    return execute(load_spec(SPEC, registry), registry).tasks


def test_known_truth_extrapolates_to_within_the_noise(results):
    c = results[0].candidates[0]
    h = c["holdout"]
    assert h["n_test"] == 9 and h["n_train"] == 27  # 3 of 12 distinct C values held out
    assert np.all(h["scale"] > h["cut"]) and np.all(h["fit_scale"] <= h["cut"])
    assert h["are_mean"] < 0.002  # noise: 0.1% (mean |eps| ~ 0.08%)
    assert c["leave_largest_out"]["are_mean"] < 0.003
    folds = c["kfold"]
    assert [f["extrapolation"] for f in folds] == [False, False, True]
    assert all(f["are_mean"] < 0.005 for f in folds)
    curve = c["learning_curve"]
    assert 2 <= len(curve["points"]) <= 5
    assert curve["points"][-1]["are_mean"] == pytest.approx(h["are_mean"])
    assert curve["n_scales_needed"] is not None


def test_broken_power_law_needs_bnsl(results):
    by = {c["name"]: c["holdout"] for c in results[1].candidates}
    assert by["power_law"]["are_mean"] > 0.05  # averages the slopes before and after the break
    assert by["bnsl"]["are_mean"] < 0.01  # follows the break
    text = json.dumps(results[1].to_json(), allow_nan=False)
    assert '"kind": "evaluate"' in text
    md = "\n".join(presenters.markdown(results[1], {"evaluate_broken.png"}))
    assert "| power_law | power_law |" in md and "![evaluate](evaluate_broken.png)" in md


@pytest.mark.parametrize("rebuilt", [False, True])
def test_evaluate_figure(results, rebuilt):
    import matplotlib.pyplot as plt

    from scalinglaws.tasks.evaluate import EvaluateResult

    if rebuilt:  # `scalinglaws report` redraws it from results.json alone
        results = [EvaluateResult.from_json(json.loads(json.dumps(r.to_json(), allow_nan=False)))
                   for r in results]
        assert "| chinchilla | chinchilla |" in "\n".join(presenters.markdown(results[0]))
    fig = presenters.figures(results[0])["evaluate_truth.png"]
    ax, ax_curve = fig.axes[:2]
    points = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(points) == 2  # fitted runs and held-out runs
    assert sum(len(c.get_offsets()) for c in points) == 36
    assert ax.patches  # the shaded held-out region
    assert any(len(line.get_xdata()) == 9 for line in ax.get_lines())  # predictions above the cut
    assert any(line.get_marker() == "o" for line in ax_curve.get_lines())  # learning curve
    plt.close(fig)
    fig = presenters.figures(results[1])["evaluate_broken.png"]
    assert len(fig.axes) == 1  # no learning curve asked for
    plt.close(fig)


def test_checkpoints_discard_early_training():
    registry = get_registry()
    fam = registry.law("chinchilla")
    truth = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
    sizes = np.geomspace(5e7, 2e9, 6)
    steps = np.arange(1, 7, dtype=float)  # 6 x 6 rows: the shape of `runs`, compiled once
    n = np.repeat(sizes, len(steps))
    step = np.tile(steps, len(sizes))
    d = 20 * n * step / steps[-1]  # tokens seen at each checkpoint; 20 tokens per parameter at the end
    loss = fam.predict(truth, {"N": n, "D": d})
    table = Table({"N": n, "D": d, "step": step, "loss": loss}, source="checkpoints")
    ctx = RunContext(spec=Spec(), registry=registry, tables={"ck": table})
    task = EvaluateTask(candidates=(Candidate(name="c", dataset="ck", law=LawSpec(family="chinchilla"),
                                              estimator=None),),
                        step="step", discard=0.34, holdout=0.34, learning_curve=False,
                        leave_largest_out=False)
    import attrs

    from scalinglaws.estimators.multistart import MultiStart
    from scalinglaws.spec.model import EstimatorSpec

    task = attrs.evolve(task, candidates=(attrs.evolve(task.candidates[0], estimator=EstimatorSpec(
        options=MultiStart(starts="random", n_random=64))),))
    c = task.run(ctx, "ck").candidates[0]
    assert c["n_discarded"] == 2 * 6  # steps 1 and 2 of 6 fall before 34% of training
    h = c["holdout"]
    assert h["n_test"] == 2  # two held-out runs, each scored at its last checkpoint only
    assert h["n_train"] == 4 * 4
    assert h["are_mean"] < 1e-4  # noiseless data of the law itself


def test_evaluate_check(write_spec):
    text = HEAD + """
tasks:
  - kind: evaluate
    candidates: [{name: x, dataset: nope, law: chinchilla}]
    kfold: 1
    runs: N
"""
    with pytest.raises(SpecError) as info:
        load_spec(write_spec(text), get_registry())
    message = str(info.value)
    assert "candidates[0].dataset: no dataset 'nope'" in message
    assert "k-fold needs k >= 2" in message
    assert "give `step` too" in message
