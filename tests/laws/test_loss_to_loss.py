"""loss_to_loss (Brandfonbrener et al. 2024): prediction and recovery."""

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

import scalinglaws as sl
from scalinglaws.laws.loss_to_loss import loss_to_loss


def paper_loss_to_loss(p, lx):
    return p["K"] * (lx - p["E_x"]) ** p["kappa"] + p["E_y"]


def test_predict_matches_the_paper_formula():
    rng = np.random.default_rng(0)
    for _ in range(20):
        p = {"K": rng.uniform(0.2, 5.0), "kappa": rng.uniform(0.3, 2.5), "E_x": rng.uniform(0.5, 2.5),
             "E_y": rng.uniform(0.5, 3.0)}
        lx = p["E_x"] + rng.uniform(0.01, 4.0, size=16)
        np.testing.assert_allclose(loss_to_loss.predict(p, {"L_x": lx}), paper_loss_to_loss(p, lx),
                                   rtol=1e-10)


def test_losses_below_the_irreducible_part_have_no_prediction():
    p = {"K": 1.0, "kappa": 1.0, "E_x": 2.0, "E_y": 1.0}
    assert np.isnan(loss_to_loss.predict(p, {"L_x": np.array([1.5])})[0])


# Twelve models whose L_x sits 0.2 to 2.5 nats above its irreducible loss (a 100x compute range
# on typical scaling curves).
EXCESS = np.geomspace(0.2, 2.5, 12)


def pairs(truth):
    lx = truth["E_x"] + EXCESS
    return sl.Table.from_columns(L_x=lx, loss=paper_loss_to_loss(truth, lx))


@pytest.fixture(scope="module", autouse=True)
def warm():
    sl.fit("loss_to_loss", pairs({"K": 1.0, "kappa": 1.0, "E_x": 1.7, "E_y": 2.0}))


# Realistic: irreducible losses of language-model pretraining and downstream sets (1 to 3 nats),
# K and kappa around 1 as in the paper's train-to-train and train-to-test fits.
@given(truth=st.fixed_dictionaries({
    "K": st.floats(0.5, 2.0), "kappa": st.floats(0.7, 1.5), "E_x": st.floats(1.5, 2.0),
    "E_y": st.floats(1.0, 3.0)}))
def test_recovers_all_four_parameters_from_a_wide_curve(truth):
    result = sl.fit("loss_to_loss", pairs(truth))
    note(repr(result))
    # Noise-free pairs: the optimum is the truth; 1e-4 covers the solver's stopping rule.
    for name, value in truth.items():
        assert result.params[name] == pytest.approx(value, rel=1e-4), name
