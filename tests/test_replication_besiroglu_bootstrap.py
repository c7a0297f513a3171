"""Besiroglu et al. (2024): bootstrap intervals of the Chinchilla refit, via specs/replications."""

from pathlib import Path

import attrs
import numpy as np
import pytest

import scalinglaws as sl
from conftest import REPO, shared_file

# Their 95% bootstrap intervals (table 1 / section 3) and the exponent a with its standard error.
PUBLISHED = {"E": (1.769, 1.871), "alpha": (0.317, 0.373), "beta": (0.331, 0.415)}
A, A_SE = 0.513, 0.020
RESAMPLES = 1000  # the spec uses 4000; 1000 keeps this test fast and the ends within 2%


@pytest.fixture(scope="module")
def result():
    data = shared_file("analyzing-chinchilla", "svg_extracted_data.csv")
    spec = sl.load_spec(REPO / "specs" / "replications" / "besiroglu.yaml")
    raw = spec.datasets["besiroglu"]
    datasets = {**spec.datasets,
                "besiroglu": attrs.evolve(raw, options=attrs.evolve(raw.options, path=str(data)))}
    task = spec.tasks[0]
    options = attrs.evolve(task.options, approaches=(3,), uncertainty=attrs.evolve(
        task.options.uncertainty, n=RESAMPLES))
    spec = attrs.evolve(spec, datasets=datasets, tasks=(attrs.evolve(task, options=options),))
    return sl.run(spec, out=False).tasks[0]


def test_uses_240_runs(result):
    assert result.fit.n_points == 240
    assert any(n.startswith("dropped 5 rows with the") for n in result.data_notes)


def test_exponent_a_and_its_standard_error(result):
    a = result.fit.uncertainty.derived["a"]
    assert a.estimate == pytest.approx(A, abs=0.0015)
    assert a.se == pytest.approx(A_SE, rel=0.1)
    row = result.allocations[0]
    assert row["a"] == pytest.approx(a.estimate) and row["a_se"] == pytest.approx(a.se)


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_bootstrap_intervals_within_10_percent_of_published_ends(name, result):
    iv = result.fit.uncertainty.params[name]
    lo, hi = PUBLISHED[name]
    assert iv.lower == pytest.approx(lo, rel=0.1)
    assert iv.upper == pytest.approx(hi, rel=0.1)
    # in fact much closer: within 2% of both ends
    assert abs(iv.lower / lo - 1) < 0.02 and abs(iv.upper / hi - 1) < 0.02


def test_spec_points_at_the_shared_data():
    spec_file = REPO / "specs" / "replications" / "besiroglu.yaml"
    spec = sl.load_spec(spec_file)
    path = (Path(spec.base_dir) / spec.datasets["besiroglu"].options.path).resolve()
    assert path == (REPO.parent / "shared" / "data" / "analyzing-chinchilla"
                    / "svg_extracted_data.csv").resolve()
    assert spec.tasks[0].options.uncertainty.n == 4000
    assert np.isclose(spec.tasks[0].options.budgets[0], 5.76e23)
