"""The fit_mixture and optimise_mixture tasks end to end: spec -> results.json, report, plot."""

import json

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws.errors import ScalingLawsError, SpecError

SOURCES = ["web", "code", "books", "math", "wiki", "news"]  # 6 sources, 3 domains: the shapes of
DOMAINS = ["web", "code", "math"]  # the other mixture tests, whose compilations are reused


@pytest.fixture
def runs_csv(tmp_path):
    rng = np.random.default_rng(0)
    r = rng.dirichlet(np.ones(6), 120)
    w = np.array([[-2.5, 0.0, -3.0, 0.0, -0.5, 0.0], [0.0, -3.0, -3.0, 0.0, 0.0, 0.0],
                  [0.0, -0.5, -1.0, -3.0, 0.0, 0.0]])
    loss = np.array([2.0, 1.2, 1.0]) + np.array([1.2, 0.8, 1.0]) * np.exp(r @ w.T)
    loss *= np.exp(0.002 * rng.normal(size=loss.shape))
    path = tmp_path / "runs.csv"
    header = ["run"] + [f"r_{s}" for s in SOURCES] + [f"loss_{d}" for d in DOMAINS]
    lines = [",".join(header)]
    lines += [",".join([str(i)] + [f"{v:.6f}" for v in row] + [f"{v:.6f}" for v in y])
              for i, (row, y) in enumerate(zip(r, loss))]
    path.write_text("\n".join(lines) + "\n")
    return path


SPEC = """
version: 1
name: mixture demo
seed: 0
datasets:
  runs: {{source: csv, path: {csv}}}
tasks:
  - name: law
    kind: fit_mixture
    dataset: runs
    evaluate:
      same: {{dataset: runs}}
  - name: choose
    kind: optimise_mixture
    dataset: runs
    target: {{web: 0.4, code: 0.3, math: 0.3}}
    lower: {{web: 0.1}}
    budget: 1.0e+10
    max_epochs: 4
    unique_tokens: {{books: 5.0e+8}}
    bootstrap: 20
    n_starts: 64
"""


def test_optimise_mixture_spec_writes_results_report_and_plot(runs_csv, write_spec, tmp_path):
    spec = write_spec(SPEC.format(csv=runs_csv))
    out = tmp_path / "out"
    sl.run(spec, out=out)
    res = json.loads((out / "results.json").read_text())
    fit, choose = res["tasks"]
    assert fit["kind"] == "mixture_fit" and fit["law"] == "mixing_exp"
    assert fit["sources"] == SOURCES and fit["domains"] == DOMAINS
    assert fit["evaluation"]["same"]["web"]["spearman"] > 0.99
    opt = choose["optimum"]
    assert abs(sum(opt["proportions"].values()) - 1.0) < 1e-12
    assert opt["proportions"]["books"] == pytest.approx(0.2, abs=0)  # 4 x 5e8 / 1e10: the cap
    assert opt["capped_by_availability"] == ["books"]
    assert opt["epochs"]["books"] == pytest.approx(4.0)
    assert opt["bootstrap"]["n_draws"] == 20
    report = (out / "report.md").read_text()
    assert "### Chosen mixture (task `choose`)" in report
    assert "availability cap" in report
    assert (out / "mixture_choose.png").stat().st_size > 1000
    assert "r[books]" in (out / "params.csv").read_text()


def test_spec_errors_name_the_key(runs_csv, write_spec):
    bad = SPEC.format(csv=runs_csv)
    with pytest.raises(SpecError, match=r"tasks\[1\]\.max_epochs: expected a number > 0, got -1"):
        sl.load_spec(write_spec(bad.replace("max_epochs: 4", "max_epochs: -1")))
    with pytest.raises(SpecError, match=r"tasks\[1\]\.dataset: no dataset 'runz' \(did you mean "
                       r"'runs'\?\)"):
        sl.load_spec(write_spec(bad.replace("dataset: runs\n    target", "dataset: runz\n    target")))


def test_infeasible_budget_is_a_user_error(runs_csv, write_spec, tmp_path):
    spec = write_spec(SPEC.format(csv=runs_csv).replace("unique_tokens: {books: 5.0e+8}",
                                                        "unique_tokens: {web: 1.0e+9, code: 1.0e+9,"
                                                        " books: 1.0e+8, math: 1.0e+8, wiki: 1.0e+8,"
                                                        " news: 1.0e+8}"))
    with pytest.raises(ScalingLawsError, match="exceeds the available data times the maximum epochs"):
        sl.run(spec, out=False)


def test_unknown_domain_in_target_is_named(runs_csv, write_spec):
    spec = write_spec(SPEC.format(csv=runs_csv).replace("{web: 0.4, code: 0.3, math: 0.3}",
                                                        "{web: 0.5, cod: 1}"))
    with pytest.raises(ScalingLawsError, match="domain 'cod' \\(did you mean 'code'\\?\\)"):
        sl.run(spec, out=False)
