"""projektor (Kang et al. 2023): OT gradient from potentials, the performance model's fit and its
log-N mapping, the selection against a grid, and the `select_sources` task end to end.

All problems share one shape (3 sources x 12 revealed samples in 2-d, 24 validation samples) so
the jitted Sinkhorn and selection compile once for the module.
"""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scalinglaws as sl
from scalinglaws.errors import DataError, FitError, ScalingLawsError
from scalinglaws.mixture import projektor as pj
from scalinglaws.mixture.simplex import InfeasibleMixture

CENTRES = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0]])
MIX = np.array([0.5, 0.3, 0.2])  # the validation set is drawn from this mixture


def make_features(seed=0):
    rng = np.random.default_rng(seed)
    feats = [rng.normal(size=(12, 2)) * 0.6 + c for c in CENTRES]
    which = rng.choice(3, size=24, p=MIX)
    val = rng.normal(size=(24, 2)) * 0.6 + CENTRES[which]
    return feats, val


@pytest.fixture(scope="module")
def clouds():
    return pj.make_clouds(*make_features())


THETA = pj.coefficients(b2=[0.10, 0.20, 0.10], b1=[0.30, 0.20, 0.35], c2=[0.50, 0.60, 0.40],
                        c1=[1.50, 1.60, 1.55], b0=0.05, c0=0.2)
# A second size: a lower loss, the same shape.
THETA2 = pj.coefficients(b2=[0.08, 0.16, 0.08], b1=[0.25, 0.18, 0.30], c2=[0.45, 0.50, 0.35],
                         c1=[1.30, 1.42, 1.35])


def _value(p, cl):
    return pj._distance(p, cl, pj.EPS, pj.ITERATIONS, pj.ANNEAL).value


_autodiff = jax.jit(jax.grad(_value))  # unrolled through the Sinkhorn iterations


def _direction(i, s=3):
    e = np.full(s, -1.0 / s)
    e[i] += 1.0
    return e  # a direction within the simplex (sums to zero)


@settings(max_examples=4)
@given(st.integers(0, 10_000))
def test_gradient_from_potentials_matches_autodiff_and_finite_differences(clouds, seed):
    p = np.random.default_rng(seed).dirichlet(np.ones(3))
    p = np.clip(p, 0.02, None)
    p /= p.sum()
    ot = pj.ot_distance(p, clouds)
    ad = np.asarray(_autodiff(jnp.asarray(p), clouds))
    # Gradients on the simplex are defined up to a constant shift: compare centred ones.
    np.testing.assert_allclose(np.asarray(ot.calibrated), ad - ad.mean(), atol=1e-9)  # ~1e-13
    h = 1e-5
    fd = [(float(pj.ot_distance(p + h * _direction(i), clouds).value)
           - float(pj.ot_distance(p - h * _direction(i), clouds).value)) / (2 * h) for i in range(3)]
    np.testing.assert_allclose(np.asarray(ot.calibrated), fd, atol=1e-6)  # measured ~3e-10
    assert float(ot.marginal_error) < 1e-10


def test_potentials_give_the_gradient_on_the_boundary(clouds):
    # p_3 = 0: autodiff of log(a) breaks there; the potentials still give the one-sided slope.
    p = np.array([0.6, 0.4, 0.0])
    ot = pj.ot_distance(p, clouds)
    d = np.array([-0.5, -0.5, 1.0])  # into the simplex
    h = 1e-6
    one_sided = (float(pj.ot_distance(p + h * d, clouds).value) - float(ot.value)) / h
    assert np.asarray(ot.grad) @ d == pytest.approx(one_sided, rel=1e-4, abs=1e-4)


def _pilots(clouds, theta, n, seed):
    p = np.random.default_rng(seed).dirichlet(np.ones(3), n)
    w = np.asarray(pj.ot_distances(p, clouds).value)
    return p, w, np.asarray(pj.predict(theta, jnp.asarray(p), jnp.asarray(w)))


