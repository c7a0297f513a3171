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
      again: {{dataset: runs}}
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
    compare: {{half: {{code: 0.5, web: 0.5}}}}
"""


def assert_rerenders(out):
    """`scalinglaws report OUT` rewrites report.md from results.json alone, word for word: the
    held-out sets in the spec's order, proportions in the sources' order (results.json sorts its
    keys); the figures, which need the fitted law, stay those of the run."""
    from scalinglaws.plugins import get_registry
    from scalinglaws.report.replay import rerender

    before = (out / "report.md").read_text()
    figures = {p.name: p.read_bytes() for p in out.glob("*.png")}
    assert "report.md" in rerender(out, get_registry())
    assert (out / "report.md").read_text() == before
    assert {p.name: p.read_bytes() for p in out.glob("*.png")} == figures


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
    assert "| rho `same` | rho `again` |" in report and "| half | " in report
    assert "web 0.5, code 0.5 |" in report  # a reference mixture in the order of the sources
    assert_rerenders(out)


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


ACQUIRE = """
version: 1
seed: 0
datasets:
  runs: {{source: csv, path: {csv}}}
tasks:
  - name: buy
    kind: optimise_mixture
    dataset: runs
    target: {{expression: "logsumexp(loss_web, loss_code) + 0.5 * math"}}
    budget: 1.0e+10
    unique_tokens: {{books: 5.0e+8}}
    cost_per_token: {{code: 2.0e-9, books: 1.0e-9, math: 3.0e-9}}
    spend: 4
    n_starts: 64
    frontier: {{budgets: [1.0e+9, 1.0e+10, 1.0e+11]}}
    evaluate:
      same: {{dataset: runs}}
"""


def test_spend_limit_formula_target_and_frontier_from_a_spec(runs_csv, write_spec, tmp_path):
    out = tmp_path / "out"
    sl.run(write_spec(ACQUIRE.format(csv=runs_csv)), out=out)
    (buy,) = json.loads((out / "results.json").read_text())["tasks"]
    opt = buy["optimum"]
    assert opt["target_expression"] == "logsumexp(loss_web, loss_code) + 0.5 * math"
    spending = opt["spending"]
    assert spending["limit"] == 4 and spending["spent"] <= 4 * (1 + 1e-12)
    assert spending["binds"] and spending["value_of_money"] > 0
    assert opt["kkt_violation"] < 1e-8
    assert [row["budget"] for row in buy["frontier"]] == [1e9, 1e10, 1e11]
    assert buy["frontier"][1]["objective"] == pytest.approx(opt["objective"], rel=1e-9)
    report = (out / "report.md").read_text()
    assert "Spending: 4 of 4 (binding" in report and "#### Frontier" in report
    for name in ("mixture_buy.png", "mixture_buy_surface.png", "mixture_buy_frontier.png",
                 "mixture_fit_buy.png"):
        assert (out / name).stat().st_size > 1000, name
    assert_rerenders(out)


def test_spec_errors_of_the_new_keys_name_the_key_and_token(runs_csv, write_spec):
    spec = ACQUIRE.format(csv=runs_csv)
    with pytest.raises(SpecError) as err:
        sl.load_spec(write_spec(spec.replace("logsumexp(loss_web, loss_code)",
                                             "logsumexp(loss_web, loss_code) ^ 2")))
    assert "tasks[0].target.expression" in str(err.value) and "write powers as **" in str(err.value)
    with pytest.raises(SpecError, match=r"tasks\[0\]\.spend: a spending limit needs both"):
        sl.load_spec(write_spec(spec.replace("    spend: 4\n", "")))
    with pytest.raises(SpecError, match=r"tasks\[0\]\.frontier: give either `budgets` or"):
        sl.load_spec(write_spec(spec.replace("{budgets: [1.0e+9, 1.0e+10, 1.0e+11]}",
                                             "{budgets: [1.0e+9], low: 1.0e+9}")))
    with pytest.raises(SpecError, match=r"tasks\[0\]\.target: the weight of domain 'web' must be"):
        sl.load_spec(write_spec(spec.replace(
            '{expression: "logsumexp(loss_web, loss_code) + 0.5 * math"}', "{web: -1}")))


def test_unknown_name_in_target_formula_and_unaffordable_spend(runs_csv, write_spec):
    spec = ACQUIRE.format(csv=runs_csv)
    with pytest.raises(ScalingLawsError, match=r"target\.expression: 'loss_wbe' is not a validation "
                       r"domain \(did you mean 'loss_web'\?\)"):
        sl.run(write_spec(spec.replace("logsumexp(loss_web", "logsumexp(loss_wbe")), out=False)
    with pytest.raises(ScalingLawsError, match=r"cheapest mixture within the bounds costs 12 .*"
                       r"spend = 1"):
        sl.run(write_spec(spec.replace("    spend: 4\n", "    spend: 1\n    lower: {math: 0.4}\n")),
               out=False)
