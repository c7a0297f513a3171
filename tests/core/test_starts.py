"""Start strategies: the grid (Chinchilla's published one), Sobol and random boxes, user points."""

import numpy as np
import pytest

from scalinglaws.core import diagnostics, starts
from scalinglaws.estimators.multistart import MultiStart
from scalinglaws.laws.chinchilla import CHINCHILLA_GRID, chinchilla


def test_chinchilla_grid_is_the_published_4500_grid():
    g = starts.grid(tuple(CHINCHILLA_GRID.values()))
    assert g.shape == (4500, 5) and g.dtype == np.float64
    assert sorted(set(g[:, 0])) == [-1.0, -0.5, 0.0, 0.5, 1.0]
    assert sorted(set(g[:, 1])) == [0.0, 5.0, 10.0, 15.0, 20.0, 25.0]
    assert sorted(set(g[:, 3])) == [0.0, 0.5, 1.0, 1.5, 2.0]
    assert len({tuple(r) for r in g}) == 4500
    # the estimator's default grid for Chinchilla is the same set of points
    ours = MultiStart().starting_points(chinchilla, seed=0)
    assert {tuple(r) for r in ours} == {tuple(r) for r in g}
    with pytest.raises(ValueError, match="at least one value"):
        starts.grid([(0.0, 1.0), ()])


def test_sobol_and_random_fill_the_box_reproducibly():
    lo, hi = np.array([0.0, -1.0, 5.0]), np.array([2.0, 1.0, 5.0])
    s = starts.sobol(lo, hi, 100, seed=1)
    r = starts.random(lo, hi, 100, seed=1)
    for pts in (s, r):
        assert pts.shape == (100, 3) and pts.dtype == np.float64
        assert np.all(pts >= lo) and np.all(pts <= hi)
    np.testing.assert_array_equal(s, starts.sobol(lo, hi, 100, seed=1))
    np.testing.assert_array_equal(r, starts.random(lo, hi, 100, seed=1))
    # Sobol is more even than random: every one of 16 bins along axis 0 gets a point from 64
    counts = np.histogram(starts.sobol(lo, hi, 64, seed=2)[:, 0], bins=16, range=(0, 2))[0]
    assert counts.min() >= 3
    with pytest.raises(ValueError):
        starts.sobol(hi, lo, 10)


def test_user_points_are_checked():
    assert starts.points([1.0, 2.0], 2).shape == (1, 2)
    with pytest.raises(ValueError, match="columns"):
        starts.points([[1.0, 2.0, 3.0]], 2)
    with pytest.raises(ValueError, match="finite"):
        starts.points([[1.0, np.nan]], 2)


def test_estimator_sobol_and_random_starts_lie_in_the_grid_ranges():
    lo, hi = starts.ranges_of(tuple(CHINCHILLA_GRID.values()))
    for kind in ("sobol", "random"):
        pts = MultiStart(starts=kind, n_random=300).starting_points(chinchilla, seed=3)
        assert pts.shape == (300, 5)
        assert np.all(pts >= lo) and np.all(pts <= hi)


def test_few_starts_at_the_optimum_are_flagged():
    assert diagnostics.starts_message(1, 32) is not None
    assert "1 of 32" in diagnostics.starts_message(1, 32)
    assert diagnostics.starts_message(12, 32) is None
