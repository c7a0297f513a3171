"""The plugin host: in-process and entry-point plugins, failures reported by name."""

import sys
import textwrap
from importlib import metadata

import jax.numpy as jnp
import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws import plugins
from scalinglaws.hookspecs import hookimpl
from scalinglaws.laws import LawFamily, Parameter


def _log_predict(theta, z):
    # L = E + A exp(-k x): a toy saturating law, fitted as log L = LSE(e, a - k x)
    return jnp.logaddexp(theta[0], theta[1] - theta[2] * z[:, 0])


TOY = LawFamily(
    name="toy_exp", formula="L = E + A exp(-k x)", reference="(test)", inputs=("x",),
    parameters=(Parameter(name="E", transform="log", init=(0.0, 0.5)),
                Parameter(name="A", transform="log", init=(0.0, 1.0, 2.0)),
                Parameter(name="k", init=(0.1, 0.5, 1.0))),
    log_predict=_log_predict, positive_inputs=False,
)


class ToyPlugin:
    @hookimpl
    def register_laws(self, register):
        register(TOY)


def test_builtins_register_through_hooks():
    registry = plugins.build_registry(entry_points=False)
    assert {"chinchilla", "power_law"} <= set(registry.laws)
    assert registry.laws["chinchilla"].plugin == "scalinglaws.builtin.laws"
    assert "register_laws" in registry.plugins["scalinglaws.builtin.laws"].hooks
    assert registry.problems == []


def test_in_process_plugin_law_used_by_a_spec(write_spec, tmp_path):
    registry = plugins.build_registry((( ToyPlugin(), "toy"),), entry_points=False)
    path = write_spec("""
        version: 1
        datasets:
          sim:
            source: simulate
            law: toy_exp
            truth: {E: 1.5, A: 3.0, k: 0.4}
            design: {x: [0, 1, 2, 3, 4, 5, 6, 8, 10, 12]}
        tasks:
          - {kind: fit, dataset: sim, law: toy_exp}
    """)
    result = sl.run(sl.load_spec(path, registry), out=tmp_path / "out", registry=registry)
    assert result.tasks[0].fit.params["k"] == pytest.approx(0.4, rel=1e-6)
    assert (tmp_path / "out" / "results.json").exists()


def test_duplicate_name_is_reported_and_first_kept():
    class Dup:
        @hookimpl
        def register_laws(self, register):
            from scalinglaws.laws.power_law import power_law

            register(power_law)

    registry = plugins.build_registry(((Dup(), "dup"),), entry_points=False)
    assert registry.laws["power_law"].plugin == "scalinglaws.builtin.laws"
    assert any("'dup'" in p and "already registered" in p for p in registry.problems)


def test_plugin_that_raises_is_skipped_others_work():
    class Broken:
        @hookimpl
        def register_laws(self, register):
            raise RuntimeError("boom")

    registry = plugins.build_registry(((Broken(), "broken"), (ToyPlugin(), "toy")), entry_points=False)
    assert "toy_exp" in registry.laws and "chinchilla" in registry.laws
    assert any("'broken'" in p and "boom" in p for p in registry.problems)


def test_unknown_hook_is_reported_by_check_pending():
    class Typo:
        @hookimpl
        def register_lawz(self, register):
            pass

    registry = plugins.build_registry(((Typo(), "typo"),), entry_points=False)
    assert any("'typo'" in p and "register_lawz" in p for p in registry.problems)
    assert "chinchilla" in registry.laws


def test_wrong_object_is_rejected():
    class Wrong:
        @hookimpl
        def register_data_sources(self, register):
            register("nope", object)

    registry = plugins.build_registry(((Wrong(), "wrong"),), entry_points=False)
    assert "nope" not in registry.sources
    assert any("must be an attrs class" in p for p in registry.problems)


@pytest.fixture
def fake_entry_points(tmp_path, monkeypatch):
    """Two entry-point plugins: one that works, one that fails to import."""
    (tmp_path / "good_sl_plugin.py").write_text(textwrap.dedent("""
        from scalinglaws.hookspecs import hookimpl
        from test_plugins import TOY

        @hookimpl
        def register_laws(register):
            register(TOY)
    """))
    (tmp_path / "bad_sl_plugin.py").write_text("raise ImportError('missing dependency xyz')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    eps = [metadata.EntryPoint("good", "good_sl_plugin", plugins.GROUP),
           metadata.EntryPoint("bad", "bad_sl_plugin", plugins.GROUP)]
    monkeypatch.setattr(plugins.metadata, "entry_points", lambda group: eps if group == plugins.GROUP else [])
    yield
    for name in ("good_sl_plugin", "bad_sl_plugin"):
        sys.modules.pop(name, None)


