"""simulate: grid and zip designs, computed inputs, learning-rate schedules, and their errors."""

import textwrap

import numpy as np
import pytest
from source_helpers import write

import scalinglaws as sl
from scalinglaws import SpecError
from scalinglaws.data.schedules import Schedule
from scalinglaws.data.simulate import SimulateSource
from scalinglaws.errors import DataError
from scalinglaws.plugins import build_registry
from scalinglaws.runner import RunContext

CHINCHILLA = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}


@pytest.fixture(scope="module")
def registry():
    return build_registry(entry_points=False)


def load(tmp_path, registry, dataset: str, law: str = "chinchilla"):
    """The table of the dataset `runs` written as `dataset` (YAML under `runs:`)."""
    text = ("version: 1\ndatasets:\n  runs:\n"
            + textwrap.indent(textwrap.dedent(dataset).strip("\n"), "    ")
            + f"\ntasks:\n  - {{kind: fit, dataset: runs, law: {law}}}\n")
    spec = sl.load_spec(write(tmp_path, "spec.yaml", text), registry)
    return RunContext(spec=spec, registry=registry).table("runs")


def problems(tmp_path, registry, dataset: str, law: str = "chinchilla") -> str:
    with pytest.raises(SpecError) as info:
        load(tmp_path, registry, dataset, law)
    return "\n".join(str(p) for p in info.value.problems)


def test_grid_is_the_default_and_keeps_its_keys(tmp_path, registry):
    table = load(tmp_path, registry, """
        source: simulate
        law: chinchilla
        truth: {E: 1.69, A: 406.4, B: 410.7, alpha: 0.34, beta: 0.28}
        design: {N: [1.0e+8, 1.0e+9], D: {logspace: [1.0e+9, 1.0e+11], num: 3}}
    """)
    assert len(table) == 6  # every combination
    assert sorted(set(table["N"])) == [1e8, 1e9]
    expected = sl.get_law("chinchilla").predict(CHINCHILLA, {"N": table["N"], "D": table["D"]})
    np.testing.assert_allclose(table["loss"], expected, rtol=1e-12)


def test_zip_pairs_the_values_row_by_row(tmp_path, registry):
    table = load(tmp_path, registry, """
        source: simulate
        law: chinchilla
        truth: {E: 1.69, A: 406.4, B: 410.7, alpha: 0.34, beta: 0.28}
        layout: zip
        design: {N: [1.0e+8, 4.0e+8, 1.0e+9], D: [2.0e+9, 8.0e+9, 2.0e+10]}
    """)
    assert table["N"].tolist() == [1e8, 4e8, 1e9]
    assert table["D"].tolist() == [2e9, 8e9, 2e10]
    assert table["loss"].dtype == np.float64


def test_compute_derives_inputs_per_row_at_fixed_compute(tmp_path, registry):
    table = load(tmp_path, registry, """
        source: simulate
        law: chinchilla
        truth: {E: 1.69, A: 406.4, B: 410.7, alpha: 0.34, beta: 0.28}
        design: {C: [1.0e+19, 1.0e+20], N: {logspace: [1.0e+8, 1.0e+9], num: 4}}
        compute: {D: "C / (6 * N)"}
    """)
    assert len(table) == 8 and "C" in table.names
    np.testing.assert_allclose(table["D"], table["C"] / (6 * table["N"]), rtol=1e-15)
    expected = sl.get_law("chinchilla").predict(CHINCHILLA, {"N": table["N"], "D": table["D"]})
    np.testing.assert_allclose(table["loss"], expected, rtol=1e-12)


def test_schedules_expand_into_per_step_rows(tmp_path, registry):
    table = load(tmp_path, registry, """
        source: simulate
        law: lr_annealing
        truth: {L0: 2.3, A: 0.45, alpha: 0.5, C: 1.8}
        schedules:
          flat: {kind: constant, peak: 1.0e-3, steps: 100, every: 30}
          cos: {kind: cosine, peak: 1.0e-3, steps: 100, every: 50, warmup: 10, final: 0.1}
          wsd: {kind: wsd, peak: 1.0e-3, steps: 100, every: 25, decay: 0.5}
    """, law="lr_annealing")
    assert table["run"].tolist() == ["flat"] * 4 + ["cos"] * 2 + ["wsd"] * 4
    assert table["step"].tolist() == [30, 60, 90, 100, 50, 100, 25, 50, 75, 100]  # last step kept
    lr = table["lr"]
    assert lr[:4].tolist() == [1e-3] * 4
    np.testing.assert_allclose(lr[4:6], [1e-4 + 9e-4 * 0.5 * (1 + np.cos(np.pi * 40 / 90)), 1e-4])
    np.testing.assert_allclose(lr[6:], [1e-3, 1e-3, 5e-4, 0.0], atol=1e-18)
    codes = np.repeat([0.0, 1.0, 2.0], [4, 2, 4])
    expected = sl.get_law("lr_annealing").predict(
        {"L0": 2.3, "A": 0.45, "alpha": 0.5, "C": 1.8}, {"run": codes, "step": table["step"], "lr": lr})
    np.testing.assert_allclose(table["loss"], expected, rtol=1e-12)


