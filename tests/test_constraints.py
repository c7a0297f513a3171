"""Tied parameters and parameters shared across groups of rows: the transformed families predict and
differentiate like the original, fits recover simulated truth within 1%, and specs say what is wrong."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws import load_spec
from scalinglaws.errors import SpecError

N_DESIGN = np.geomspace(5e7, 5e10, 6)
D_DESIGN = np.geomspace(1e9, 5e12, 6)
# One start near the truth and one far, in the fitting space: enough for noise-free data, and small
# enough that each test compiles one small fit.
STARTS = {"E": [0.5], "A": [5.0, 7.0], "B": [5.0, 7.0], "alpha": [0.3], "beta": [0.3]}


def chinchilla_runs(truths, column="family"):
    """Noise-free runs on the design for each group's truth; one group when ``truths`` is a dict."""
    groups = truths if isinstance(next(iter(truths.values())), dict) else {None: truths}
    cols = {"N": [], "D": [], "loss": [], column: []}
    for label, t in groups.items():
        n, d = (a.ravel() for a in np.meshgrid(N_DESIGN, D_DESIGN))
        cols["N"].append(n)
        cols["D"].append(d)
        cols["loss"].append(t["E"] + t["A"] / n ** t["alpha"] + t["B"] / d ** t["beta"])
        cols[column].append(np.full(n.shape, label, dtype=object))
    columns = {k: np.concatenate(v) for k, v in cols.items()}
    if None in groups:
        del columns[column]
    return sl.Table(columns)


# --- the transformed families ---------------------------------------------------------------------


def test_tied_family_predicts_and_differentiates_like_the_original():
    law = sl.get_law("chinchilla")
    tied = law.with_tied({"beta": "alpha"})
    assert tied.param_names == ("E", "A", "B", "alpha")
    assert tied.aliases == {"beta": "alpha"}
    z = jnp.log(jnp.array([[1e8, 1e10], [1e9, 1e11], [3e10, 2e12]]))
    theta = jnp.array([0.5, 6.0, 7.0, 0.3])
    full = jnp.array([0.5, 6.0, 7.0, 0.3, 0.3])
    np.testing.assert_allclose(tied.log_predict(theta, z), law.log_predict(full, z), rtol=1e-15)
    y, jac = tied.log_predict_and_jac(theta, z)
    np.testing.assert_allclose(jac, jax.jacfwd(tied.log_predict)(theta, z), rtol=1e-12)
    assert tied.to_natural(theta)["beta"] == tied.to_natural(theta)["alpha"]


def test_grouped_family_predicts_each_group_with_its_own_parameters():
    law = sl.get_law("chinchilla")
    grouped = law.with_groups(["a", "b"], ["alpha", "beta"], input_name="family")
    assert grouped.param_names == ("E[a]", "E[b]", "A[a]", "A[b]", "B[a]", "B[b]", "alpha", "beta")
    assert grouped.inputs == ("N", "D", "family")
    params = {"E[a]": 1.7, "E[b]": 2.1, "A[a]": 400.0, "A[b]": 900.0, "B[a]": 500.0, "B[b]": 300.0,
              "alpha": 0.33, "beta": 0.3}
    n, d = np.array([1e8, 1e9, 1e10, 1e8]), np.array([1e10, 1e11, 1e12, 1e10])
    group = np.array([0.0, 1.0, 0.0, 1.0])
    got = grouped.predict(params, {"N": n, "D": d, "family": group})
    for g, label in enumerate("ab"):
        own = {k: params[f"{k}[{label}]"] for k in "EAB"} | {"alpha": 0.33, "beta": 0.3}
        rows = group == g
        np.testing.assert_allclose(got[rows], law.predict(own, {"N": n[rows], "D": d[rows]}),
                                   rtol=1e-14)
    z = jnp.asarray(grouped.prepare(np.column_stack([n, d, group])))
    theta = jnp.asarray(grouped.to_fit(params))
    y, jac = grouped.log_predict_and_jac(theta, z)
    np.testing.assert_allclose(y, grouped.log_predict(theta, z), rtol=1e-15)
    np.testing.assert_allclose(jac, jax.jacfwd(grouped.log_predict)(theta, z), rtol=1e-12, atol=1e-15)


def test_grouped_starts_do_not_multiply_the_grid():
    law = sl.get_law("chinchilla").with_groups(["a", "b", "c"], ["alpha"])
    starts = sl.MultiStart(grid=STARTS).starting_points(law, seed=0)
    assert starts.shape == (4, len(law.parameters))
    e = [law.param_names.index(f"E[{g}]") for g in "abc"]
    assert np.all(starts[:, e] == starts[:, e[:1]])  # every group starts from the same values


