"""The json source on real files: a list of runs, a list at a dotted path, one run, malformed files."""

import pytest
from source_helpers import make_ctx, write

from scalinglaws import DataError
from scalinglaws.data.json_source import JsonSource

RUNS = [{"N": 1e8, "eval": {"loss": 3.1}}, {"N": 2e8, "eval": {"loss": 2.9}}]


def load(tmp_path, content, **options):
    write(tmp_path, "runs.json", content)
    return JsonSource(path="runs.json", **options).load(make_ctx(tmp_path))


def test_a_list_of_runs(tmp_path):
    table = load(tmp_path, RUNS)
    assert table.names == ["N", "eval.loss"] and list(table["eval.loss"]) == [3.1, 2.9]


def test_the_list_at_a_dotted_path_with_fields(tmp_path):
    table = load(tmp_path, {"meta": {}, "data": {"runs": RUNS}}, records="data.runs",
                 fields={"N": "N", "loss": "eval.loss"})
    assert table.names == ["N", "loss"] and list(table["loss"]) == [3.1, 2.9]


def test_one_object_is_one_run(tmp_path):
    assert len(load(tmp_path, {"N": 1e8, "loss": 3.0})) == 1


def test_forgotten_records_path_is_pointed_out(tmp_path):
    with pytest.raises(DataError, match=r"runs.json, column 'data.runs': holds a list of objects.*"
                                        r"point `records:` at the list"):
        load(tmp_path, {"data": {"runs": RUNS}})


def test_missing_dotted_field_names_the_row(tmp_path):
    runs = RUNS + [{"N": 4e8, "eval": {}}]
    with pytest.raises(DataError, match=r"^runs.json row 3, column 'loss': no 'eval.loss' in the "
                                        r"record \(the object at 'eval' is empty\)\. Add the value"):
        load(tmp_path, runs, fields={"loss": "eval.loss"})


@pytest.mark.parametrize("content, options, message", [
    ("", {}, "runs.json: the file is empty; it needs a JSON list of runs or one run"),
    ('[{"N": 1}, {"N": 2}\n', {}, r"runs.json line 2: not valid JSON: Expecting ',' delimiter "
                                  r"\(column 1\)\. The document ends before it is complete: was the "
                                  r"file cut off while being written\? Fix the file$"),
    ('[\n{"N": 1},\n{"N": 2,}\n]', {}, r"runs.json line 3: not valid JSON: Expecting property name "
                                      r"enclosed in double quotes \(column 9\)\. Fix the file$"),
    ([], {}, "runs.json: the list of runs is empty"),
    ({"data": 5}, {"records": "data"}, r"runs.json: expected a list of runs or one run \(an object\) "
                                       r"at 'data', got 5"),
    ({"data": []}, {"records": "data.runs"}, r"runs.json: no 'data.runs' in the document \(the list at "
                                             r"'data' has 0 items\); check `records:`"),
    ([1, 2], {}, r"runs.json row 1: expected a JSON object \(one run\), got the number 1"),
])
def test_malformed_files(tmp_path, content, options, message):
    with pytest.raises(DataError, match=message):
        load(tmp_path, content, **options)


def test_non_numeric_cell_is_reported_with_row_and_column(tmp_path):
    with pytest.raises(DataError, match=r"runs.json, column 'N': mixes numbers \(runs.json row 1: "
                                        r"'1e8'\) and text \(runs.json row 2: 'big'\)"):
        load(tmp_path, [{"N": "1e8", "loss": 3.0}, {"N": "big", "loss": 2.0}])
    table = load(tmp_path, [{"N": "small"}, {"N": "big"}])  # all text: refused only when used
    with pytest.raises(DataError, match=r"runs.json row 1, column 'N': 'small' is not a number"):
        table.numeric("N")
