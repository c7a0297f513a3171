"""Variable projection starts: exact small NNLS, and the same optimum as the full 4500-point grid."""

import csv

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from conftest import shared_file
from scalinglaws import core
from scalinglaws.core import varpro
from scalinglaws.estimators.multistart import MultiStart
from scalinglaws.laws.chinchilla import chinchilla
from scalinglaws.laws.power_law import FAMILIES as POWER_FAMILIES

MODEL = core.Model(chinchilla.log_predict, chinchilla.log_predict_and_jac)
STRUCTURE = chinchilla.linear_structure


def test_small_nnls_matches_scipy():
    import jax
    from scipy.optimize import nnls

    rng = np.random.default_rng(0)
    phis = rng.standard_normal((30, 12, 3))
    ys = rng.standard_normal((30, 12))
    batched = jax.jit(jax.vmap(lambda p, y: varpro.nnls_small(p.T @ p, p.T @ y, y @ y)))
    got, err = batched(phis, ys)
    for k in range(30):
        ref, _ = nnls(phis[k], ys[k])
        np.testing.assert_allclose(np.asarray(got[k]), ref, atol=1e-9)
        np.testing.assert_allclose(float(err[k]), np.sum((phis[k] @ ref - ys[k]) ** 2),
                                   rtol=1e-8, atol=1e-12)


def _same_optimum(z, t):
    full = core.fit(MODEL, chinchilla.default_starts(), z, t)
    fast = varpro.fit_varpro(MODEL, STRUCTURE, z, t)
    assert abs(float(fast.value) - float(full.value)) <= 1e-9 * float(full.value)
    np.testing.assert_allclose(chinchilla.to_natural(np.asarray(fast.theta))["alpha"],
                               chinchilla.to_natural(np.asarray(full.theta))["alpha"], rtol=1e-5)
    return fast


def test_same_best_objective_as_the_full_grid_on_simulated_data():
    truth = {"E": 1.7, "A": 400.0, "B": 1500.0, "alpha": 0.3, "beta": 0.4}
    # 15 x 16 = 240 points: the shape of the Besiroglu data, so both tests share compilations.
    n, d = np.meshgrid(np.geomspace(5e7, 1e10, 15), np.geomspace(2e9, 4e11, 16), indexing="ij")
    n, d = n.ravel(), d.ravel()
    loss = truth["E"] + truth["A"] / n ** truth["alpha"] + truth["B"] / d ** truth["beta"]
    loss = loss * np.exp(0.02 * np.random.default_rng(5).standard_normal(loss.shape))
    fast = _same_optimum(np.log(np.column_stack([n, d])), np.log(loss))
    assert int(fast.n_at_best) >= 2


def test_same_best_objective_as_the_full_grid_on_besiroglu_data():
    path = shared_file("analyzing-chinchilla", "svg_extracted_data.csv")
    with path.open(newline="") as fh:
        rows = [(float(r["Model Size"]), float(r["Training FLOP"]), float(r["loss"]))
                for r in csv.DictReader(fh)]
    n, c, loss = (np.array(col) for col in zip(*rows))
    keep = np.sort(np.argsort(loss)[:-5])
    n, c, loss = n[keep], c[keep], loss[keep]
    fast = _same_optimum(np.log(np.column_stack([n, c / (6 * n)])), np.log(loss))
    got = chinchilla.to_natural(np.asarray(fast.theta))
    assert abs(got["alpha"] - 0.3473) < 5e-3 * 0.3473 and abs(got["beta"] - 0.3672) < 5e-3 * 0.3672


def test_estimator_refuses_varpro_for_laws_without_linear_structure():
    other = POWER_FAMILIES[0]
    assert other.linear_structure is None
    problems = MultiStart(starts="varpro").check(other)
    assert problems and problems[0][0] == ("starts",)
    assert "declares no linear structure" in problems[0][1]
    assert MultiStart(starts="varpro").check(chinchilla) == []
    # A variant with other parameters has none: the structure builds the full parameter vector.
    for variant in (chinchilla.with_fixed({"E": 1.7}), chinchilla.with_tied({"beta": "alpha"}),
                    chinchilla.with_groups(["a", "b"], shared=("alpha", "beta"))):
        assert variant.linear_structure is None
        assert MultiStart(starts="varpro").check(variant)[0][0] == ("starts",)


@given(truth=st.fixed_dictionaries({
    "E": st.floats(1.5, 2.0), "A": st.floats(200.0, 2000.0), "B": st.floats(200.0, 3000.0),
    "alpha": st.floats(0.25, 0.45), "beta": st.floats(0.25, 0.45)}))
def test_varpro_recovers_random_true_parameters(truth):
    # 240 points like the tests above: no new compilation.
    n, d = np.meshgrid(np.geomspace(5e7, 1e10, 15), np.geomspace(2e9, 4e11, 16), indexing="ij")
    n, d = n.ravel(), d.ravel()
    loss = truth["E"] + truth["A"] / n ** truth["alpha"] + truth["B"] / d ** truth["beta"]
    fit = varpro.fit_varpro(MODEL, STRUCTURE, np.log(np.column_stack([n, d])), np.log(loss))
    got = chinchilla.to_natural(np.asarray(fit.theta))
    for k, v in truth.items():
        assert abs(got[k] - v) <= 1e-4 * v, (k, got[k], v)