def test_least_squares_recovers_known_coefficients(clouds):
    p, w, y = _pilots(clouds, THETA, 20, seed=1)
    fit = pj.fit_coefficients(p, w, y)
    # b0, c0 fold into the linear terms (sum p = 1): the canonical form is what is identifiable.
    for got, want in zip(fit.theta, pj.canonical(THETA)):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-7, atol=1e-9)
    assert fit.rmse < 1e-12
    with pytest.raises(FitError, match="12 coefficients for 3 sources .* 8 pilot runs at size 1000"):
        pj.fit_coefficients(p[:8], w[:8], y[:8], size=1000)


def test_log_n_mapping_reproduces_a_model_linear_in_log_n(clouds):
    n1, n2 = 1e3, 8e3
    theta_a, theta_b = pj.canonical(THETA), pj.canonical(THETA2)
    # Truth linear in ln N through (n1, theta_a) and (n2, theta_b).
    truth = lambda n: jax.tree_util.tree_map(  # noqa: E731
        lambda a, b: a + (b - a) * np.log(n / n1) / np.log(n2 / n1), theta_a, theta_b)
    fits = [pj.fit_coefficients(*_pilots(clouds, truth(n), 20, seed=k)) for k, n in
            enumerate((n1, n2))]
    p, w, _ = _pilots(clouds, THETA, 20, seed=7)
    for n in (np.sqrt(n1 * n2), 3e4):  # between the pilot sizes, and beyond them
        mapped = pj.interpolate(fits[0].theta, fits[1].theta, n, n1, n2)
        want = np.asarray(pj.predict(truth(n), p, w))
        np.testing.assert_allclose(np.asarray(pj.predict(mapped, p, w)), want, rtol=1e-9)
        # The paper's mapping of predictions gives the same numbers (W is shared).
        l1, l2 = (np.asarray(pj.predict(f.theta, p, w)) for f in fits)
        np.testing.assert_allclose(pj.project_performance(n, n1, n2, l1, l2), want, rtol=1e-9)


def _grid(step=0.02):
    g = np.round(np.arange(0, 1 + 1e-9, step), 10)
    return np.array([(a, b, max(1.0 - a - b, 0.0)) for a in g for b in g if a + b <= 1 + 1e-9])


@pytest.fixture(scope="module")
def grid(clouds):
    pts = _grid()
    return pts, np.asarray(pj.ot_distances(pts, clouds).value)


@pytest.mark.parametrize("upper", [None, [1.0, 0.2, 1.0]])
def test_selection_matches_a_grid_search(clouds, grid, upper):
    pts, w = grid
    theta = pj.canonical(THETA)
    sel = pj.select(theta, clouds, upper=upper)
    loss = np.asarray(pj.predict(theta, pts, w))
    if upper is not None:
        loss = np.where(np.all(pts <= np.asarray(upper) + 1e-12, axis=1), loss, np.inf)
    best = int(np.argmin(loss))
    # Never worse than the best grid point, and within a grid cell of it (step 0.02).
    assert float(sel.predicted) <= loss[best] + 1e-9
    assert np.max(np.abs(np.asarray(sel.p) - pts[best])) <= 0.02
    assert float(sel.stationarity) < 1e-5
    assert abs(float(np.sum(sel.p)) - 1.0) < 1e-12
    if upper is not None:
        assert float(sel.p[1]) == pytest.approx(0.2, abs=1e-12) and bool(sel.at_upper[1])
    # Maximising a model is minimising its negation.
    neg = jax.tree_util.tree_map(lambda x: -x, theta)
    alt = pj.select(neg, clouds, upper=upper, maximise=True)
    np.testing.assert_allclose(np.asarray(alt.p), np.asarray(sel.p), atol=1e-9)


def test_infeasible_bounds_raise_a_clear_error(clouds):
    theta = pj.canonical(THETA)
    with pytest.raises(InfeasibleMixture, match="lower bounds sum to 1.2 > 1"):
        pj.select(theta, clouds, lower=[0.5, 0.4, 0.3])
    with pytest.raises(InfeasibleMixture, match="upper bounds sum to 0.6 < 1"):
        pj.select(theta, clouds, upper=[0.2, 0.2, 0.2])
    with pytest.raises(InfeasibleMixture, match="code: lower 0.5 > upper 0.3"):
        pj.select(theta, clouds, lower=[0, 0.5, 0], upper=[1, 0.3, 1], names=["web", "code", "x"])


