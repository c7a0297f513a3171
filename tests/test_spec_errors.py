"""Bad specs give one clear line per problem, naming file:line:col and the key path."""

import pytest

from scalinglaws import load_spec
from scalinglaws.errors import SpecError

GOOD = """\
version: 1
datasets:
  sim:
    source: simulate
    law: power_law
    truth: {E: 1.5, A: 20.0, alpha: 0.3}
    design:
      x: [1.0e+6, 1.0e+7, 1.0e+8, 1.0e+9, 1.0e+10]
tasks:
  - kind: fit
    dataset: sim
    law: power_law
"""


def problems(write_spec, text):
    path = write_spec(text)
    with pytest.raises(SpecError) as info:
        load_spec(path)
    return [str(p) for p in info.value.problems], path


def test_good_spec_loads(write_spec):
    spec = load_spec(write_spec(GOOD))
    assert spec.tasks[0].name == "fit"
    assert spec.datasets["sim"].options.truth["alpha"] == 0.3
    assert len(spec.digest) == 64


def test_malformed_yaml_names_line_and_column(write_spec):
    lines, path = problems(write_spec, "version: 1\ntasks: [\n  - kind: fit\n")
    assert len(lines) == 1
    assert lines[0].startswith(f"{path}:")
    assert "invalid YAML" in lines[0]


def test_wrong_type_names_path_and_position(write_spec):
    text = GOOD.replace("tasks:\n  - kind: fit",
                        "tasks:\n  - kind: fit\n    estimator: {delta: -1, max_iter: lots}")
    lines, path = problems(write_spec, text)
    assert f"{path}:11:24: tasks[0].estimator.delta: expected a number > 0, got -1.0" in lines
    assert any("tasks[0].estimator.max_iter: expected a whole number, got 'lots'" in x for x in lines)


def test_unknown_key_suggests_the_closest(write_spec):
    lines, _ = problems(write_spec, GOOD.replace("    dataset: sim", "    datset: sim"))
    assert any("tasks[0].datset: unknown key 'datset' (did you mean 'dataset'?)" in x for x in lines)


def test_unknown_top_level_key(write_spec):
    lines, path = problems(write_spec, GOOD + "outptu: {dir: x}\n")
    assert any(x.startswith(f"{path}:13:1: outptu: unknown key 'outptu' (did you mean 'output'?)")
               for x in lines)


def test_unknown_law_lists_registered(write_spec):
    lines, _ = problems(write_spec, GOOD.replace("    law: power_law\n", "    law: chinchila\n"))
    assert any("tasks[0].law.family: unknown law 'chinchila' (did you mean 'chinchilla'?)" in x
               for x in lines)


def test_all_problems_reported_at_once(write_spec):
    text = (GOOD.replace("version: 1", "version: 2")
            .replace("source: simulate", "source: simulat")
            .replace("    dataset: sim", "    dataset: other"))
    lines, _ = problems(write_spec, text)
    joined = "\n".join(lines)
    assert "version: expected 1, got 2" in joined
    assert "unknown data source 'simulat' (did you mean 'simulate'?)" in joined
    assert "no dataset 'other'" in joined


def test_duplicate_keys_are_errors(write_spec):
    lines, _ = problems(write_spec, GOOD + "seed: 1\nseed: 2\n")
    assert any("duplicate key 'seed'" in x for x in lines)


def test_simulate_truth_must_match_law(write_spec):
    lines, _ = problems(write_spec, GOOD.replace("A: 20.0, ", ""))
    assert any("datasets.sim.truth: missing true values for A" in x for x in lines)


def test_fixed_parameter_must_exist(write_spec):
    text = GOOD.replace("    law: power_law\n", "    law: {family: power_law, fixed: {gamma: 1}}\n")
    lines, _ = problems(write_spec, text)
    assert any("tasks[0].law.fixed.gamma: law 'power_law' has no parameter 'gamma'" in x for x in lines)


def test_empty_spec(write_spec):
    lines, _ = problems(write_spec, "# nothing\n")
    assert "the spec is empty" in lines[0]


def test_missing_file():
    with pytest.raises(SpecError, match="no such spec file"):
        load_spec("does/not/exist.yaml")


def test_yaml_tags_are_not_executed(write_spec):
    lines, _ = problems(write_spec, "version: !!python/object/apply:os.system ['echo hi']\n")
    assert "invalid YAML" in lines[0]


def test_dataset_with_problems_is_still_declared(write_spec):
    text = GOOD.replace("    law: power_law\n    truth", "    lw: power_law\n    truth", 1)
    lines, _ = problems(write_spec, text)
    assert any("datasets.sim.lw: unknown key 'lw' (did you mean 'law'?)" in x for x in lines)
    assert not any("no dataset" in x for x in lines)


def test_unknown_loss_and_loss_parameters(write_spec):
    def with_estimator(est):
        return GOOD.replace("tasks:\n  - kind: fit", f"tasks:\n  - kind: fit\n    estimator: {est}")

    lines, _ = problems(write_spec, with_estimator("{loss: hubr}"))
    assert any("tasks[0].estimator.loss: expected one of huber, squared" in x
               and "got 'hubr' (did you mean 'huber'?)" in x for x in lines)
    lines, _ = problems(write_spec, with_estimator("{loss: huber, loss_args: {k: 2}}"))
    assert any("tasks[0].estimator.loss_args: loss 'huber' has no parameter 'k'; it takes none" in x
               for x in lines)
