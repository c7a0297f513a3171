"""critical_batch_loss (Kaplan et al. 2020): prediction and recovery."""

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

import scalinglaws as sl
from scalinglaws.laws.critical_batch import KAPLAN, critical_batch_loss


def paper_bcrit(p, loss):
    return p["B_star"] / loss ** (1.0 / p["alpha_B"])


def test_predict_matches_the_paper_formula():
    rng = np.random.default_rng(0)
    for _ in range(20):
        p = {"B_star": 10 ** rng.uniform(6, 10), "alpha_B": rng.uniform(0.1, 0.5)}
        loss = rng.uniform(1.5, 6.0, 16)
        np.testing.assert_allclose(critical_batch_loss.predict(p, {"L": loss}), paper_bcrit(p, loss),
                                   rtol=1e-10)
    # Kaplan et al.: at L = 3 nats, 2e8 / 3^(1/0.21) ~ 1e6 tokens.
    assert 5e5 < critical_batch_loss.predict(KAPLAN, {"L": [3.0]})[0] < 2e6


L = np.linspace(2.5, 5.0, 8)


def estimates(truth):
    return sl.Table.from_columns(L=L, bcrit=paper_bcrit(truth, L))


@pytest.fixture(scope="module", autouse=True)
def warm():
    sl.fit("critical_batch_loss", estimates(KAPLAN), target="bcrit")


# Around Kaplan et al.'s B_* ~ 2e8 tokens and alpha_B ~ 0.21.
@given(log10_bstar=st.floats(7.5, 9.0), alpha_b=st.floats(0.15, 0.3))
def test_recovers_parameters(log10_bstar, alpha_b):
    truth = {"B_star": 10 ** log10_bstar, "alpha_B": alpha_b}
    result = sl.fit("critical_batch_loss", estimates(truth), target="bcrit")
    note(repr(result))
    # Noise-free and linear in logs: least squares is exact up to rounding (1e-8).
    for name, value in truth.items():
        assert result.params[name] == pytest.approx(value, rel=1e-8), name
