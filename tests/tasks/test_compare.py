"""The `compare` task: Huber likelihood, held-out error, compute multiplier, verdict and plot."""

import json
import math

import numpy as np
import pytest
from matplotlib.collections import PathCollection, PolyCollection

from scalinglaws.errors import SpecError
from scalinglaws.plugins import get_registry
from scalinglaws.report import presenters
from scalinglaws.runner import execute
from scalinglaws.spec.model import LawSpec
from scalinglaws.spec.structure import load_spec
from scalinglaws.tasks.compare import (
    compute_multiplier,
    information_criteria,
    loss_at_compute,
)

TRUTH_A = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
# L_b(N, D) = L_a(2 N, 2 D): along any allocation that scales N and D alike, L_b(C) = L_a(4 C).
TRUTH_B = {**TRUTH_A, "A": 406.4 * 2 ** -0.34, "B": 410.7 * 2 ** -0.28}

SPEC = """
version: 1
seed: 0
datasets:
  a:
    source: simulate
    law: chinchilla
    truth: {E: 1.69, A: 406.4, B: 410.7, alpha: 0.34, beta: 0.28}
    design: {N: {logspace: [5.0e+7, 5.0e+9], num: 6}, D: {logspace: [1.0e+9, 2.0e+11], num: 6}}
    noise: 0.001
  b:
    source: simulate
    law: chinchilla
    truth: {E: 1.69, A: A_OF_B, B: B_OF_B, alpha: 0.34, beta: 0.28}
    design: {N: {logspace: [5.0e+7, 5.0e+9], num: 6}, D: {logspace: [1.0e+9, 2.0e+11], num: 6}}
    noise: 0.001
    seed: 1
tasks:
  - name: cmp
    kind: compare
    candidates:
      - {name: fam_a, dataset: a, law: chinchilla, estimator: {starts: random, n_random: 64}}
      - {name: fam_b, dataset: b, law: chinchilla, estimator: {starts: random, n_random: 64}}
      - {name: a_power, dataset: a, law: {family: power_law, inputs: {x: C}},
         estimator: {starts: random, n_random: 64}}
    multiplier: {baseline: fam_a, other: fam_b, budgets: [1.0e+21]}
    n_bootstrap: 40
""".replace("A_OF_B", repr(TRUTH_B["A"])).replace("B_OF_B", repr(TRUTH_B["B"]))


@pytest.fixture(scope="module")
def result():
    registry = get_registry()
    return execute(load_spec(SPEC, registry), registry).tasks[0]


def test_squared_loss_criteria_are_gaussian(result):
    import attrs

    fit = result.fits["fam_a"]
    p = result.prepared[0]
    squared = attrs.evolve(fit, estimator={**fit.estimator, "loss": "squared"})
    crit = information_criteria(squared, p.x, p.y)
    r = np.log(p.y) - np.log(fit.predict({"N": p.x[:, 0], "D": p.x[:, 1]}))
    n = len(r)
    sigma2 = np.mean(r ** 2)
    gauss = 0.5 * n * (math.log(2 * math.pi * sigma2) + 1) + np.sum(np.log(p.y))
    assert crit["nll"] == pytest.approx(gauss, rel=1e-9)
    assert crit["aic"] == pytest.approx(2 * 6 + 2 * gauss, rel=1e-9)
    assert crit["bic"] == pytest.approx(6 * math.log(n) + 2 * gauss, rel=1e-9)


