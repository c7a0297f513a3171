"""Dotted paths and the record-to-table rules every JSON-based source shares."""

import math

import numpy as np
import pytest

from scalinglaws import DataError
from scalinglaws.data import dotted
from scalinglaws.data.records import RecordTable


def test_lookup_walks_objects_and_list_indices():
    record = {"metrics": {"val": {"loss": 2.5}}, "history": [{"loss": 3.0}, {"loss": 2.0}]}
    assert dotted.lookup(record, "metrics.val.loss") == 2.5
    assert dotted.lookup(record, "history.-1.loss") == 2.0
    assert dotted.lookup(record, "history.0.loss") == 3.0


def test_lookup_matches_a_dotted_top_level_key_whole():
    assert dotted.lookup({"val.loss": 1.5}, "val.loss") == 1.5


@pytest.mark.parametrize("path, message", [
    ("metrics.train.loss", "no 'metrics.train.loss' in the record (the object at 'metrics' has keys val)"),
    ("loss", "no 'loss' in the record (the object at the top level has keys metrics, history)"),
    ("history.5.loss", "the list at 'history' has 2 items"),
    ("metrics.val.loss.x", "the value at 'metrics.val.loss' is 2.5, not an object"),
])
def test_lookup_says_how_far_it_got(path, message):
    record = {"metrics": {"val": {"loss": 2.5}}, "history": [{}, {}]}
    with pytest.raises(dotted.PathNotFound) as info:
        dotted.lookup(record, path)
    assert message in str(info.value)


def test_flatten_joins_nested_keys_with_dots():
    assert dotted.flat_dict({"a": {"b": {"c": 1}}, "d": [1, 2], "e": {}}) == {
        "a.b.c": 1, "d": [1, 2], "e": {}}


def add_all(builder, records, source="f.jsonl"):
    for i, record in enumerate(records, start=1):
        builder.add(record, source, line=i)
    return builder.table(source)


def test_numbers_text_null_and_flags():
    table = add_all(RecordTable(), [
        {"N": 1, "loss": "2.5", "tag": "a", "ok": True, "lr": None},
        {"N": 2.0, "loss": 2.25, "tag": "b", "ok": False, "lr": 1e-3},
    ])
    assert table["N"].dtype == np.float64 and list(table["loss"]) == [2.5, 2.25]
    assert list(table["tag"]) == ["a", "b"] and list(table["ok"]) == ["true", "false"]
    assert math.isnan(table["lr"][0]) and table["lr"][1] == 1e-3


def test_column_mixing_numbers_and_text_names_both_places():
    builder = RecordTable()
    with pytest.raises(DataError) as info:
        add_all(builder, [{"loss": 3.0}, {"loss": 2.9}, {"loss": "diverged"}])
    message = str(info.value)
    assert message.startswith("f.jsonl, column 'loss': mixes numbers")
    assert "f.jsonl line 1: 3.0" in message and "f.jsonl line 3: 'diverged'" in message


def test_later_record_with_a_new_key_is_refused():
    with pytest.raises(DataError, match=r"f.jsonl line 2, column 'lr': has 'lr', which the first "
                                        r"record \(f.jsonl line 1\) does not"):
        add_all(RecordTable(), [{"loss": 3.0}, {"loss": 2.9, "lr": 0.1}])


def test_later_record_without_a_key_is_missing_or_skipped():
    records = [{"N": 1, "loss": 3.0}, {"N": 2}, {"N": 3, "loss": 2.0}]
    with pytest.raises(DataError, match=r"f.jsonl line 2, column 'loss': no 'loss', which the first "
                                        r"record \(f.jsonl line 1\) has\. Add the value, or skip"):
        add_all(RecordTable(), records)
    table = add_all(RecordTable(on_missing="skip"), records)
    assert list(table["N"]) == [1.0, 3.0]
    assert table.notes == ["skipped 1 record(s) of f.jsonl lacking a field (first: f.jsonl line 2: "
                           "no 'loss', which the first record (f.jsonl line 1) has)"]


def test_every_record_skipped_is_an_error_saying_why():
    with pytest.raises(DataError, match=r"every record lacked a field and was skipped \(first: "
                                        r"f.jsonl line 1: no 'x'"):
        add_all(RecordTable({"x": "x"}, on_missing="skip"), [{"a": 1}])


def test_list_of_objects_points_at_records():
    with pytest.raises(DataError, match=r"f.jsonl line 1, column 'runs': holds a list of objects.*"
                                        r"`records:`"):
        add_all(RecordTable(), [{"runs": [{"loss": 1.0}]}])


def test_non_object_record():
    with pytest.raises(DataError, match=r"f.jsonl line 1: expected a JSON object \(one run\), got a list"):
        add_all(RecordTable(), [[1, 2]])


def test_extra_column_may_not_shadow_a_field():
    builder = RecordTable()
    with pytest.raises(DataError, match="already has a column 'file'"):
        builder.add({"file": "x"}, "f.json", extra={"file": "f.json"})


def test_numbers_are_stored_compactly_and_lines_kept():
    table = add_all(RecordTable({"loss": "m.loss"}), [{"m": {"loss": float(i)}} for i in range(5)])
    assert table["loss"].dtype == np.float64
    assert list(table.lines) == [1, 2, 3, 4, 5]
