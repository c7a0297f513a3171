"""bnsl / bnsl2 (Caballero et al. 2023): prediction against the paper's formula, the factory, and
recovery with one and two breaks."""

import numpy as np
import pytest
from hypothesis import assume, given, note, settings
from hypothesis import strategies as st

import scalinglaws as sl
from scalinglaws.laws.bnsl import bnsl, sort_breaks


def paper_bnsl(p, x, n_breaks):
    """Eq. (1) as in the authors' ``bnsl_with_1_break``, extended to n breaks, in numpy."""
    y = p["b"] * x ** -p["c0"]
    for i in range(1, n_breaks + 1):
        y = y * (1 + (x / p[f"d{i}"]) ** (1 / p[f"f{i}"])) ** (-p[f"c{i}"] * p[f"f{i}"])
    return p["a"] + y


def random_params(rng, n_breaks):
    p = {"a": rng.uniform(0.01, 2.0), "b": 10 ** rng.uniform(-1, 3), "c0": rng.uniform(-0.2, 1.0)}
    for i in range(1, n_breaks + 1):
        p.update({f"c{i}": rng.uniform(-1.0, 1.5), f"d{i}": 10 ** rng.uniform(1, 7),
                  f"f{i}": 10 ** rng.uniform(-1.3, 0.5)})
    return p


@pytest.mark.parametrize("n_breaks", [1, 2, 3])
def test_predict_matches_the_paper_formula(n_breaks):
    rng = np.random.default_rng(n_breaks)
    family = bnsl(n_breaks)
    for _ in range(10):
        p = random_params(rng, n_breaks)
        x = 10 ** rng.uniform(0, 8, 32)
        np.testing.assert_allclose(family.predict(p, {"x": x}), paper_bnsl(p, x, n_breaks),
                                   rtol=1e-10)


def test_factory_names_and_caches_the_families():
    assert bnsl(1).name == "bnsl" and bnsl(2).name == "bnsl2"
    assert sl.get_law("bnsl") is bnsl(1) and sl.get_law("bnsl2") is bnsl(2)
    assert bnsl(3) is bnsl(3)  # one object per signature: the core compiles it once
    assert bnsl(3).param_names == ("a", "b", "c0", "c1", "c2", "c3", "d1", "d2", "d3",
                                   "f1", "f2", "f3")
    with pytest.raises(ValueError):
        bnsl(0)


# A learning curve over seven decades, four points per decade.
X = np.geomspace(1e1, 1e8, 29)
ESTIMATOR = {"starts": "random", "n_random": 64, "schedule": "full", "max_iter": 200}


def runs(truth, n_breaks):
    return sl.Table.from_columns(x=X, loss=paper_bnsl(truth, X, n_breaks))


def draw_truth(data, n_breaks):
    """Curves whose parameters the design determines: breaks at least 1.5 decades inside the
    design and apart, slopes -(c0 + c1 + ...) between 0.1 and 1.2 (decreasing to a visible limit
    a) changing by at least 0.2 at each break, smoothness f from 0.2 to 0.6."""
    slopes = [data.draw(st.floats(0.1, 0.6))]
    log_d = [data.draw(st.floats(2.5, 4.5))]
    for _ in range(1, n_breaks):
        log_d.append(log_d[-1] + data.draw(st.floats(1.5, 2.0)))
    truth = {"a": data.draw(st.floats(0.1, 1.0)), "b": 10 ** data.draw(st.floats(0.0, 2.0)),
             "c0": slopes[0]}
    for i in range(1, n_breaks + 1):
        slopes.append(data.draw(st.floats(0.1, 1.2)))
        assume(abs(slopes[i] - slopes[i - 1]) >= 0.2)
        truth.update({f"c{i}": slopes[i] - slopes[i - 1], f"d{i}": 10 ** log_d[i - 1],
                      f"f{i}": data.draw(st.floats(0.2, 0.6))})
    return truth


@pytest.fixture(scope="module")
def warm():
    one = {"a": 0.5, "b": 20.0, "c0": 0.1, "c1": 0.5, "d1": 1e5, "f1": 0.3}
    sl.fit(bnsl(1), runs(one, 1), ESTIMATOR)
    two = {**one, "c2": -0.3, "d2": 1e6, "f2": 0.5, "d1": 1e4}
    sl.fit(bnsl(2), runs(two, 2))  # the family's own estimator


def check(result, truth, n_breaks):
    note(repr(result))
    found = sort_breaks(result.params, n_breaks)
    # Noise-free data: the optimum is the truth (up to the order of the breaks). The break
    # locations and sharpness are set by a handful of points around each break: 1e-3.
    for name, value in truth.items():
        assert found[name] == pytest.approx(value, rel=1e-3), name


@given(data=st.data())
def test_recovers_one_break(warm, data):
    truth = draw_truth(data, 1)
    check(sl.fit(bnsl(1), runs(truth, 1), ESTIMATOR), truth, 1)


@settings(max_examples=4)
@given(data=st.data())
def test_recovers_two_breaks_with_the_default_estimator(warm, data):
    truth = draw_truth(data, 2)
    check(sl.fit(bnsl(2), runs(truth, 2)), truth, 2)
