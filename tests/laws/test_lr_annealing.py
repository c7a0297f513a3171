"""lr_annealing (Tissue et al. 2024): S1/S2 from per-step rows, prediction and recovery."""

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

import scalinglaws as sl
from scalinglaws.laws.lr_annealing import (
    DEFAULT_DECAY,
    annealing_areas,
    lr_annealing,
    lr_annealing_family,
)
from scalinglaws.report import presenters


def paper_areas(lr, decay):
    """The paper's sums for one run with a learning rate at every step 1..T, written directly:
    S1(s) = sum_{i<=s} eta_i, S2(s) = sum_{i<=s} sum_{k<=i} (eta_{k-1} - eta_k) decay^(i-k),
    with eta_0 = eta_1."""
    eta = np.concatenate([[lr[0]], lr])
    t = len(lr)
    s1 = np.array([eta[1:i + 1].sum() for i in range(1, t + 1)])
    m = np.array([sum((eta[k - 1] - eta[k]) * decay ** (i - k) for k in range(1, i + 1))
                  for i in range(1, t + 1)])
    return s1, np.cumsum(m)


def paper_loss(p, s1, s2):
    return p["L0"] + p["A"] * s1 ** -p["alpha"] - p["C"] * s2


def test_predict_matches_the_paper_formula_on_shuffled_interleaved_runs():
    rng = np.random.default_rng(1)
    decay = 0.99
    family = lr_annealing_family(decay)
    runs, steps, lrs, expected = [], [], [], []
    for run_id, t in ((3, 40), (0, 25), (7, 60)):
        lr = 1e-3 * (0.1 + rng.random(t))  # arbitrary schedule, rises and falls
        p = {"L0": rng.uniform(1.5, 3.0), "A": rng.uniform(0.1, 1.0), "alpha": rng.uniform(0.2, 0.8),
             "C": rng.uniform(0.5, 5.0)}
        s1, s2 = paper_areas(lr, decay)
        runs.append(np.full(t, run_id))
        steps.append(np.arange(1, t + 1))
        lrs.append(lr)
        expected.append((p, s1, s2))
    run, step, lr = (np.concatenate(a).astype(float) for a in (runs, steps, lrs))
    perm = rng.permutation(len(run))
    s1, s2 = annealing_areas(run[perm], step[perm], lr[perm], decay)
    ref1 = np.concatenate([e[1] for e in expected])[perm]
    ref2 = np.concatenate([e[2] for e in expected])[perm]
    np.testing.assert_allclose(s1, ref1, rtol=1e-12)
    np.testing.assert_allclose(s2, ref2, rtol=1e-10, atol=1e-15)
    start = 0
    for p, ps1, ps2 in expected:  # each run with its own parameters
        idx = np.arange(start, start + len(ps1))
        start += len(ps1)
        got = family.predict(p, {"run": run[idx], "step": step[idx], "lr": lr[idx]})
        np.testing.assert_allclose(got, paper_loss(p, ps1, ps2), rtol=1e-10)


def test_sparse_logs_equal_the_dense_piecewise_constant_schedule():
    steps = np.array([1, 5, 6, 10, 30, 31, 100])
    lrs = np.array([1.0, 0.8, 0.5, 0.5, 0.1, 0.2, 0.05])
    dense = np.repeat(lrs, np.diff(np.concatenate([[0], steps])))
    s1, s2 = annealing_areas(np.zeros(len(steps)), steps, lrs)
    d1, d2 = paper_areas(dense, DEFAULT_DECAY)
    np.testing.assert_allclose(s1, d1[steps - 1], rtol=1e-12)
    np.testing.assert_allclose(s2, d2[steps - 1], rtol=1e-10)


def test_decay_is_a_documented_constant_and_a_factory_argument():
    assert DEFAULT_DECAY == 0.999
    assert lr_annealing.name == "lr_annealing"
    assert sl.get_law("lr_annealing") is lr_annealing
    assert lr_annealing_family(0.99).name == "lr_annealing[lambda=0.99]"
    with pytest.raises(ValueError, match="lambda"):
        lr_annealing_family(1.0)


