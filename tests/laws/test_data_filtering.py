"""data_filtering (Goyal et al. 2024): prediction against the explicit product over epochs and the
authors' code, recovery, and the compute-dependent ranking of filtering levels."""

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

import scalinglaws as sl
from scalinglaws.laws.data_filtering import (
    GOYAL_2024_TMARS,
    MAX_EPOCHS,
    best_filtering_level,
    data_filtering,
    pool_mixture_error,
)


def paper_error(p, n, u):
    """y = d + (a n_0)^b_0 prod_k (n_k / n_{k-1})^b_k, b_k = b 2^(-k / tau): an explicit loop over
    the epochs k = 1..floor(n / u), the last one partial."""
    out = []
    for ni, ui in zip(n, u):
        y = (p["a"] * min(ni, ui)) ** p["b"]
        for k in range(1, int(ni // ui) + 1):
            y *= (min(ni, (k + 1) * ui) / (k * ui)) ** (p["b"] * 0.5 ** (k / p["tau"]))
        out.append(p["d"] + y)
    return np.array(out)


def authors_effective_utility(samples_seen, a, b, c, d, samples_per_epoch, normalizer=100_000):
    """locuslab/scaling_laws_data_filtering ``objective.func_effective_utility``, restated (their
    a is per 1e5 samples; d is added before the epoch ratios multiply)."""
    epochs = np.arange(samples_seen // samples_per_epoch + 1)
    b_decayed = b * 0.5 ** (epochs / c)
    samples = a * np.minimum(samples_per_epoch * (epochs + 1), samples_seen) / normalizer
    samples_1 = a * samples_per_epoch * epochs / normalizer
    loss = samples[0] ** b_decayed[0] + d
    if len(samples) > 1:
        loss *= ((samples[1:] / samples_1[1:]) ** b_decayed[1:]).prod()
    return loss


def random_params(rng):
    return {"a": 10 ** rng.uniform(-8, -5), "b": -rng.uniform(0.02, 0.5), "d": rng.uniform(0.0, 0.5),
            "tau": rng.uniform(0.5, 50.0)}


def test_predict_matches_the_explicit_product_over_epochs():
    rng = np.random.default_rng(0)
    for _ in range(20):
        p = random_params(rng)
        u = 10 ** rng.uniform(5, 9, 40)
        epochs = np.where(rng.random(40) < 0.3, rng.integers(1, 60, 40),  # whole epochs, exactly
                          10 ** rng.uniform(-2, np.log10(300), 40))
        n = u * epochs
        np.testing.assert_allclose(data_filtering.predict(p, {"n": n, "u": u}),
                                   paper_error(p, n, u), rtol=1e-10)


def test_predict_matches_the_authors_code_where_d_is_placed_alike():
    # The authors' code multiplies d by the epoch ratios too: the forms agree for d = 0 at any
    # repetition, and for any d within the first pass.
    rng = np.random.default_rng(1)
    u = 12_800_000.0
    for _ in range(10):
        p = random_params(rng)
        for n in (0.3 * u, u, 2.5 * u, 10 * u, 37.2 * u):
            ours = data_filtering.predict({**p, "d": 1e-300}, {"n": [n], "u": [u]})[0]
            theirs = authors_effective_utility(n, p["a"] * 1e5, p["b"], p["tau"], 0.0, u)
            assert ours == pytest.approx(theirs, rel=1e-10)
        n = 0.5 * u
        theirs = authors_effective_utility(n, p["a"] * 1e5, p["b"], p["tau"], p["d"], u)
        assert data_filtering.predict(p, {"n": [n], "u": [u]})[0] == pytest.approx(theirs, rel=1e-10)


def test_error_is_continuous_across_epoch_boundaries_and_falls_with_samples():
    p = {"a": 2.5e-7, "b": -0.16, "d": 0.1, "tau": 3.0}
    u = 1e7
    for k in (1, 2, 5, 40):
        y = data_filtering.predict(p, {"n": [k * u * (1 - 1e-12), k * u, k * u * (1 + 1e-12)],
                                       "u": [u] * 3})
        assert np.ptp(y) < 1e-10
    # Falls with every sample seen, towards a floor above d once repetition has used the pool up.
    y = data_filtering.predict(p, {"n": np.geomspace(1e6, 1e10, 50), "u": np.full(50, u)})
    assert np.all(np.diff(y) <= 0) and np.all(np.diff(y[:20]) < 0) and y[-1] > p["d"] + 0.5


def test_more_than_max_epochs_is_refused():
    with pytest.raises(ValueError, match="epochs"):
        data_filtering.predict({"a": 1e-7, "b": -0.1, "d": 0.1, "tau": 3.0},
                               {"n": [2.0 * MAX_EPOCHS], "u": [1.0]})


# Pools of 12.8M to 640M unique samples (the paper's buckets are 12.8M, DataComp medium 128M) and
# 1e7 to 1e9 samples seen: from a fraction of one pass to 78 repetitions.
U, N = (a.ravel() for a in np.meshgrid([1.28e7, 3.2e7, 1.28e8, 6.4e8], np.geomspace(1e7, 1e9, 7)))


def runs(truth):
    return sl.Table.from_columns(n=N, u=U, error=data_filtering.predict(truth, {"n": N, "u": U}))


@pytest.fixture(scope="module")
def warm():
    sl.fit(data_filtering, runs({"a": 2.5e-7, "b": -0.12, "d": 0.1, "tau": 5.0}), target="error")


# Around the authors' T-MARS fits (a = 2.5e-7 per sample, b -0.16 to -0.085, tau 2.3 to 8.5,
# d = 0.1 for ImageNet error).
@given(a=st.floats(1.5e-7, 5e-7), b=st.floats(-0.2, -0.08), d=st.floats(0.05, 0.3),
       tau=st.floats(1.5, 10.0))
def test_recovers_all_four_parameters(warm, a, b, d, tau):
    truth = {"a": a, "b": b, "d": d, "tau": tau}
    result = sl.fit(data_filtering, runs(truth), target="error")
    note(repr(result))
    # Noise-free data: the optimum is the truth (errors measured ~1e-12); 1e-6 covers the solver.
    for name, value in truth.items():
        assert result.params[name] == pytest.approx(value, rel=1e-6), name


def tmars_pools():
    g = GOYAL_2024_TMARS
    return [{"b": b, "tau": t, "u": g["u"]} for b, t in zip(g["b"], g["tau"])]


def test_a_single_pool_mixture_is_the_law():
    p = {"a": 2.5e-7, "b": -0.13, "d": 0.1, "tau": 4.0}
    n = np.geomspace(1e6, 1e9, 9)
    np.testing.assert_allclose(
        pool_mixture_error([{"b": p["b"], "tau": p["tau"], "u": 1e7}], p["a"], p["d"], n),
        data_filtering.predict(p, {"n": n, "u": np.full(9, 1e7)}), rtol=1e-12)


def test_mixture_matches_the_authors_aggregation_of_equal_pools():
    # objective.func_effective_utility_aggregation, with estimate_best_pool's tau * (pools), d = 0.
    pools = tmars_pools()[:3]
    a, u = 2.5e-7, 3 * GOYAL_2024_TMARS["u"]
    for n in (2e7, 3.84e7, 1e8, 6.4e8):
        epochs = np.arange(n // u + 1)
        bk = np.mean([p["b"] * 0.5 ** (epochs / (3 * p["tau"])) for p in pools], axis=0)
        samples = np.minimum(u * (epochs + 1), n)
        expected = (a * samples[0]) ** bk[0] * np.prod((samples[1:] / (u * epochs[1:])) ** bk[1:])
        assert pool_mixture_error(pools, a, 0.0, [n])[0] == pytest.approx(expected, rel=1e-10)


def test_the_best_filtering_level_grows_with_compute():
    # The paper's result on the authors' T-MARS fits: the top 10% wins at low compute, and less
    # aggressive filtering wins as the number of samples seen grows.
    g = GOYAL_2024_TMARS
    n = np.array([3.2e7, 6.4e7, 1.28e8, 6.4e8, 2e9, 1e10])
    errors, best = best_filtering_level(tmars_pools(), g["a"], g["d"], n)
    assert errors.shape == (4, 6)
    assert best[0] == 0 and best[-1] > 0
    assert np.all(np.diff(best) >= 0)


def test_a_small_high_quality_pool_wins_early_and_loses_late():
    small = {"b": -0.2, "tau": 2.0, "u": 1e7}  # high utility, soon exhausted
    large = {"b": -0.12, "tau": 2.0, "u": 1e9}
    a, d = 2.5e-7, 0.1
    err = {name: pool_mixture_error([pool], a, d, [5e6, 1e10])
           for name, pool in (("small", small), ("large", large))}
    assert err["small"][0] < err["large"][0]
    assert err["small"][1] > err["large"][1]
