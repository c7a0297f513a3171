"""data_constrained refitted on Muennighoff et al.'s 182 runs (../shared/data/datablations).

The paper freezes the base law (its Chinchilla fit to C4) and fits R_D* and R_N* with Huber
(delta 1e-3) on log loss summed over the runs, from a 4 x 4 grid of linspace(0, 20, 4) each,
reporting R_D* = 15.387756, R_N* = 5.309743 and an objective of 0.015825937.
"""

import csv

import numpy as np
import pytest

import scalinglaws as sl
from conftest import shared_file
from scalinglaws import core
from scalinglaws.estimators.multistart import core_model
from scalinglaws.laws.data_constrained import (
    MUENNIGHOFF_2023,
    MUENNIGHOFF_BASE,
    PAPER_RSTAR_GRID,
    data_constrained,
)

PUBLISHED_OBJECTIVE = 0.015825937  # printed by the authors' notebook as 0.015825936570763588


def datablations_runs():
    path = shared_file("datablations", "datablations_182_fit_samples.csv")
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    billions = {k: np.array([float(r[c]) * 1e9 for r in rows]) for k, c in (
        ("N", "N_params_billions"), ("D", "D_tokens_billions"), ("U", "U_unique_tokens_billions"))}
    return billions, np.array([float(r["val_loss"]) for r in rows])


def huber_objective(params, x, y, delta=1e-3):
    r = np.log(y) - np.log(data_constrained.predict(params, x))
    return float(np.sum(np.where(np.abs(r) <= delta, 0.5 * r ** 2, delta * (np.abs(r) - delta / 2))))


def test_refit_reproduces_the_published_decay_constants():
    x, y = datablations_runs()
    assert len(y) == 182
    # Same runs, same law, same objective: the published constants give the published objective.
    assert huber_objective(MUENNIGHOFF_2023, x, y) == pytest.approx(PUBLISHED_OBJECTIVE, rel=1e-6)

    # The paper's recipe: base frozen, Huber 1e-3 on log loss summed, the 16-point grid of
    # (R_D*, R_N*) in linspace(0, 20, 4) (R* = 0 floored at 0.01, since R* is fitted as log R*),
    # each start run to convergence on its own so that we see where each one ends.
    family = data_constrained.with_fixed(MUENNIGHOFF_BASE)
    grid = sl.MultiStart(grid=PAPER_RSTAR_GRID, **family.default_estimator)
    starts = grid.starting_points(family, seed=0)
    assert len(starts) == 16
    published = np.array([MUENNIGHOFF_2023["RD_star"], MUENNIGHOFF_2023["RN_star"]])
    model = core_model(family, "log")
    z = np.log(np.column_stack([x["N"], x["D"], x["U"]]))

    def converge(start):
        out = core.fit(model, np.atleast_2d(start), z, np.log(y), loss=core.Loss("huber", 1e-3),
                       schedule=core.FULL_SCHEDULE)
        return np.exp(np.asarray(out.theta)), float(out.value)

    # The published constants are a minimum of the objective: started there, the fit stays.
    r_star, value = converge(np.log(published))
    np.testing.assert_allclose(r_star, published, rtol=2e-3)
    assert value == pytest.approx(PUBLISHED_OBJECTIVE, rel=1e-6)

    # From the paper's grid, several starts converge to it: R_D* = 15.37, R_N* = 5.32, objective
    # 0.0158259 (the solver's path decides which; 5 to 10 of the 16 with the core's curvatures).
    ends = [converge(s) for s in starts]
    at_published = [v for r, v in ends if np.all(np.abs(r / published - 1) < 0.05)]
    assert len(at_published) >= 3
    np.testing.assert_allclose(at_published, PUBLISHED_OBJECTIVE, rtol=1e-6)

    # But it is a local minimum. The objective is nearly flat in R_D* and has lower minima at
    # larger R_D* (e.g. 47.0 / 2.33 at 0.0158074, 95.4 / 1.71 at 0.0158047), which other grid
    # starts reach, and which a multi-start fit therefore returns instead of the published pair.
    assert min(v for _, v in ends) < PUBLISHED_OBJECTIVE - 1e-5
    deeper = dict(MUENNIGHOFF_2023, RD_star=95.3653, RN_star=1.70590)
    assert huber_objective(deeper, x, y) < PUBLISHED_OBJECTIVE - 2e-5  # independent of the solver


def test_paper_quasi_newton_recipe_stops_at_the_published_pair():
    """Why the paper reports 15.39 / 5.31: a quasi-Newton solver with default tolerances, in the
    paper's linear units of R*, stops in the flat valley close to it from the paper's grid.

    The grid's R* = 0 points are nan starts in the paper's code (0/0 on unrepeated runs) and are
    left out. scipy's BFGS (default gtol 1e-5) is the reference here: the best of its 9 ends,
    by objective, is R_D* = 15.005, R_N* = 5.382 (2.5% and 1.4% from the published values).
    """
    from scipy.optimize import minimize

    x, y = datablations_runs()

    def objective(p):
        if np.any(p <= 0):
            return 1e3
        return huber_objective(dict(MUENNIGHOFF_2023, RD_star=p[0], RN_star=p[1]), x, y)

    grid = np.linspace(0.0, 20.0, 4)[1:]
    ends = [minimize(objective, [a, b], method="BFGS") for a in grid for b in grid]
    best = min(ends, key=lambda r: r.fun)
    np.testing.assert_allclose(best.x, [MUENNIGHOFF_2023["RD_star"], MUENNIGHOFF_2023["RN_star"]],
                               rtol=0.05)
    # ... and every one of them stopped above the minima a converged solver reaches.
    assert min(r.fun for r in ends) > 0.0158074


def test_bootstrap_interval_of_the_refit_contains_the_published_pair():
    """The statistics behind the disagreement: R_D* is barely identified by these runs. The 90%
    bootstrap interval of the converged refit (100 resamples, the paper's grid) contains the
    published pair, and its upper end for R_D* is far beyond any published value."""
    from scalinglaws.draws import natural_from_thetas
    from scalinglaws.observations import Observations
    from scalinglaws.uncertainty import summarize

    runs, y = datablations_runs()
    x = np.column_stack([runs["N"], runs["D"], runs["U"]])
    family = data_constrained.with_fixed(MUENNIGHOFF_BASE)
    estimator = sl.MultiStart(**{**family.default_estimator, "grid": PAPER_RSTAR_GRID})
    obs = Observations.from_arrays(family, x, y)
    fit = estimator.fit(family, obs, seed=0)
    draws = estimator.draws(family, obs, fit, n=100, seed=0)
    assert draws.n_converged >= 90
    draws = natural_from_thetas(family, draws.thetas)
    rd = summarize(draws["RD_star"], fit.params["RD_star"], 0.9)
    rn = summarize(draws["RN_star"], fit.params["RN_star"], 0.9)
    assert rd.lower < MUENNIGHOFF_2023["RD_star"] < rd.upper
    assert rn.lower < MUENNIGHOFF_2023["RN_star"] < rn.upper
    assert rd.upper > 100  # the valley is open towards large R_D*
