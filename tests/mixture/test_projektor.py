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
from scalinglaws.report import presenters

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
  web: {{source: csv, path: web.csv}}
  code: {{source: csv, path: code.csv, header: false, names: [x, y]}}
  books: {{source: csv, path: books.csv, header: false, names: [x, y]}}
  val: {{source: csv, path: val.csv}}
  {more}
tasks:
  - name: pick
    kind: select_sources
    dataset: pilots
    sources: {{web: web, code: code, books: books}}
    validation: val
    target_size: 16000
    {extra}
"""
# Size N2's own samples (written by the `project_by_size` fixture).
BY_SIZE = """web2: {source: csv, path: web2.csv}
  code2: {source: csv, path: code2.csv, header: false, names: [x, y]}
  books2: {source: csv, path: books2.csv, header: false, names: [x, y]}"""


def spec_text(extra: str = "", more: str = "") -> str:
    return SPEC.format(extra=extra, more=more)


@pytest.fixture
def project(tmp_path, clouds):
    feats, val = make_features()
    np.savetxt(tmp_path / "web.csv", feats[0], delimiter=",", header="x,y", comments="")
    np.savetxt(tmp_path / "code.csv", feats[1], delimiter=",")
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
    spec = write_spec(spec_text("lower: {books: 0.1}"))
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
    assert "\n".join(presenters.markdown(again, {"projektor_pick.png"})) in report
    assert "projektor_pick.png" in presenters.figures(again)


def test_task_errors_name_file_row_and_fix(project, write_spec):
    folder, _ = project
    spec = write_spec(spec_text("pilot_sizes: [1000, 2000]"))
    with pytest.raises(DataError, match="no pilot run at size 2000"):
        sl.run(spec, out=False)
    text = (folder / "books.csv").read_text().splitlines()
    text[3] = "0.1,oops"
    (folder / "books.csv").write_text("\n".join(text) + "\n")
    spec = write_spec(spec_text(""))
    with pytest.raises(DataError, match=r"books.csv row 4, column 'y': 'oops' is not a number"):
        sl.run(spec, out=False)
    with pytest.raises(ScalingLawsError, match=r"sources\.web: no dataset 'nope'"):
        sl.load_spec(write_spec(spec_text().replace("web: web, code", "web: nope, code")))


# --- revealed samples that differ by pilot size --------------------------------------------------
N1, N2, NT = 1e3, 4e3, 16000.0


@pytest.fixture(scope="module")
def clouds2():
    """Size N2's revealed samples: other draws from the same sources (same shapes, same
    validation set)."""
    return pj.make_clouds(make_features(seed=1)[0], make_features()[1])


def _mapped_formula(p, clouds, clouds2, n=NT):
    """[ln(N/N1) L2 - ln(N/N2) L1] / ln(N2/N1), L_k with size k's own OT distance (mixtures
    ``p`` (K, S) or (S,))."""
    ps = np.atleast_2d(p)  # one point at a time: one compilation whatever K
    w1, w2 = (np.array([float(pj.ot_distance(q, c).value) for q in ps]) for c in (clouds, clouds2))
    l1 = np.asarray(pj.predict(pj.canonical(THETA), ps, w1))
    l2 = np.asarray(pj.predict(pj.canonical(THETA2), ps, w2))
    out = (np.log(n / N1) * l2 - np.log(n / N2) * l1) / np.log(N2 / N1)
    return out if np.ndim(p) == 2 else float(out[0])


def test_mapped_prediction_and_selection_with_samples_per_size(clouds, clouds2):
    t1, t2 = pj.canonical(THETA), pj.canonical(THETA2)
    p = np.random.default_rng(3).dirichlet(np.ones(3), 5)
    w1, w2 = (np.array([float(pj.ot_distance(q, c).value) for q in p]) for c in (clouds, clouds2))
    assert np.max(np.abs(w1 - w2)) > 0.05  # the sizes' distances really differ
    for n in (np.sqrt(N1 * N2), NT):
        want = _mapped_formula(p, clouds, clouds2, n)
        np.testing.assert_allclose(np.asarray(pj.predict_mapped(t1, t2, p, w1, w2, n, N1, N2)),
                                   want, rtol=1e-12)
    upper = [1.0, 0.1, 1.0]
    sel = pj.select_mapped(t1, clouds, t2, clouds2, NT, N1, N2, upper=upper)
    q = np.asarray(sel.p)
    assert float(sel.predicted) == pytest.approx(_mapped_formula(q, clouds, clouds2), rel=1e-10)
    assert float(sel.stationarity) < 1e-5 and bool(sel.at_upper[1])
    # The selection's gradient (both sizes' OT gradients with the log-N weights) against central
    # finite differences of the explicit formula, in every direction within the simplex.
    h = 1e-5
    d = np.array([_direction(i) for i in range(3)])
    fd = (_mapped_formula(q + h * d, clouds, clouds2)
          - _mapped_formula(q - h * d, clouds, clouds2)) / (2 * h)
    np.testing.assert_allclose(d @ np.asarray(sel.grad), fd, atol=1e-6)
    assert abs(float(np.asarray(sel.grad)[1])) > 1e-3  # the binding bound: a real check
    # No feasible mixture nearby does better (a local check; the first-order conditions hold).
    moves = np.array([[1, 0, -1], [-1, 0, 1], [1, -1, 0], [0, -1, 1]])  # keep p_code <= 0.1
    near = q + 0.02 * moves
    assert float(sel.predicted) <= float(np.min(_mapped_formula(near, clouds, clouds2)))
    with pytest.raises(ValueError, match="one OT distance per pilot size"):
        sel.ot  # noqa: B018


def test_identical_samples_per_size_give_todays_selection(clouds):
    t1, t2 = pj.canonical(THETA), pj.canonical(THETA2)
    today = pj.select(pj.interpolate(t1, t2, NT, N1, N2), clouds, upper=[1.0, 0.2, 1.0])
    same = pj.select_mapped(t1, clouds, t2, clouds, NT, N1, N2, upper=[1.0, 0.2, 1.0])
    # Equal up to where the search stops (two warm-started Sinkhorns instead of one): ~4e-7.
    np.testing.assert_allclose(np.asarray(same.p), np.asarray(today.p), atol=1e-6)
    assert float(same.predicted) == pytest.approx(float(today.predicted), rel=1e-10)
    ref = pj.ot_distance(same.p, clouds)
    for o in same.ots:
        np.testing.assert_allclose(np.asarray(o.calibrated), np.asarray(ref.calibrated), atol=1e-12)


@pytest.fixture
def project_by_size(project, clouds2):
    """The `project` folder plus size N2's own samples (web2.csv, code2.csv, books2.csv), pilot
    runs at N2 generated with them, and held-out runs at N = 16000 from the mapped formula."""
    folder, truth = project
    feats2 = make_features(seed=1)[0]
    np.savetxt(folder / "web2.csv", feats2[0], delimiter=",", header="x,y", comments="")
    np.savetxt(folder / "code2.csv", feats2[1], delimiter=",")
    np.savetxt(folder / "books2.csv", feats2[2], delimiter=",")
    shared = (folder / "pilots.csv").read_text()
    lines = [ln for ln in shared.splitlines() if ln.split(",")[3] != "4000"]
    p, _, y = _pilots(clouds2, truth[N2], 20, seed=11)
    held = np.random.default_rng(12).dirichlet(np.ones(3), 4)
    rows = [(row, 4000, v) for row, v in zip(p, y)]
    rows += list(zip(held, [16000] * len(held),
                     _mapped_formula(held, pj.make_clouds(*make_features()), clouds2)))
    lines += [",".join(repr(float(v)) for v in row) + f",{n},{float(v)!r}" for row, n, v in rows]
    (folder / "pilots.csv").write_text("\n".join(lines) + "\n")
    return folder, truth, shared


def test_task_with_samples_per_size(project_by_size, clouds, clouds2, write_spec):
    folder, truth, shared = project_by_size
    by_size = "sources_by_size: {4000: {web: web2, code: code2, books: books2}}"
    spec = write_spec(spec_text(extra=f"lower: {{books: 0.1}}\n    pilot_sizes: [1000, 4000]\n"
                                      f"    {by_size}", more=BY_SIZE))
    sl.run(spec, out=folder / "out")
    res = json.loads((folder / "out" / "results.json").read_text())["tasks"][0]
    assert res["fits"]["1000"]["rmse"] < 1e-10 and res["fits"]["4000"]["rmse"] < 1e-10
    assert res["coefficients_at_target"] is None
    # Held-out runs at N = 16000 follow the mapped formula exactly: projected without error.
    assert res["held_out"]["n"] == 4 and res["held_out"]["max_abs_error"] < 1e-9
    want = pj.select_mapped(truth[N1], clouds, truth[N2], clouds2, NT, N1, N2, lower=[0, 0, 0.1])
    got = np.array([res["selection"]["proportions"][s] for s in ("web", "code", "books")])
    np.testing.assert_allclose(got, np.asarray(want.p), atol=1e-6)
    assert res["selection"]["predicted"] == pytest.approx(float(want.predicted), rel=1e-9)
    assert res["selection"]["ot_by_size"]["4000"]["ot"] == pytest.approx(
        float(want.ots[1].value), rel=1e-9)
    from scalinglaws.mixture.projektor_task import SelectSourcesResult

    again = SelectSourcesResult.from_json(res)
    assert "\n".join(presenters.markdown(again, {"projektor_pick.png"})) in (
        folder / "out" / "report.md").read_text()
    # Identical files for both sizes (pilots from one set of samples): today's result.
    (folder / "pilots.csv").write_text(shared)
    spec = write_spec(spec_text("sources_by_size: {1000: {web: web}}"))
    b = sl.run(spec, out=False).tasks[0].to_json()["selection"]
    today = pj.select(pj.interpolate(truth[N1], truth[N2], NT, N1, N2), clouds)
    np.testing.assert_allclose([b["proportions"][s] for s in ("web", "code", "books")],
                               np.asarray(today.p), atol=1e-6)
    assert b["predicted"] == pytest.approx(float(today.predicted), rel=1e-10)


def test_sources_by_size_errors_name_the_key_and_the_fix(project, write_spec):
    spec = write_spec(spec_text("sources_by_size: {2000: {web: web}}"))
    with pytest.raises(DataError, match=r"sources_by_size: 2000 is not a pilot size \(the pilot "
                                        r"sizes are 1000, 4000\); key the datasets by N1 or N2"):
        sl.run(spec, out=False)
    with pytest.raises(ScalingLawsError, match=r"source 'webb' .*is not in `sources`"):
        sl.load_spec(write_spec(spec_text("sources_by_size: {1000: {webb: web}}")))
    with pytest.raises(ScalingLawsError, match=r"sources_by_size\[1000\]\.web: no dataset 'web9' "
                       r"\(did you mean 'web'\?\)"):
        sl.load_spec(write_spec(spec_text("sources_by_size: {1000: {web: web9}}")))
    bad = "pilot_sizes: [1000, 4000]\n    sources_by_size: {3000: {web: web}}"
    with pytest.raises(ScalingLawsError, match=r"3000 is not one of `pilot_sizes` \(1000, 4000\)"):
        sl.load_spec(write_spec(spec_text(bad)))