def test_warmup_rises_linearly_from_zero():
    schedule = Schedule(kind="constant", peak=2.0, steps=10, warmup=4)
    np.testing.assert_allclose(schedule.rates(np.arange(1.0, 7.0)), [0.5, 1.0, 1.5, 2.0, 2.0, 2.0])


def test_errors_name_the_key_and_the_fix(tmp_path, registry):
    base = """
        source: simulate
        law: chinchilla
        truth: {E: 1.69, A: 406.4, B: 410.7, alpha: 0.34, beta: 0.28}
    """
    text = problems(tmp_path, registry, base + """
        layout: zip
        design: {N: [1.0e+8, 1.0e+9], D: [1.0e+9, 1.0e+10, 1.0e+11]}
    """)
    assert "datasets.runs.layout: `zip` pairs the i-th values" in text
    assert "got N: 2, D: 3. Make the lists equally long, or use `layout: grid`" in text

    text = problems(tmp_path, registry, base + """
        layout: zipped
        design: {N: [1.0], D: [1.0]}
    """)
    assert "datasets.runs.layout: expected one of grid, zip, got 'zipped'" in text

    text = problems(tmp_path, registry, base + """
        design: {C: [1.0e+19], N: [1.0e+8]}
        compute: {D: "C / (6 * M)"}
    """)
    assert "datasets.runs.compute.D: D = C / (6 * M) uses M, which is not a column here" in text

    text = problems(tmp_path, registry, base + """
        design: {N: [1.0e+8], C: [1.0]}
    """)
    assert "datasets.runs.design: the inputs D of 'chinchilla' have no values" in text
    assert "C is not an input of 'chinchilla' (N, D) and no `compute` formula uses it" in text

    text = problems(tmp_path, registry, base + """
        design: {N: [], D: [1.0]}
    """)
    assert "datasets.runs.design.N: gives no values; list at least one" in text

    text = problems(tmp_path, registry, base + """
        design: {N: [1.0e+8, big, true], D: [1.0e+9]}
    """)
    # every bad value of a list is reported at its index, as for any list of numbers in a spec
    assert "datasets.runs.design.N[1]: expected a number, got 'big'" in text
    assert "datasets.runs.design.N[2]: expected a number, got True" in text


def test_schedule_errors(tmp_path, registry):
    base = """
        source: simulate
        law: lr_annealing
        truth: {L0: 2.3, A: 0.45, alpha: 0.5, C: 1.8}
        schedules:
    """
    text = problems(tmp_path, registry, base + """
          a: {kind: cosin, peak: 1.0e-3, steps: 100}
    """, law="lr_annealing")
    assert "schedules.a.kind: expected one of constant, cosine, wsd, got 'cosin'" in text

    text = problems(tmp_path, registry, base + """
          b: {kind: constant, peak: 1.0e-3, steps: 100, every: 200, warmup: 100}
          c: {kind: wsd, peak: 1.0e-3, steps: 100, warmup: 90, final: 2.0}
    """, law="lr_annealing")
    assert "schedules.b.every: logs every 200 steps but the run has only 100" in text
    assert "schedules.b.warmup: 100 warmup steps leave none of the 100 steps" in text
    assert "schedules.c.final: is a fraction of the peak, expected 0 <= final <= 1" in text
    assert "schedules.c.warmup: 90 warmup steps run into the decay, which starts at step 80" in text

    text = problems(tmp_path, registry, base + """
          a: {kind: constant, peak: 1.0e-3, steps: 100}
        design: {step: [1.0]}
    """, law="lr_annealing")
    assert "datasets.runs.schedules: a simulation takes its rows from `design` or from " \
           "`schedules`, not both" in text


def test_a_source_built_in_python_reports_the_key(registry):
    source = SimulateSource(law="chinchilla", truth=CHINCHILLA, layout="zip",
                            design={"N": _design([1e8, 1e9]), "D": _design([1e9])})
    ctx = RunContext(spec=None, registry=registry)
    with pytest.raises(DataError, match=r"simulate\(chinchilla\): `layout`: `zip` pairs"):
        source.load(ctx)


def _design(values):
    from scalinglaws.data.simulate import Design

    return Design(values=tuple(values))
