"""Multi-start strategies: where the starts of a multi-start fit come from.

All functions return an (S, P) float64 array in the fitting space (``log E`` for E, ...), one
start per row, ready for :func:`scalinglaws.core.fit`.

* :func:`grid`: the Cartesian product of per-parameter values (exhaustive; grows as the product
  of the axis lengths). A law family's default axes are its parameters' ``init`` values.
* :func:`sobol`: a scrambled Sobol sequence within per-parameter ranges (scipy.stats.qmc; fills
  the box far more evenly than random points for the same count, so fewer starts cover it).
* :func:`random`: uniform points within the ranges (seeded).
* :func:`points`: user-given points, checked for shape and finiteness.

The count of starts that reach the best objective is what tells whether the grid was wide
enough; see :func:`scalinglaws.core.diagnostics.starts_message`.
"""

from __future__ import annotations

import itertools
from typing import Sequence

import numpy as np


def grid(axes: Sequence[Sequence[float]]) -> np.ndarray:
    """Cartesian product of the per-parameter ``axes`` (the last axis varies fastest)."""
    if not axes or any(len(a) == 0 for a in axes):
        raise ValueError("every grid axis needs at least one value")
    return np.array(list(itertools.product(*axes)), dtype=np.float64)


def _box(lower, upper):
    lo = np.asarray(lower, dtype=np.float64)
    hi = np.asarray(upper, dtype=np.float64)
    if lo.shape != hi.shape or lo.ndim != 1:
        raise ValueError("lower and upper must be 1-D and of the same length")
    if np.any(hi < lo) or not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        raise ValueError("ranges must be finite with lower <= upper")
    return lo, hi


def sobol(lower, upper, n: int, seed: int = 0) -> np.ndarray:
    """``n`` scrambled Sobol points in the box [lower, upper] (rounded up to a power of 2 by scipy's
    balance properties: we draw ``2^ceil(log2 n)`` and keep the first ``n``)."""
    from scipy.stats import qmc

    lo, hi = _box(lower, upper)
    if n < 1:
        raise ValueError("n must be >= 1")
    m = int(np.ceil(np.log2(n))) if n > 1 else 0
    u = qmc.Sobol(d=len(lo), scramble=True, seed=seed).random_base2(m)[:n]
    return lo + (hi - lo) * u


def random(lower, upper, n: int, seed: int = 0) -> np.ndarray:
    """``n`` uniform random points in the box [lower, upper]."""
    lo, hi = _box(lower, upper)
    if n < 1:
        raise ValueError("n must be >= 1")
    return lo + (hi - lo) * np.random.default_rng(seed).random((n, len(lo)))


def points(pts, n_params: int) -> np.ndarray:
    """User-given starts as an (S, P) float64 array (one point may be given as a 1-D vector)."""
    a = np.atleast_2d(np.asarray(pts, dtype=np.float64))
    if a.ndim != 2 or a.shape[1] != n_params:
        raise ValueError(f"starting points must have {n_params} columns, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError("starting points must be finite")
    return a


def ranges_of(axes: Sequence[Sequence[float]]):
    """(lower, upper) of grid axes: the box that ``sobol``/``random`` fill."""
    return (np.array([min(a) for a in axes], dtype=np.float64),
            np.array([max(a) for a in axes], dtype=np.float64))
