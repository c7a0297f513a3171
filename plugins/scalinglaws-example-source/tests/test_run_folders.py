"""The example source plugin on real run folders: reductions, malformed runs, registration, and
(once `pip install -e` has run) the installed entry point used by the CLI."""

import json
import math
import subprocess
import sys
import textwrap
import types
from importlib import metadata

import pytest
import scalinglaws as sl
from scalinglaws import DataError
from scalinglaws.plugins import build_registry
from scalinglaws.runner import RunContext

import scalinglaws_example_source
from scalinglaws_example_source import RunFolders

DISTRIBUTION = "scalinglaws-example-source"
# Four runs of a Chinchilla-like sweep: final validation loss follows 1.8 + 400 N^-0.34.
SIZES = {"n125m": 1.25e8, "n350m": 3.5e8, "n760m": 7.6e8, "n1300m": 1.3e9}


def final_loss(n):
    return 1.8 + 400 * n ** -0.34


def write_run(root, name, n, *, lines=None, config=None):
    folder = root / name
    folder.mkdir(parents=True)
    config = config if config is not None else {"model": {"n_params": n}, "data": {"tokens": 20 * n}}
    (folder / "config.json").write_text(json.dumps(config))
    if lines is None:  # train lines on every step, eval lines every other; the loss falls to final_loss
        lines = []
        for step in range(100, 1001, 100):
            lines.append({"step": step, "train": {"loss": final_loss(n) + 1000 / step}})
            if step % 200 == 0:
                lines.append({"step": step, "val": {"loss": final_loss(n) + 500 / step - 0.5}})
    (folder / "metrics.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    return folder


@pytest.fixture
def runs(tmp_path):
    for name, n in SIZES.items():
        write_run(tmp_path / "runs", name, n)
    return tmp_path


def load(base, **options):
    ctx = types.SimpleNamespace(base_dir=str(base), seed=0, registry=None, dataset="runs")
    options = {"root": "runs", "metric": "val.loss", "config": {"N": "model.n_params"}, **options}
    return RunFolders(**options).load(ctx)


def test_one_row_per_run_with_the_final_metric(runs):
    table = load(runs, config={"N": "model.n_params", "D": "data.tokens"})
    assert table.names == ["run", "N", "D", "loss"]
    assert list(table["run"]) == sorted(SIZES)
    for run, n, loss in zip(table["run"], table["N"], table["loss"], strict=True):
        assert n == SIZES[run] and loss == pytest.approx(final_loss(n))  # val at step 1000


def test_min_max_and_step_order(runs):
    write_run(runs / "runs", "n2700m", 2.7e9, lines=[
        {"step": 300, "val": {"loss": 2.0}}, {"step": 100, "val": {"loss": 3.0}},
        {"step": 200, "val": {"loss": float("nan")}}, {"step": 50, "val": {"loss": 2.5}}])

    def by_run(table):
        return dict(zip(table["run"], table["loss"], strict=True))

    assert by_run(load(runs))["n2700m"] == 2.0  # the largest step, though not the last line
    assert by_run(load(runs, reduce="min"))["n2700m"] == 2.0
    assert by_run(load(runs, reduce="max"))["n2700m"] == 3.0  # NaN (a diverged step) is passed over


def test_metric_key_with_slashes_is_matched_whole(tmp_path):
    write_run(tmp_path / "runs", "a", 1e8, lines=[{"_step": 1, "eval/loss": 3.0}])
    assert list(load(tmp_path, metric="eval/loss", step="_step")["loss"]) == [3.0]


def test_missing_files_name_the_run(runs):
    (runs / "runs" / "n350m" / "config.json").unlink()
    with pytest.raises(DataError, match=r"^runs/n350m/config.json: is missing; every run folder needs one"):
        load(runs)
    table = load(runs, incomplete="skip")
    assert "n350m" not in list(table["run"])
    assert table.notes[0].startswith("skipped 1 incomplete run(s) of runs (first: runs/n350m/config.json")


@pytest.mark.parametrize("lines, message", [
    ('{"step": 1, "val": {"loss": 3.0}}\n{"step": 2, "val": {"loss": 2.9\n',
     r"runs/bad/metrics.jsonl line 2: not valid JSON: Expecting ',' delimiter"),
    ('{"step": 1, "val": {"loss": "n/a"}}\n',
     r"runs/bad/metrics.jsonl line 1, column 'loss': 'val.loss' is 'n/a', not a number"),
    ('{"step": 1, "train": {"loss": 3.0}}\n',
     r"runs/bad/metrics.jsonl: no line logs 'val.loss' \(its lines have step, train.loss\)"),
    ("", r"runs/bad/metrics.jsonl: no line logs 'val.loss' \(it is empty\)"),
    ('[1]\n', r"runs/bad/metrics.jsonl line 1: expected a JSON object"),
])
def test_malformed_metrics_name_file_and_line(tmp_path, lines, message):
    folder = write_run(tmp_path / "runs", "bad", 1e8, lines=[])
    (folder / "metrics.jsonl").write_text(lines)
    with pytest.raises(DataError, match=message):
        load(tmp_path)


def test_malformed_config(tmp_path):
    write_run(tmp_path / "runs", "a", 1e8, config={"model": {}})
    with pytest.raises(DataError, match=r"runs/a/config.json, column 'N': no 'model.n_params' in the "
                                        r"record \(the object at 'model' is empty\)"):
        load(tmp_path)
    (tmp_path / "runs" / "a" / "config.json").write_text('{"model": \n')
    with pytest.raises(DataError, match=r"runs/a/config.json line 2: not valid JSON"):
        load(tmp_path)


def test_root_problems(tmp_path):
    with pytest.raises(DataError, match=r"runs: no such folder \(.*\); check `root`"):
        load(tmp_path)
    (tmp_path / "runs").mkdir()
    with pytest.raises(DataError, match="runs: holds no run folders"):
        load(tmp_path)


SPEC = """
    version: 1
    datasets:
      sweep:
        source: run_folders
        root: runs
        metric: val.loss
        config: {N: model.n_params}
    tasks:
      - kind: fit
        dataset: sweep
        law: {family: power_law, inputs: {x: N}}
"""


def test_registers_and_loads_through_a_spec(runs):
    registry = build_registry(extra_plugins=((scalinglaws_example_source, "run_folders"),),
                              entry_points=False)
    assert registry.problems == [] and registry.sources["run_folders"].obj is RunFolders
    (runs / "spec.yaml").write_text(textwrap.dedent(SPEC))
    spec = sl.load_spec(runs / "spec.yaml", registry)
    table = RunContext(spec=spec, registry=registry).table("sweep")
    assert len(table) == 4 and not any(math.isnan(v) for v in table["loss"])


def installed() -> bool:
    try:
        metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return False
    return True


needs_install = pytest.mark.skipif(not installed(), reason=(
    f"{DISTRIBUTION} is not installed; run `pip install -e plugins/{DISTRIBUTION}` first"))


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "scalinglaws.cli", *args], capture_output=True,
                          text=True, timeout=300, cwd=cwd)


@needs_install
def test_installed_source_is_listed_by_the_cli():
    out = cli("list", "sources")
    assert out.returncode == 0, out.stderr
    line = next(line for line in out.stdout.splitlines() if line.startswith("run_folders"))
    assert line.endswith(f"[{DISTRIBUTION}]")


@needs_install
def test_installed_source_is_usable_in_a_spec_from_the_cli(runs):
    (runs / "spec.yaml").write_text(textwrap.dedent(SPEC))
    out = cli("run", "spec.yaml", "--out", "out", "--json", cwd=runs)
    assert out.returncode == 0, out.stderr
    params = json.loads(out.stdout)["tasks"][0]["fit"]["params"]
    assert params["alpha"] == pytest.approx(0.34, rel=1e-3)
