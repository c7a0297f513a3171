"""The loss registry: every registered loss is consistent with autodiff, numpy and JAX agree, its
likelihood normaliser integrates its density, and estimators take losses by name."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import quad

from scalinglaws.core.objectives import (
    LOSSES,
    Loss,
    curvature_weights,
    describe_loss,
    irls_weights,
    loss_kind,
    make_loss,
    psi,
    rho,
)
from scalinglaws.estimators.multistart import MultiStart


def _cases():
    """Each registered loss at two thresholds, with default parameters and with each scaled x3."""
    out = []
    for name, kind in LOSSES.items():
        for delta in (1e-3, 0.5, 10.0):
            out.append(make_loss(name, delta))
            if kind.params:
                try:
                    out.append(make_loss(name, delta, {p: 3.0 * v for p, v in kind.params.items()}))
                except ValueError:
                    pass
    return out


CASES = _cases()
IDS = [f"{c.kind}-{c.delta:g}-{dict(c.args)}" for c in CASES]


def _residuals(loss: Loss) -> np.ndarray:
    """Residuals spanning both regions, away from the kinks at 0 and +-delta."""
    r = np.linspace(-6.0, 6.0, 241) * loss.delta
    a = np.abs(r)
    return r[(a > 1e-3 * loss.delta) & (np.abs(a - loss.delta) > 1e-3 * loss.delta)]


@pytest.mark.parametrize("loss", CASES, ids=IDS)
def test_psi_and_curvature_match_autodiff(loss):
    r = jnp.asarray(_residuals(loss))
    d_rho = jax.vmap(jax.grad(lambda x: rho(loss, x)))(r)
    d_psi = jax.vmap(jax.grad(lambda x: psi(loss, x)))(r)
    np.testing.assert_allclose(psi(loss, r), d_rho, rtol=0, atol=1e-10)
    np.testing.assert_allclose(curvature_weights(loss, r, "newton"), d_psi, rtol=0, atol=1e-10)
    np.testing.assert_allclose(irls_weights(loss, r) * r, psi(loss, r), rtol=1e-12, atol=1e-15)
    assert np.all(np.asarray(rho(loss, r)) >= 0)


@pytest.mark.parametrize("loss", CASES, ids=IDS)
def test_numpy_and_jax_give_the_same_values(loss):
    r = _residuals(loss)
    kind = loss_kind(loss.kind)
    for method in (kind.rho, kind.psi, kind.irls, kind.newton):
        out_np, out_jax = method(loss, r), method(loss, jnp.asarray(r))
        assert isinstance(out_np, np.ndarray) and isinstance(out_jax, jax.Array)
        np.testing.assert_array_equal(out_np, np.asarray(out_jax))
    for s in (1e-6, 0.3):
        assert float(kind.log_normaliser(loss, s)) == pytest.approx(
            float(kind.log_normaliser(loss, jnp.asarray(s))), rel=1e-12)


@pytest.mark.parametrize("loss", CASES, ids=IDS)
@pytest.mark.parametrize("s", [1e-6, 1e-4, 0.5])
def test_normaliser_integrates_the_density(loss, s):
    kind = loss_kind(loss.kind)
    delta = loss.delta
    width = max(delta, math.sqrt(s)) + 60 * s / delta + 40 * math.sqrt(s)
    sd = math.sqrt(s)
    z, _ = quad(lambda r: math.exp(-float(kind.rho(loss, r)) / s), -width, width, limit=400,
                points=sorted({-delta, delta, 0.0, -sd, sd, -10 * sd, 10 * sd}))
    assert float(kind.log_normaliser(loss, s)) == pytest.approx(math.log(z), rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("loss", CASES, ids=IDS)
def test_scale_maximises_the_likelihood(loss):
    kind = loss_kind(loss.kind)
    rng = np.random.default_rng(0)
    r = rng.normal(0.0, 2 * loss.delta, 200)
    h, n = float(np.sum(kind.rho(loss, r))), len(r)
    s = kind.scale(loss, h, n)

    def nll(s_):
        return h / s_ + n * float(kind.log_normaliser(loss, s_))

    assert nll(s) <= min(nll(s * 1.001), nll(s / 1.001))


def test_squared_error_is_the_gaussian():
    loss = make_loss("squared")
    kind = loss_kind("squared")
    assert kind.scale(loss, 3.0, 10) == 0.6
    assert float(kind.log_normaliser(loss, 0.6)) == pytest.approx(0.5 * math.log(2 * math.pi * 0.6))
    assert not kind.hybrid and kind.quadratic_region(loss, np.ones(3)) is None


def test_unknown_names_and_parameters_are_explained():
    with pytest.raises(ValueError, match="unknown loss 'hubr'; registered losses: huber, squared"):
        loss_kind("hubr")
    with pytest.raises(ValueError, match="loss 'huber' has no parameter 'k'; it takes none"):
        make_loss("huber", 1e-3, {"k": 2.0})
    with pytest.raises(ValueError, match="delta"):
        make_loss("huber", -1.0)
    assert make_loss("huber") == Loss("huber", 1e-3, ())
    assert describe_loss("huber", 1e-3) == "Huber (delta = 0.001)"
    assert describe_loss("squared") == "squared error"
    assert describe_loss("someone_elses_loss") == "someone_elses_loss"


def test_the_estimator_takes_any_registered_loss_by_name():
    for name in LOSSES:
        assert MultiStart(loss=name).core_loss() == make_loss(name, 1e-3)
    with pytest.raises(ValueError, match="expected one of huber, squared, .*got 'hubr'"):
        MultiStart(loss="hubr")
    with pytest.raises(ValueError, match="has no parameter 'k'"):
        MultiStart(loss="squared", loss_args={"k": 2.0})
    assert MultiStart(loss="huber", delta=0.02).core_loss() == Loss("huber", 0.02)
