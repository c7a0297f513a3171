"""What a law family declares is all the package asks: a plugin law with a linear structure gets
`starts: varpro`, one with an allocation gets the closed-form allocate task, and no name is
matched anywhere (the law here is Chinchilla's form under other names)."""

import jax.numpy as jnp
import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws import plugins
from scalinglaws.core import LinearStructure
from scalinglaws.core.varpro import LOG_FLOOR
from scalinglaws.hookspecs import hookimpl
from scalinglaws.laws import LawFamily, Parameter
from scalinglaws.laws.base import PUBLISHED_HUBER

TRUTH = {"L0": 1.8, "Km": 500.0, "Kt": 900.0, "p": 0.3, "q": 0.35}
EXPONENTS = tuple(np.round(np.arange(0.1, 0.75 + 1e-9, 0.05), 6))  # 14 x 14 = 196 pairs


def _log_predict(theta, z):
    # L = L0 + Km N^-p + Kt D^-q, fitted as log L = LSE(l0, km - p log N, kt - q log D)
    return jnp.logaddexp(jnp.logaddexp(theta[0], theta[1] - theta[3] * z[:, 0]),
                         theta[2] - theta[4] * z[:, 1])


def _basis(nl, z):
    return jnp.stack([jnp.ones_like(z[:, 0]), jnp.exp(-nl[0] * z[:, 0]),
                      jnp.exp(-nl[1] * z[:, 1])], axis=1)


def _to_theta(nl, coef):
    return jnp.concatenate([jnp.log(jnp.maximum(coef, jnp.exp(LOG_FLOOR))), nl])


def _derived(p):
    s = p["p"] + p["q"]
    return {"a": p["q"] / s, "b": p["p"] / s}


def _allocation(p, budgets):
    # minimise Km N^-p + Kt (C / 6N)^-q over N: N_opt = G (C/6)^a, G = (p Km / (q Kt))^(1/(p+q))
    d = _derived(p)
    c6 = np.asarray(budgets, dtype=float) / 6.0
    a, b = (d[k][..., None] for k in ("a", "b"))
    g = ((p["p"] * p["Km"] / (p["q"] * p["Kt"])) ** (1.0 / (p["p"] + p["q"])))[..., None]
    n_opt, d_opt = g * c6 ** a, c6 ** b / g
    return {"N_opt": n_opt, "D_opt": d_opt, "tokens_per_param": d_opt / n_opt}


TWO_TERM = LawFamily(
    name="two_term", formula="L = L0 + Km N^-p + Kt D^-q", reference="(test)", inputs=("N", "D"),
    parameters=(Parameter(name="L0", transform="log", init=(0.0, 1.0)),
                Parameter(name="Km", transform="log", init=(0.0, 10.0)),
                Parameter(name="Kt", transform="log", init=(0.0, 10.0)),
                Parameter(name="p", init=(0.5,)), Parameter(name="q", init=(0.5,))),
    log_predict=_log_predict, prepare=np.log, default_estimator=PUBLISHED_HUBER,
    linear_structure=LinearStructure(nonlinear=("p", "q"), basis=_basis, to_theta=_to_theta,
                                     axes=(EXPONENTS, EXPONENTS)),
    derived=_derived, allocation=_allocation,
)


class TwoTermPlugin:
    @hookimpl
    def register_laws(self, register):
        register(TWO_TERM)


SPEC = """
version: 1
seed: 0
datasets:
  runs:
    source: simulate
    law: two_term
    truth: {L0: 1.8, Km: 500.0, Kt: 900.0, p: 0.3, q: 0.35}
    design:
      N: {logspace: [1.0e+7, 1.0e+10], num: 8}
      D: {logspace: [1.0e+9, 1.0e+12], num: 8}
tasks:
  - {name: varpro, kind: fit, dataset: runs, law: two_term, estimator: {starts: varpro}}
  - name: closed
    kind: allocate
    dataset: runs
    law: two_term
    estimator: {starts: varpro}
    uncertainty: {method: hessian}
    budgets: [1.0e+21, 5.76e+23]
    approaches: [3]
"""


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    registry = plugins.build_registry(((TwoTermPlugin(), "two-term"),), entry_points=False)
    path = tmp_path_factory.mktemp("declared") / "spec.yaml"
    path.write_text(SPEC)
    return sl.run(sl.load_spec(path, registry), out=False, registry=registry)


def test_a_declared_linear_structure_gives_varpro_starts(result):
    fit = result.tasks[0].fit
    assert fit.n_starts == len(EXPONENTS) ** 2  # the grid of the declared structure, nothing else
    for k, v in TRUTH.items():
        assert fit.params[k] == pytest.approx(v, rel=1e-6)


def test_a_declared_allocation_gives_the_closed_form(result):
    task = result.tasks[1]
    assert task.method == "closed_form"
    truth = _allocation({k: np.asarray([v]) for k, v in TRUTH.items()}, task.budgets)
    rows = [r for r in task.allocations if r["approach"] == 3]
    assert len(rows) == 2
    for k, row in enumerate(rows):
        assert row["method"] == "closed_form"
        assert row["N_opt"] == pytest.approx(truth["N_opt"][0, k], rel=1e-5)
        assert row["N_opt"] * row["D_opt"] * 6 == pytest.approx(row["C"])
        assert row["a"] == pytest.approx(0.35 / 0.65, rel=1e-6)  # from the declared `derived`
        # delta-method intervals through the declared allocation, traced by JAX
        assert row["N_opt_lower"] <= row["N_opt"] <= row["N_opt_upper"]
    # the derived quantities are reported with the fit's intervals
    assert set(task.fit.uncertainty.derived) == {"a", "b"}


def test_variants_keep_a_declaration_only_while_it_applies():
    fixed = TWO_TERM.with_fixed({"L0": 1.8})
    tied = TWO_TERM.with_tied({"q": "p"})
    grouped = TWO_TERM.with_groups(["x", "y"], shared=("p", "q"))
    assert (fixed.linear_structure, fixed.derived, fixed.allocation) == (None, None, None)
    assert tied.linear_structure is None
    assert tied.derived is _derived and tied.allocation is _allocation  # q reported as p
    assert (grouped.linear_structure, grouped.derived, grouped.allocation) == (None, None, None)
    with pytest.raises(ValueError, match="linear structure"):
        LawFamily(name="bad", formula="-", reference="-", inputs=("N", "D"),
                  parameters=TWO_TERM.parameters, log_predict=_log_predict,
                  linear_structure=TWO_TERM.linear_structure._replace(nonlinear=("p", "r")))