# --- the task ------------------------------------------------------------------------------------
SPEC = """
version: 1
name: projektor demo
seed: 0
datasets:
  pilots: {{source: csv, path: pilots.csv}}
tasks:
  - name: pick
    kind: select_sources
    dataset: pilots
    sources: {{web: web.csv, code: code.npy, books: books.csv}}
    validation: val.csv
    target_size: 16000
    {extra}
"""


@pytest.fixture
def project(tmp_path, clouds):
    feats, val = make_features()
    np.savetxt(tmp_path / "web.csv", feats[0], delimiter=",", header="x,y", comments="")
    np.save(tmp_path / "code.npy", feats[1])
    np.savetxt(tmp_path / "books.csv", feats[2], delimiter=",")
    np.savetxt(tmp_path / "val.csv", val, delimiter=",", header="x,y", comments="")
    n1, n2 = 1e3, 4e3
    truth = {n1: pj.canonical(THETA), n2: pj.canonical(THETA2)}
    lines = ["p_web,p_code,p_books,N,loss"]
    for k, n in enumerate((n1, n2)):
        p, _, y = _pilots(clouds, truth[n], 20, seed=10 + k)
        lines += [",".join(repr(float(v)) for v in row) + f",{n:g},{float(v)!r}"
                  for row, v in zip(p, y)]
    (tmp_path / "pilots.csv").write_text("\n".join(lines) + "\n")
    return tmp_path, truth


def test_select_sources_task_end_to_end(project, clouds, write_spec):
    folder, truth = project
    spec = write_spec(SPEC.format(extra="lower: {books: 0.1}"))
    sl.run(spec, out=folder / "out")
    res = json.loads((folder / "out" / "results.json").read_text())["tasks"][0]
    assert res["kind"] == "select_sources" and res["pilot_sizes"] == [1000.0, 4000.0]
    assert res["fits"]["1000"]["rmse"] < 1e-10
    # The same selection as the library on the true coefficients mapped to N = 16000.
    want = pj.select(pj.interpolate(truth[1e3], truth[4e3], 16000, 1e3, 4e3), clouds,
                     lower=[0, 0, 0.1])
    got = np.array([res["selection"]["proportions"][s] for s in ("web", "code", "books")])
    np.testing.assert_allclose(got, np.asarray(want.p), atol=1e-6)
    assert res["selection"]["predicted"] == pytest.approx(float(want.predicted), rel=1e-9)
    report = (folder / "out" / "report.md").read_text()
    assert "### Chosen mixture at N = 16000" in report
    assert (folder / "out" / "projektor_pick.png").stat().st_size > 1000
    assert "p[books]" in (folder / "out" / "params.csv").read_text()
    # `scalinglaws report` re-renders the same section from results.json alone.
    from scalinglaws.mixture.projektor_task import SelectSourcesResult

    again = SelectSourcesResult.from_json(res)
    assert "\n".join(again.markdown({"projektor_pick.png"})) in report
    assert "projektor_pick.png" in again.figures()


def test_task_errors_name_file_row_and_fix(project, write_spec):
    folder, _ = project
    spec = write_spec(SPEC.format(extra="pilot_sizes: [1000, 2000]"))
    with pytest.raises(DataError, match="no pilot run at size 2000"):
        sl.run(spec, out=False)
    text = (folder / "books.csv").read_text().splitlines()
    text[3] = "0.1,oops"
    (folder / "books.csv").write_text("\n".join(text) + "\n")
    spec = write_spec(SPEC.format(extra=""))
    with pytest.raises(DataError, match=r"books.csv row 4: 'oops' is not a number \(column 2\)"):
        sl.run(spec, out=False)
    with pytest.raises(ScalingLawsError, match=r"sources\.web: no such file 'nope.csv'"):
        sl.load_spec(write_spec(SPEC.format(extra="").replace("web: web.csv", "web: nope.csv")))