def test_entry_points_load_and_failures_are_reported(fake_entry_points, monkeypatch):
    monkeypatch.delenv("SCALINGLAWS_LOAD_PLUGINS", raising=False)
    registry = plugins.build_registry()
    assert "toy_exp" in registry.laws
    assert any("'bad'" in p and "failed to import" in p and "xyz" in p for p in registry.problems)


def test_load_plugins_allow_list(fake_entry_points, monkeypatch):
    monkeypatch.setenv("SCALINGLAWS_LOAD_PLUGINS", "")
    registry = plugins.build_registry()
    assert "toy_exp" not in registry.laws and registry.problems == []
    monkeypatch.setenv("SCALINGLAWS_LOAD_PLUGINS", "good")
    assert "toy_exp" in plugins.build_registry().laws


def test_trace_plugins_prints_hook_calls(monkeypatch, capsys):
    monkeypatch.setenv("SCALINGLAWS_TRACE_PLUGINS", "1")
    plugins.build_registry(entry_points=False)
    assert "register_laws" in capsys.readouterr().err


def test_law_predict_matches_numpy():
    x = np.array([0.0, 1.0, 5.0])
    got = TOY.predict({"E": 1.5, "A": 3.0, "k": 0.4}, {"x": x})
    np.testing.assert_allclose(got, 1.5 + 3.0 * np.exp(-0.4 * x), rtol=1e-12)


def test_plugin_with_misnamed_hook_argument_is_skipped():
    class BadSignature:
        @hookimpl
        def register_laws(self, regsiter):
            pass

    registry = plugins.build_registry(((BadSignature(), "badsig"),), entry_points=False)
    assert "chinchilla" in registry.laws
    assert any("'badsig'" in p and "cannot be registered" in p for p in registry.problems)


def _each_hook_plugin():
    """One in-process plugin that registers a valid object through every hook."""
    import attrs as _attrs

    @_attrs.frozen
    class Source:
        def load(self, ctx):
            return sl.Table.from_columns(x=[1.0, 2.0, 3.0, 4.0], loss=[4.0, 3.0, 2.5, 2.2])

    @_attrs.frozen
    class Estimator:
        def fit(self, family, x, y, *, weights=None, seed=0):
            raise NotImplementedError

    @_attrs.frozen
    class Task:
        def run(self, ctx, name):
            return None

    class EveryHook:
        @hookimpl
        def register_laws(self, register):
            register(TOY)

        @hookimpl
        def register_mixture_laws(self, register):
            from scalinglaws.mixture.laws import FittedMixture, MixtureLaw

            register(MixtureLaw(name="toy_mixture", formula="L_i = c_i", reference="(test)",
                                predict=lambda params, r, context: params["c"],
                                fit=lambda runs, options: FittedMixture(
                                    law=None, params={"c": runs.losses.mean(axis=0)},
                                    sources=runs.sources, domains=runs.domains)))

        @hookimpl
        def register_data_sources(self, register):
            register("toy_source", Source)

        @hookimpl
        def register_estimators(self, register):
            register("toy_estimator", Estimator)

        @hookimpl
        def register_tasks(self, register):
            register("toy_task", Task)

        @hookimpl
        def register_reporters(self, register):
            register("toy_reporter", lambda result, out: [])

    return EveryHook()


HOOK_CASES = [
    ("register_laws", "laws", "toy_exp"),
    ("register_mixture_laws", "mixture_laws", "toy_mixture"),
    ("register_data_sources", "sources", "toy_source"),
    ("register_estimators", "estimators", "toy_estimator"),
    ("register_tasks", "tasks", "toy_task"),
    ("register_reporters", "reporters", "toy_reporter"),
]


@pytest.mark.parametrize("hook, kind, name", HOOK_CASES)
def test_hook(hook, kind, name):
    """Every hookspec: a plugin's registration through it lands in the registry under its plugin."""
    from scalinglaws import hookspecs

    assert hasattr(hookspecs, hook)
    registry = plugins.build_registry(((_each_hook_plugin(), "every"),), entry_points=False)
    assert registry.problems == []
    assert getattr(registry, kind)[name].plugin == "every"
    assert hook in registry.plugins["every"].hooks