def test_multiplier_of_a_scaled_family_is_exact():
    registry = get_registry()
    fam = registry.law("chinchilla")

    class P:
        family = fam
        law = LawSpec(family="chinchilla")

    log_c = np.log([1e19, 1e21, 1e24])
    ta, tb = fam.to_fit(TRUTH_A)[None], fam.to_fit(TRUTH_B)[None]
    m = np.exp(compute_multiplier(P, P, ta, tb, log_c))
    np.testing.assert_allclose(m, 4.0, rtol=1e-4)
    m20 = np.exp(compute_multiplier(P, P, ta, tb, log_c, tokens_per_parameter=20.0))
    np.testing.assert_allclose(m20, 4.0, rtol=1e-6)
    # The compute-optimal loss lies below a fixed ratio's, and the closed form matches.
    opt = loss_at_compute(fam, P.law, ta, log_c)
    fixed = loss_at_compute(fam, P.law, ta, log_c, tokens_per_parameter=20.0)
    assert np.all(opt <= fixed + 1e-12)
    a, b = TRUTH_A["alpha"], TRUTH_A["beta"]
    g = (a * TRUTH_A["A"] / (b * TRUTH_A["B"])) ** (1 / (a + b))
    n_opt = g * (np.exp(log_c) / 6) ** (b / (a + b))
    closed = fam.predict(TRUTH_A, {"N": n_opt, "D": np.exp(log_c) / (6 * n_opt)})
    np.testing.assert_allclose(opt[0], closed, rtol=1e-7)


def test_compare_result(result):
    names = [c["name"] for c in result.candidates]
    assert names == ["fam_a", "fam_b", "a_power"]
    by = {c["name"]: c for c in result.candidates}
    # Chinchilla describes its own data far better than a power law in C (same dataset).
    assert by["fam_a"]["bic"] < by["a_power"]["bic"] - 10
    assert by["fam_a"]["heldout_are_mean"] < 0.005
    assert by["fam_a"]["heldout_are_mean"] < by["a_power"]["heldout_are_mean"]
    lo, hi = by["fam_a"]["heldout_are_interval"]
    assert lo <= by["fam_a"]["heldout_are_mean"] <= hi or lo <= hi
    row = result.multiplier["budgets"][0]
    assert 3.0 < row["multiplier"] < 5.5  # truth: 4
    assert row["interval"][0] < row["multiplier"] < row["interval"][1]
    verdict = {v["criterion"]: v for v in result.verdict}
    assert verdict["BIC on `a`"]["better"] == "fam_a"
    mult = verdict["compute multiplier at C = 1e+21"]
    assert mult["better"] == "fam_b" and mult["exceeds_uncertainty"]
    text = json.dumps(result.to_json(), allow_nan=False)
    assert '"kind": "compare"' in text
    md = "\n".join(presenters.markdown(result, {"compare_cmp.png"}))
    assert "Verdict" in md and "![compare](compare_cmp.png)" in md


@pytest.mark.parametrize("rebuilt", [False, True])
def test_compare_figure(result, rebuilt):
    import matplotlib.pyplot as plt

    from scalinglaws.tasks.compare import CompareResult

    if rebuilt:  # `scalinglaws report` redraws it from results.json alone
        result = CompareResult.from_json(json.loads(json.dumps(result.to_json(), allow_nan=False)))
        assert "\n".join(presenters.markdown(result)).count("| fam_") >= 2
    figs = presenters.figures(result)
    fig = figs["compare_cmp.png"]
    ax, ax_err = fig.axes[:2]
    points = [c for c in ax.collections if isinstance(c, PathCollection)]
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(points) == 2  # two datasets, each once
    assert len(bands) == 3  # one bootstrap band per candidate
    curves = [line for line in ax.get_lines() if len(line.get_xdata()) > 2]
    assert len(curves) == 3
    assert len(ax_err.patches) == 3  # held-out error bars
    plt.close(fig)


def test_compare_check_reports_bad_references(write_spec):
    text = SPEC.replace("baseline: fam_a", "baseline: fam_c").replace(
        "{name: fam_b, dataset: b,", "{name: fam_b, dataset: bb,")
    with pytest.raises(SpecError) as info:
        load_spec(write_spec(text), get_registry())
    message = str(info.value)
    assert "multiplier.baseline: no candidate 'fam_c'" in message
    assert "candidates[1].dataset: no dataset 'bb'" in message
    bnsl = SPEC.replace("other: fam_b", "other: a_power").replace("{x: C}", "{x: N}")
    with pytest.raises(SpecError, match="gives no loss against compute"):
        load_spec(write_spec(bnsl), get_registry())
