"""Mixture laws through the plugin host: the built-ins listed and described, a plugin's law (the
code of docs/plugins.md, run as written) fitted and optimised from a spec."""

import json
import re

import numpy as np
import pytest
from click.testing import CliRunner

import scalinglaws as sl
from conftest import REPO
from scalinglaws import plugins
from scalinglaws.cli import _describe_kind, cli
from scalinglaws.errors import SpecError

SOURCES = ["web", "code", "books", "math", "wiki", "news"]  # the shapes of the other mixture tests
DOMAINS = ["web", "code", "math"]


@pytest.fixture
def runs_csv(tmp_path):
    rng = np.random.default_rng(0)
    r = rng.dirichlet(np.ones(6), 60)
    w = rng.normal(0.0, 1.0, (3, 6))
    loss = np.exp(r @ w.T) * np.exp(0.01 * rng.normal(size=(60, 3)))
    path = tmp_path / "runs.csv"
    lines = [",".join([f"r_{s}" for s in SOURCES] + [f"loss_{d}" for d in DOMAINS])]
    lines += [",".join(f"{v:.8f}" for v in np.concatenate([a, b])) for a, b in zip(r, loss)]
    path.write_text("\n".join(lines) + "\n")
    return path


def docs_plugin():
    """The plugin of docs/plugins.md ("A mixture-law plugin"), executed as written."""
    page = (REPO / "docs" / "plugins.md").read_text()
    section = page[page.index("## A mixture-law plugin"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    namespace: dict = {"__name__": "docs_mixture_plugin"}
    exec(compile(code, "docs/plugins.md", "exec"), namespace)
    return namespace


def test_builtin_mixture_laws_register_through_the_hook():
    registry = plugins.build_registry(entry_points=False)
    assert registry.problems == []
    assert {"mixing_exp", "mixing_exp_repetition", "mixing_mlp"} <= set(registry.mixture_laws)
    assert registry.mixture_laws["mixing_exp"].plugin == "scalinglaws.builtin.mixture"
    assert "register_mixture_laws" in registry.plugins["scalinglaws.builtin.mixture"].hooks
    assert "mixing_exp" not in registry.laws  # not a law family: `fit` cannot use it


def test_list_laws_marks_mixture_laws_and_describe_explains_them():
    runner = CliRunner()
    listed = runner.invoke(cli, ["list", "laws"])
    assert listed.exit_code == 0
    line = next(ln for ln in listed.output.splitlines() if ln.startswith("mixing_exp "))
    assert "[mixture law, scalinglaws]" in line
    as_json = json.loads(runner.invoke(cli, ["list", "laws", "--json"]).output)
    kinds = {item["name"]: item["kind"] for item in as_json}
    assert kinds["mixing_mlp"] == "mixture law" and kinds["chinchilla"] == "law family"
    described = runner.invoke(cli, ["describe", "mixing_exp"])
    assert described.exit_code == 0
    assert "L_i(r) = c_i + k_i exp(sum_j t_ij r_j)" in described.output
    assert "[mixture law]" in described.output and "Ye et al. 2024" in described.output
    assert re.search(r"^\s+t\s+per domain and source", described.output, re.M)
    info = json.loads(runner.invoke(cli, ["describe", "mixing_exp_repetition", "--json"]).output)
    assert info["requires"] == ["unique_tokens", "budget_column"]
    bad = runner.invoke(cli, ["describe", "mixng_exp"])
    assert bad.exit_code == 2 and "did you mean 'mixing_exp'" in bad.output


def test_a_plugin_mixture_law_is_fitted_and_optimised_from_a_spec(runs_csv, write_spec, tmp_path):
    ns = docs_plugin()
    registry = plugins.build_registry(((ns["LogLinearPlugin"], "loglinear"),), entry_points=False)
    assert registry.problems == []
    assert registry.mixture_laws["mixing_loglinear"].plugin == "loglinear"
    listed = [item for item in _describe_kind("laws", registry)
              if item["name"] == "mixing_loglinear"]
    assert listed[0]["kind"] == "mixture law" and listed[0]["plugin"] == "loglinear"
    path = write_spec(f"""
        version: 1
        seed: 0
        datasets:
          runs: {{source: csv, path: {runs_csv}}}
        tasks:
          - {{name: law, kind: fit_mixture, dataset: runs, law: mixing_loglinear}}
          - name: choose
            kind: optimise_mixture
            dataset: runs
            law: mixing_loglinear
            target: {{web: 0.5, code: 0.5}}
            lower: {{web: 0.1}}
            n_starts: 32
    """)
    result = sl.run(sl.load_spec(path, registry), out=tmp_path / "out", registry=registry)
    res = json.loads((tmp_path / "out" / "results.json").read_text())
    fit, choose = res["tasks"]
    assert fit["law"] == "mixing_loglinear" and fit["formula"] == "L_i(r) = exp(sum_j w_ij r_j)"
    fitted = result.tasks[0].fitted
    data = np.loadtxt(runs_csv, delimiter=",", skiprows=1)
    r = data[:, :6] / data[:, :6].sum(axis=1, keepdims=True)  # as the task reads them
    w, *_ = np.linalg.lstsq(r, np.log(data[:, 6:]), rcond=None)
    np.testing.assert_allclose(fitted.params["w"], w.T, rtol=1e-10)
    assert fit["params"][0]["w"] == pytest.approx(list(w[:, 0]), rel=1e-10)
    # The task's optimum is the public optimiser's on the plugin law's fitted parameters.
    direct = sl.optimise_mixture(ns["predict"], fitted.params, weights=[0.5, 0.5, 0.0],
                                 lower=[0.1, 0, 0, 0, 0, 0], sources=SOURCES, n_starts=32)
    got = np.array([choose["optimum"]["proportions"][s] for s in SOURCES])
    np.testing.assert_allclose(got, direct.proportions, atol=1e-12)
    assert direct.kkt_violation < 1e-8
    assert "w[web,0]" in (tmp_path / "out" / "params.csv").read_text()
    # The public API takes the law object too.
    again = sl.fit_mixture(r, data[:, 6:], sources=SOURCES, domains=DOMAINS,
                           law=ns["LOG_LINEAR"])
    np.testing.assert_allclose(again.params["w"], w.T, rtol=1e-10)


def test_unknown_or_incomplete_mixture_law_is_a_spec_error(runs_csv, write_spec):
    spec = f"""
        version: 1
        datasets:
          runs: {{source: csv, path: {runs_csv}}}
        tasks:
          - {{kind: fit_mixture, dataset: runs, law: LAW}}
    """
    with pytest.raises(SpecError, match=r"tasks\[0\]\.law: unknown mixture law 'mixng_exp' \(did "
                       r"you mean 'mixing_exp'\?\); registered: mixing_exp, "):
        sl.load_spec(write_spec(spec.replace("LAW", "mixng_exp")))
    with pytest.raises(SpecError, match=r"tasks\[0\]\.budget_column: `mixing_exp_repetition` "
                       r"needs `budget_column`") as err:
        sl.load_spec(write_spec(spec.replace("LAW", "mixing_exp_repetition")))
    assert "tasks[0].unique_tokens: `mixing_exp_repetition` needs `unique_tokens`" in str(err.value)


def test_a_mixture_law_that_is_not_one_is_refused():
    from scalinglaws.hookspecs import hookimpl

    class Wrong:
        @hookimpl
        def register_mixture_laws(register):
            register(sl.get_law("power_law"))

    registry = plugins.build_registry(((Wrong, "wrong"),), entry_points=False)
    assert any("'wrong'" in p and "expected a MixtureLaw" in p for p in registry.problems)
    assert "power_law" not in registry.mixture_laws
