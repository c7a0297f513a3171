"""The glob source on run folders like experiment trackers write: one row or many per file."""

import pytest
from source_helpers import jsonl, make_ctx, write

from scalinglaws import DataError
from scalinglaws.data.glob_source import GlobSource

FIELDS = {"N": "config.model.n_params", "loss": "summary.val.loss"}


def summary(n, loss):
    return {"config": {"model": {"n_params": n}}, "summary": {"val": {"loss": loss}}}


def load(tmp_path, **options):
    return GlobSource(**options).load(make_ctx(tmp_path))


def test_one_row_per_json_file_with_the_file_column(tmp_path):
    for run, (n, loss) in {"b": (2e8, 2.9), "a": (1e8, 3.1), "c": (4e8, 2.7)}.items():
        write(tmp_path, f"runs/{run}/summary.json", summary(n, loss))
    table = load(tmp_path, pattern="runs/*/summary.json", fields=FIELDS)
    assert table.names == ["N", "loss", "file"]
    assert list(table["file"]) == ["runs/a/summary.json", "runs/b/summary.json", "runs/c/summary.json"]
    assert list(table["loss"]) == [3.1, 2.9, 2.7]


def test_many_rows_per_file_from_jsonl_csv_and_json_lists(tmp_path):
    write(tmp_path, "logs/x/metrics.jsonl", jsonl({"N": 1, "loss": 3.0}, {"N": 2, "loss": 2.5}))
    write(tmp_path, "logs/y/metrics.csv", "N,loss\n3,2.0\n4,1.5\n")
    write(tmp_path, "logs/z/metrics.json", [{"N": 5, "loss": 1.2}])
    table = load(tmp_path, pattern="logs/**/metrics.*", file_column="source_file")
    assert list(table["N"]) == [1, 2, 3, 4, 5]
    assert list(table["source_file"]) == ["logs/x/metrics.jsonl"] * 2 + ["logs/y/metrics.csv"] * 2 + [
        "logs/z/metrics.json"]


def test_records_path_and_no_file_column(tmp_path):
    write(tmp_path, "a.json", {"runs": [{"loss": 1.0}, {"loss": 2.0}]})
    table = load(tmp_path, pattern="*.json", records="runs", file_column="")
    assert table.names == ["loss"] and len(table) == 2


def test_missing_dotted_field_names_the_file(tmp_path):
    write(tmp_path, "runs/a/summary.json", summary(1e8, 3.1))
    broken = summary(2e8, 2.9)
    del broken["summary"]["val"]
    write(tmp_path, "runs/b/summary.json", broken)
    with pytest.raises(DataError) as info:
        load(tmp_path, pattern="runs/*/summary.json", fields=FIELDS)
    assert str(info.value) == (
        "runs/b/summary.json, column 'loss': no 'summary.val.loss' in the record (the object at "
        "'summary' is empty). Add the value, or skip such records with `on_missing: skip`")
    table = load(tmp_path, pattern="runs/*/summary.json", fields=FIELDS, on_missing="skip")
    assert list(table["file"]) == ["runs/a/summary.json"]


def test_files_with_different_keys_name_the_odd_file(tmp_path):
    write(tmp_path, "runs/a.json", {"N": 1, "loss": 3.0})
    write(tmp_path, "runs/b.json", {"N": 2, "loss": 2.0, "lr": 0.1})
    with pytest.raises(DataError, match=r"runs/b.json, column 'lr': has 'lr', which the first record "
                                        r"\(runs/a.json\) does not"):
        load(tmp_path, pattern="runs/*.json")


def test_non_numeric_cell_in_one_file_names_file_row_and_column(tmp_path):
    write(tmp_path, "runs/a.csv", "N,loss\n1,3.0\n2,2.5\n")
    write(tmp_path, "runs/b.csv", "N,loss\n3,2.0\n4,oops\n")
    with pytest.raises(DataError, match=r"runs/\*.csv, column 'loss': mixes numbers \(runs/a.csv row "
                                        r"1: 3.0\) and text \(runs/b.csv row 2: 'oops'\)"):
        load(tmp_path, pattern="runs/*.csv")


@pytest.mark.parametrize("files, pattern, message", [
    ({}, "runs/*/summary.json", r"runs/\*/summary.json: no file matches the pattern \(searched from "),
    ({"runs/a/x.json": {}}, "runs/*", r"runs/\*: matches only folders \(e.g. runs/a\); end the pattern "
                                      r"with a file name"),
    ({"runs/a.txt": "N loss\n"}, "runs/*", r"runs/a.txt: cannot tell the format from the file name; "
                                           r"set `format:`"),
    ({"runs/a.csv": "N,,loss\n1,2,3\n"}, "runs/*.csv", r"runs/a.csv row 0: header cell 2 is empty"),
    ({"runs/a.csv": ""}, "runs/*.csv", r"runs/a.csv: the file is empty"),
    ({"runs/a.jsonl": '{"N": 1}\n{"N": \n'}, "runs/*.jsonl", r"runs/a.jsonl line 2: not valid JSON"),
    ({"runs/a.jsonl": "\n"}, "runs/*.jsonl", r"runs/\*.jsonl: the matched files hold no records"),
])
def test_malformed_inputs(tmp_path, files, pattern, message):
    for name, content in files.items():
        write(tmp_path, name, content)
    with pytest.raises(DataError, match=message):
        load(tmp_path, pattern=pattern)


def test_explicit_format_overrides_the_suffix(tmp_path):
    write(tmp_path, "runs/a.log", jsonl({"loss": 1.0}))
    assert len(load(tmp_path, pattern="runs/*.log", format="jsonl")) == 1


def test_file_column_may_not_clash_with_a_field(tmp_path):
    write(tmp_path, "a.json", {"file": "x", "loss": 1.0})
    with pytest.raises(DataError, match=r"a.json, column 'file': the record already has a column 'file'"):
        load(tmp_path, pattern="*.json")