# --- recovery ------------------------------------------------------------------------------------


def test_tied_fit_recovers_one_value_reported_under_both_names():
    truth = {"E": 1.8, "A": 480.0, "B": 2100.0, "alpha": 0.35, "beta": 0.35}
    result = sl.fit("chinchilla", chinchilla_runs(truth), {"grid": STARTS, "schedule": "full"},
                    tie={"beta": "alpha"})
    assert len(result.theta) == 4
    assert result.params["beta"] == result.params["alpha"]
    for name, value in truth.items():
        assert result.params[name] == pytest.approx(value, rel=0.01), name


def test_groups_share_exponents_and_recover_their_own_scales():
    truths = {
        "dense": {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28},
        "moe": {"E": 1.85, "A": 1200.0, "B": 2000.0, "alpha": 0.34, "beta": 0.28},
    }
    result = sl.fit("chinchilla", chinchilla_runs(truths), {"grid": STARTS, "schedule": "full"},
                    groups="family", shared=["alpha", "beta"])
    assert set(result.params) == {"E[dense]", "E[moe]", "A[dense]", "A[moe]", "B[dense]", "B[moe]",
                                  "alpha", "beta"}
    for label, truth in truths.items():
        for name, value in truth.items():
            key = name if name in ("alpha", "beta") else f"{name}[{label}]"
            assert result.params[key] == pytest.approx(value, rel=0.01), key


# --- specs ----------------------------------------------------------------------------------------

SPEC = """\
version: 1
datasets:
  sim:
    source: simulate
    law: chinchilla
    truth: {E: 1.69, A: 406.4, B: 410.7, alpha: 0.34, beta: 0.28}
    groups: {small: {}, large: {E: 1.8, A: 900.0}}
    group_column: model_family
    design:
      N: {logspace: [5.0e+7, 5.0e+10], num: 5}
      D: {logspace: [1.0e+9, 5.0e+12], num: 5}
tasks:
  - kind: fit
    dataset: sim
    estimator: {grid: {E: [0.5], A: [5.0, 7.0], B: [5.0, 7.0], alpha: [0.3], beta: [0.3]}, schedule: full}
    law: LAW
"""


def test_grouped_spec_runs_and_compares_with_the_simulated_truth(write_spec):
    law = "{family: chinchilla, groups: model_family, shared: [alpha, beta, B]}"
    path = write_spec(SPEC.replace("LAW", law))
    task = sl.run(load_spec(path), out=False).tasks[0]
    assert task.truth == {"E[large]": 1.8, "E[small]": 1.69, "A[large]": 900.0, "A[small]": 406.4,
                          "B": 410.7, "alpha": 0.34, "beta": 0.28}
    for row in task.rows():
        assert row["rel_error"] < 1e-6, row


@pytest.mark.parametrize("law, message", [
    ("{family: chinchilla, tie: {beta: gamma}}", "tasks[0].law.tie.beta: law 'chinchilla' has no "
     "parameter 'gamma'"),
    ("{family: chinchilla, tie: {beta: E}}", "cannot tie beta (fitted as beta) to E (fitted as e)"),
    ("{family: chinchilla, tie: {beta: alpha}, fixed: {beta: 0.3}}", "beta is both fixed and tied"),
    ("{family: chinchilla, shared: [alpha]}", "tasks[0].law.shared: `shared` needs `groups: <column>`"),
    ("{family: chinchilla, groups: model_family, shared: [alpah]}",
     "tasks[0].law.shared[0]: law 'chinchilla' has no parameter 'alpah' (did you mean 'alpha'?)"),
    ("{family: chinchilla, groups: model_family, shared: [beta], tie: {beta: alpha}}",
     "beta is tied to alpha; share alpha instead"),
    ("{family: chinchilla, groups: model_family, shared: [alpha], fixed: {alpha: 0.3}}",
     "alpha is fixed, hence already common to all groups"),
])
def test_constraint_errors_are_located(write_spec, law, message):
    path = write_spec(SPEC.replace("LAW", law))
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert any(message in str(p) for p in info.value.problems), info.value


def test_unknown_group_column_names_the_columns(write_spec):
    path = write_spec(SPEC.replace("LAW", "{family: chinchilla, groups: family, shared: [alpha]}"))
    with pytest.raises(sl.DataError, match="no column 'family'.*model_family"):
        sl.run(load_spec(path), out=False)