# A realistic design: three 20k-step runs at peak learning rate 2e-4 (constant, cosine to 10%,
# warmup-stable-decay with the last 20% decayed linearly to 0), logged every 200 steps.
T, EVERY, ETA = 20000, 200, 2e-4
STEPS = np.arange(EVERY, T + 1, EVERY, dtype=float)
SCHEDULES = (
    np.full(len(STEPS), ETA),
    0.1 * ETA + 0.9 * ETA * 0.5 * (1 + np.cos(np.pi * STEPS / T)),
    np.where(STEPS <= 0.8 * T, ETA, ETA * (T - STEPS) / (0.2 * T)),
)
RUN = np.repeat(np.arange(len(SCHEDULES), dtype=float), len(STEPS))
STEP = np.tile(STEPS, len(SCHEDULES))
LR = np.concatenate(SCHEDULES)


def curves(truth):
    loss = lr_annealing.predict(truth, {"run": RUN, "step": STEP, "lr": LR})
    return sl.Table.from_columns(run=RUN, step=STEP, lr=LR, loss=loss)


@pytest.fixture(scope="module", autouse=True)
def warm():
    sl.fit("lr_annealing", curves({"L0": 2.5, "A": 0.5, "alpha": 0.5, "C": 2.0}))


# Ranges: S1 runs from 0.04 to 4 and S2 reaches ~0.15 on this design, so these give curves that
# fall by 0.3 to 10 nats over training with annealing drops of 0.05 to 0.5 (Tissue et al. report
# alpha around 0.5 and drops of this size).
@given(truth=st.fixed_dictionaries({
    "L0": st.floats(1.8, 3.5), "A": st.floats(0.2, 1.0), "alpha": st.floats(0.3, 0.8),
    "C": st.floats(0.5, 3.0)}))
def test_recovers_parameters_from_three_schedules(truth):
    result = sl.fit("lr_annealing", curves(truth))
    note(repr(result))
    # Noise-free curves, so the optimum is the truth; 1e-4 leaves room for the stopping rule only.
    for name, value in truth.items():
        assert result.params[name] == pytest.approx(value, rel=1e-4), name


# Text run ids -------------------------------------------------------------------------------
NAMES = np.repeat(np.array(["cosine-1e-3", "constant", "wsd-20%"], dtype=object), len(STEPS))
TRUTH = {"L0": 2.3, "A": 0.45, "alpha": 0.5, "C": 1.8}


def noisy_curves(run):
    """The design's rows with the run column ``run`` and 0.2% noise (seed 0)."""
    loss = lr_annealing.predict(TRUTH, {"run": RUN, "step": STEP, "lr": LR})
    loss = loss * np.exp(0.002 * np.random.default_rng(0).standard_normal(len(loss)))
    return sl.Table.from_columns(run=run, step=STEP, lr=LR, loss=loss)


def test_text_run_ids_give_the_fit_of_numeric_ones():
    # Numeric ids 7, 3, 11 sort differently from the codes 0, 1, 2 of the names: only which rows
    # share a run matters.
    numeric = sl.fit("lr_annealing", noisy_curves(np.array([7.0, 3.0, 11.0]).repeat(len(STEPS))))
    text = sl.fit("lr_annealing", noisy_curves(NAMES))
    for name, value in numeric.params.items():
        assert text.params[name] == pytest.approx(value, rel=1e-9), name
    assert text.params["C"] == pytest.approx(TRUTH["C"], rel=0.05)


def test_text_run_ids_are_coded_in_order_of_first_appearance():
    from scalinglaws.observations import observe
    from scalinglaws.spec.model import LawSpec

    table = noisy_curves(NAMES)
    _, obs = observe(lr_annealing, LawSpec(family="lr_annealing"), table, space="linear")
    np.testing.assert_array_equal(obs.x[:, 0], np.repeat([0.0, 1.0, 2.0], len(STEPS)))
    assert obs.labels == {"run": ("cosine-1e-3", "constant", "wsd-20%")}


def test_a_numeric_input_written_as_text_names_its_row_and_column():
    step = STEP.astype(object)
    step[5] = "late"
    table = sl.Table.from_columns(run=NAMES, step=step, lr=LR, loss=np.full(len(LR), 2.5))
    with pytest.raises(sl.DataError, match=r"row 6, column 'step': 'late' is not a number"):
        sl.fit("lr_annealing", table)


