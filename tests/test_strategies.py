"""scalinglaws.testing.strategies: the public Hypothesis strategies, used as plugin authors would."""

import math

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

import scalinglaws as sl
from scalinglaws.testing.strategies import (
    designs,
    parameter_range,
    simulated_runs,
    true_parameters,
)

CHINCHILLA = sl.get_law("chinchilla")
POWER_LAW = sl.get_law("power_law")
CHINCHILLA_RANGES = {"N": (5e7, 5e10), "D": (1e9, 5e12)}


# --- recovery, the property the strategies exist for ---------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def warm():
    """Compile the two fits once (fixed design shapes keep it to one compilation each)."""
    for law, runs in ((CHINCHILLA, 36), (POWER_LAW, 12)):
        x = {n: np.geomspace(1e8, 1e11, runs) for n in law.inputs}
        truth = {p.name: float(np.mean(parameter_range(p))) for p in law.parameters}
        sl.fit(law, sl.Table({**x, "loss": law.predict(truth, x)}))


@given(runs=simulated_runs(CHINCHILLA, design=designs(CHINCHILLA, CHINCHILLA_RANGES, points=6)))
def test_chinchilla_recovers_parameters_drawn_from_realistic_ranges(runs):
    result = sl.fit(CHINCHILLA, runs.table)
    note(repr(result))
    for name, value in runs.truth.items():
        assert result.params[name] == pytest.approx(value, rel=0.02), name


@given(runs=simulated_runs(POWER_LAW, design=designs(POWER_LAW, {"x": (1e6, 1e12)}, kind="random",
                                                     runs=12)))
def test_power_law_recovers_parameters_on_random_designs(runs):
    result = sl.fit(POWER_LAW, runs.table)
    note(repr(result))
    for name, value in runs.truth.items():
        assert result.params[name] == pytest.approx(value, rel=0.01), name


# --- what the strategies draw --------------------------------------------------------------------


@given(truth=true_parameters(CHINCHILLA))
def test_true_parameters_lie_in_the_realistic_ranges(truth):
    assert set(truth) == set(CHINCHILLA.param_names)
    for p in CHINCHILLA.parameters:
        lo, hi = p.realistic
        assert lo <= truth[p.name] <= hi


@given(truth=true_parameters(POWER_LAW, {"alpha": (0.5, 0.5), "A": (10.0, 1000.0)}))
def test_ranges_override_and_fix_values(truth):
    assert truth["alpha"] == 0.5
    assert 10.0 <= truth["A"] <= 1000.0


def test_without_realistic_ranges_the_starting_grid_is_used():
    law = sl.get_law("power_law")
    e = law.parameters[0]
    assert parameter_range(e) == (0.5, 3.0)  # E.realistic
    bare = type(e)(name="E", transform="log", init=(-1.0, 1.0))
    assert parameter_range(bare) == pytest.approx((math.exp(-1.0), math.exp(1.0)))


@given(truth=true_parameters(CHINCHILLA.with_tied({"beta": "alpha"})))
def test_tied_names_get_their_source_value(truth):
    assert truth["beta"] == truth["alpha"]


@given(design=designs(CHINCHILLA, CHINCHILLA_RANGES, points=st.integers(2, 4)))
def test_grid_designs_cover_the_ranges_evenly_in_log(design):
    n, d = design["N"], design["D"]
    assert len(n) == len(d) == len(np.unique(n)) * len(np.unique(d))
    assert n.min() == pytest.approx(5e7) and n.max() == pytest.approx(5e10)
    ratios = np.diff(np.log(np.unique(d)))
    np.testing.assert_allclose(ratios, ratios[0])


@given(design=designs(POWER_LAW, {"x": (1e3, 1e9)}, kind="random", runs=st.integers(5, 9)))
def test_random_designs_stay_in_range(design):
    assert 5 <= len(design["x"]) <= 9
    assert np.all((design["x"] >= 1e3 * (1 - 1e-12)) & (design["x"] <= 1e9 * (1 + 1e-12)))


GROUPED = CHINCHILLA.with_groups(["a", "b"], ["alpha", "beta"], input_name="family")


@given(runs=simulated_runs(GROUPED, design=designs(GROUPED, CHINCHILLA_RANGES, points=3), noise=0.01))
def test_grouped_families_simulate_every_group(runs):
    assert {"E[a]", "E[b]", "alpha"} <= set(runs.truth)
    assert sorted(set(runs.table["family"])) == ["a", "b"]
    assert len(runs.table) == 2 * 9
    assert runs.table.meta["truth"] == runs.truth


def test_misuse_says_how_to_fix_it():
    with pytest.raises(ValueError, match=r"needs a range for every input.*add \{'D': \(lo, hi\)\}"):
        designs(CHINCHILLA, {"N": (1e8, 1e10)})
    with pytest.raises(ValueError, match="has no parameter 'gamma'"):
        true_parameters(CHINCHILLA, {"gamma": (0.0, 1.0)})
    with pytest.raises(ValueError, match="needs `ranges`"):
        simulated_runs(CHINCHILLA)
    with pytest.raises(TypeError, match="expected a LawFamily"):
        true_parameters(42)
    assert true_parameters("power_law") is not None  # a registered name is accepted