def test_every_hookspec_has_a_test():
    import inspect

    from scalinglaws import hookspecs

    specs = {n for n, f in inspect.getmembers(hookspecs, inspect.isfunction) if n.startswith("register_")}
    tested = {hook for hook, _, _ in HOOK_CASES}
    assert specs == tested, f"add a case to HOOK_CASES for {sorted(specs - tested)}"


# A task plugin's result: the TaskResult protocol ----------------------------------------------
def _count_plugin():
    """A task plugin whose result implements the TaskResult protocol and presents itself."""
    from typing import ClassVar

    import attrs as _attrs

    @_attrs.frozen(kw_only=True)
    class CountResult:
        name: str
        dataset: str
        n_runs: int
        kind: ClassVar[str] = "count_runs"

        def to_json(self):
            return {"name": self.name, "kind": self.kind, "dataset": self.dataset,
                    "n_runs": self.n_runs}

        def rows(self):
            return [{"task": self.name, "law": "-", "parameter": "n_runs",
                     "estimate": float(self.n_runs)}]

        @classmethod
        def from_json(cls, data, registry=None):
            return cls(name=data["name"], dataset=data["dataset"], n_runs=data["n_runs"])

        def markdown(self, images=frozenset()):
            image = f"runs_{self.name}.png"
            return ([f"## Task `{self.name}`: {self.n_runs} runs in `{self.dataset}`", ""]
                    + ([f"![runs]({image})", ""] if image in images else []))

        def figures(self):
            from scalinglaws.report.plots import _pyplot

            fig, ax = _pyplot().subplots()
            ax.bar([0], [self.n_runs])
            return {f"runs_{self.name}.png": fig}

    @_attrs.frozen(kw_only=True)
    class CountTask:
        dataset: str
        result_type: ClassVar[type] = CountResult

        def run(self, ctx, name):
            return CountResult(name=name, dataset=self.dataset, n_runs=len(ctx.table(self.dataset)))

    class CountPlugin:
        @hookimpl
        def register_tasks(self, register):
            register("count_runs", CountTask)

    return CountPlugin()


def test_plugin_task_result_is_written_and_rerendered(write_spec, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from scalinglaws.cli import cli
    from scalinglaws.results import TaskResult

    registry = plugins.build_registry(((_count_plugin(), "count"),), entry_points=False)
    path = write_spec("""
        version: 1
        datasets:
          sim:
            source: simulate
            law: power_law
            truth: {E: 1.5, A: 20.0, alpha: 0.3}
            design: {x: [1.0e+6, 1.0e+7, 1.0e+8, 1.0e+9, 1.0e+10]}
        tasks:
          - {kind: count_runs, name: count, dataset: sim}
    """)
    out = tmp_path / "out"
    result = sl.run(sl.load_spec(path, registry), out=out, registry=registry)
    assert isinstance(result.tasks[0], TaskResult)
    before = (out / "report.md").read_text()
    assert "## Task `count`: 5 runs in `sim`" in before and "![runs](runs_count.png)" in before
    assert "count,-,n_runs,5," in (out / "params.csv").read_text()
    (out / "report.md").unlink()
    (out / "runs_count.png").unlink()
    monkeypatch.setattr(plugins, "_REGISTRY", registry)  # what `scalinglaws report` looks kinds up in
    again = CliRunner().invoke(cli, ["report", str(out)])
    assert again.exit_code == 0, again.output
    assert (out / "runs_count.png").exists()

    def strip(text):  # results.json keeps the run time to the millisecond
        return [line for line in text.splitlines() if not line.startswith("- Run time")]

    assert strip((out / "report.md").read_text()) == strip(before)


def test_builtin_task_results_name_their_type():
    """Every built-in analysis task names a result type implementing TaskResult, by its kind."""
    from scalinglaws.report.replay import result_types

    types = result_types(plugins.build_registry(entry_points=False))
    assert {"fit", "predict", "allocate", "compare", "evaluate", "sensitivity"} <= set(types)
    for kind, cls in types.items():
        assert cls.kind == kind
        assert all(callable(getattr(cls, m, None)) for m in ("to_json", "rows", "from_json"))