def test_the_spec_simulates_schedules_and_plots_loss_against_step(tmp_path):
    from conftest import REPO

    result = sl.run(REPO / "specs/laws/lr_annealing.yaml", out=tmp_path / "out")
    task = result.tasks[0]
    assert task.labels == {"run": ("constant", "cosine", "wsd")}
    for name, value in TRUTH.items():
        assert task.fit.params[name] == pytest.approx(value, rel=0.03), name
    from scalinglaws.report.plots import fit_figure

    fig = fit_figure(task)
    ax = fig.axes[0]
    assert fig.axes[1].get_xlabel() == "step"
    assert [t.get_text() for t in ax.get_legend().get_texts()][:3] == ["constant", "cosine", "wsd"]
    assert len(ax.lines) == 3 + 1  # a fitted curve per run, and the legend's line
    assert (tmp_path / "out" / "fit_lr_annealing.png").exists()
    assert "Run ids (run): 0 = `constant`, 1 = `cosine`, 2 = `wsd`" in (
        tmp_path / "out" / "report.md").read_text()
    longer = result.tasks[1].predictions  # the constant run to 40k steps, then a new schedule
    assert [r["run"] for r in longer] == ["constant", "step-decay", "step-decay"]
    assert longer[0]["prediction"] == pytest.approx(2.3 + 0.45 / np.sqrt(8.0), abs=0.005)
    assert longer[2]["prediction"] < longer[1]["prediction"] - 0.2  # the drop of annealing
    # `scalinglaws report OUT` rebuilds the fit from results.json: it takes the names again.
    from scalinglaws.plugins import get_registry
    from scalinglaws.report.replay import load_results

    predict = load_results(tmp_path / "out" / "results.json", get_registry()).tasks[1]
    assert predict.fit.labels == {"run": ("constant", "cosine", "wsd")}
    by_name = predict.fit.predict({"run": ["wsd"], "step": [T], "lr": [ETA]})
    assert by_name == predict.fit.predict({"run": [2.0], "step": [T], "lr": [ETA]})
    assert "| constant | 4e+04 | 0.0002 |" in "\n".join(presenters.markdown(predict))


# Predicting by run name ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def named_fit():
    return sl.fit("lr_annealing", noisy_curves(NAMES))


def test_predict_takes_the_fitted_run_names_or_their_codes(named_fit):
    assert named_fit.labels == {"run": ("cosine-1e-3", "constant", "wsd-20%")}
    # Codes follow first appearance: rows of code 0 are named "cosine-1e-3", and so on.
    by_code = named_fit.predict({"run": RUN, "step": STEP, "lr": LR})
    by_name = named_fit.predict({"run": NAMES, "step": STEP, "lr": LR})
    np.testing.assert_array_equal(by_name, by_code)
    # A name, like a code, only says which rows form one schedule: a single row is a constant
    # schedule from step 0, so the constant run extended to 2T is one row.
    longer = named_fit.predict({"run": ["constant"], "step": [2.0 * T], "lr": [ETA]})
    expected = lr_annealing.predict(named_fit.params, {"run": [1.0], "step": [2.0 * T], "lr": [ETA]})
    np.testing.assert_array_equal(longer, expected)


def test_a_name_the_fit_did_not_see_is_a_new_run(named_fit):
    """A run id only groups rows: a new name is a new schedule, coded apart from every other run
    given in the same call (it never merges with the fitted runs' codes or with numbers)."""
    steps, lrs = [100.0, 3000.0], [ETA, 0.1 * ETA]
    new = named_fit.predict({"run": ["cosine", "cosine"], "step": steps, "lr": lrs})
    alone = lr_annealing.predict(named_fit.params, {"run": [7.0, 7.0], "step": steps, "lr": lrs})
    np.testing.assert_array_equal(new, alone)
    mixed = named_fit.predict({"run": ["constant", "cosine", 3, "cosine"],
                               "step": [100.0, 100.0, 100.0, 3000.0],
                               "lr": [ETA, ETA, ETA, 0.1 * ETA]})
    codes = named_fit.coded({"run": ["constant", "cosine", 3, "cosine"], "step": [0] * 4,
                             "lr": [0] * 4})["run"]
    assert codes.tolist() == [1.0, 4.0, 3.0, 4.0]
    np.testing.assert_array_equal(mixed[[1, 3]], new)
    numeric = sl.fit("lr_annealing", noisy_curves(RUN))
    assert numeric.labels == {}
    np.testing.assert_array_equal(
        numeric.predict({"run": ["a", "a"], "step": steps, "lr": lrs}),
        lr_annealing.predict(numeric.params, {"run": [9.0, 9.0], "step": steps, "lr": lrs}))


def test_predict_without_the_schedule_says_what_a_point_must_be(named_fit):
    with pytest.raises(ValueError, match=r"needs lr .*one row per logged step from the start"):
        named_fit.predict({"run": ["constant"], "step": [2.0 * T]})
