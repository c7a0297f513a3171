"""The new sources as a spec uses them: registered, validated at their lines, loaded and fitted."""

import json
import textwrap
from pathlib import Path

import pytest
from source_helpers import jsonl, write

import scalinglaws as sl
from scalinglaws import SpecError
from scalinglaws.plugins import build_registry
from scalinglaws.runner import RunContext


@pytest.fixture(scope="module")
def registry():
    return build_registry(entry_points=False)


def spec_file(tmp_path, datasets: str):
    text = "version: 1\ndatasets:\n" + textwrap.indent(textwrap.dedent(datasets).strip("\n"), "  ") + (
        "\ntasks:\n  - {kind: fit, dataset: runs, law: power_law}\n")
    return write(tmp_path, "spec.yaml", text)


def test_all_sources_are_registered(registry):
    assert {"csv", "glob", "inline", "json", "jsonl", "parquet", "simulate", "url"} <= set(registry.sources)


def test_each_file_source_loads_through_a_spec(tmp_path, registry):
    write(tmp_path, "data/runs.jsonl",
          jsonl({"C": 1e18, "eval": {"loss": 3.0}}, {"C": 1e19, "eval": {"loss": 2.6}}))
    write(tmp_path, "data/runs.json", {"runs": [{"C": 1e18, "loss": 3.0}]})
    write(tmp_path, "data/runs/a/summary.json", {"C": 1e18, "loss": 3.0})
    path = spec_file(tmp_path, """
        runs:
          source: jsonl
          path: data/runs.jsonl
          fields: {C: C, loss: eval.loss}
        listed:
          source: json
          path: data/runs.json
          records: runs
        folders:
          source: glob
          pattern: data/runs/*/summary.json
    """)
    spec = sl.load_spec(path, registry)
    ctx = RunContext(spec=spec, registry=registry)
    assert list(ctx.table("runs")["loss"]) == [3.0, 2.6]
    assert len(ctx.table("listed")) == 1
    assert list(ctx.table("folders")["file"]) == ["data/runs/a/summary.json"]


def test_bad_options_are_reported_at_their_lines(tmp_path, registry):
    path = spec_file(tmp_path, """
        runs:
          source: jsonl
          path: runs.jsonl
          on_missing: ignore
          fields: {loss: metrics..loss}
        remote:
          source: url
          url: ftp://example.org/runs.csv
          timeout: -1
        export:
          source: url
          url: https://example.org/export?id=3
    """)
    with pytest.raises(SpecError) as info:
        sl.load_spec(path, registry)
    assert sorted(str(info.value).splitlines()) == sorted([
        f"{path}:6:17: datasets.runs.on_missing: expected one of error, skip, got 'ignore'",
        f"{path}:7:13: datasets.runs.fields: column 'loss': expected a dotted path like "
        "`metrics.val.loss`, got 'metrics..loss'",
        f"{path}:10:10: datasets.remote.url: expected an http:// or https:// address, got "
        "'ftp://example.org/runs.csv'",
        f"{path}:11:14: datasets.remote.timeout: expected a number > 0, got -1.0",
        f"{path}:14:10: datasets.export.url: cannot tell the format from the URL; add `format: csv`, "
        "`jsonl` or `json`",
    ])


def test_a_fit_on_jsonl_runs_end_to_end(tmp_path, registry):
    # Kaplan-like compute scaling, L = 1.7 + 40 C^-0.1, logged by a tracker one run per line.
    runs = [{"run": i, "flops": c, "eval": {"loss": 1.7 + 40 * c ** -0.1}}
            for i, c in enumerate([1e17, 3e17, 1e18, 3e18, 1e19, 3e19, 1e20, 3e20])]
    write(tmp_path, "runs.jsonl", "".join(json.dumps(r) + "\n" for r in runs))
    path = write(tmp_path, "spec.yaml", """
        version: 1
        datasets:
          runs:
            source: jsonl
            path: runs.jsonl
            fields: {C: flops, loss: eval.loss}
        tasks:
          - {kind: fit, dataset: runs, law: {family: power_law, inputs: {x: C}}}
    """)
    result = sl.run(sl.load_spec(path, registry), out=False, registry=registry)
    params = result.tasks[0].fit.params
    assert params["E"] == pytest.approx(1.7, rel=1e-4) and params["alpha"] == pytest.approx(0.1, rel=1e-4)


def test_every_builtin_source_has_a_section_in_the_docs(registry):
    page = (Path(__file__).resolve().parents[2] / "docs" / "data-sources.md").read_text(encoding="utf-8")
    headings = [line for line in page.splitlines() if line.startswith("## ")]
    builtin = [name for name, reg in registry.sources.items() if reg.distribution == "scalinglaws"]
    missing = [name for name in builtin if not any(f"`{name}`" in h for h in headings)]
    assert not missing, f"docs/data-sources.md has no section for: {', '.join(missing)}"
