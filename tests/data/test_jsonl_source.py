"""The jsonl source on real files: fields by dotted paths, malformed lines, and a large file that
must be streamed (read once, line by line, in memory far below its size)."""

import builtins
import tracemalloc
from pathlib import Path

import pytest
from source_helpers import jsonl, make_ctx, write

from scalinglaws import DataError
from scalinglaws.data.jsonl_source import JsonlSource

RUNS = jsonl(
    {"run": "a", "config": {"N": 1e8, "D": 2e9}, "metrics": {"val": {"loss": 3.1}}},
    {"run": "b", "config": {"N": 2e8, "D": 2e9}, "metrics": {"val": {"loss": 2.9}}},
    {"run": "c", "config": {"N": 4e8, "D": 2e9}, "metrics": {"val": {"loss": 2.7}}},
)


def load(tmp_path, text, **options):
    write(tmp_path, "runs.jsonl", text)
    return JsonlSource(path="runs.jsonl", **options).load(make_ctx(tmp_path))


def test_every_value_becomes_a_column_without_fields(tmp_path):
    table = load(tmp_path, RUNS)
    assert table.names == ["run", "config.N", "config.D", "metrics.val.loss"]
    assert list(table["metrics.val.loss"]) == [3.1, 2.9, 2.7]


def test_fields_pick_columns_by_dotted_path(tmp_path):
    table = load(tmp_path, RUNS, fields={"N": "config.N", "loss": "metrics.val.loss"})
    assert table.names == ["N", "loss"]
    assert list(table.numeric("N")) == [1e8, 2e8, 4e8]


def test_blank_lines_are_ignored_and_rows_remember_their_lines(tmp_path):
    (tmp_path / "runs.jsonl").write_text("\n" + RUNS.replace("\n", "\n\n", 1), encoding="utf-8")
    table = JsonlSource(path="runs.jsonl").load(make_ctx(tmp_path))
    assert len(table) == 3 and list(table.lines) == [2, 4, 5]


def test_bad_json_line_names_file_and_line(tmp_path):
    text = RUNS.replace('"b", "config"', '"b" "config"')
    with pytest.raises(DataError, match=r"^runs.jsonl line 2: not valid JSON: Expecting ',' "
                                        r"delimiter \(column 13\)\. Fix the line or delete it$"):
        load(tmp_path, text)


def test_truncated_last_line_says_the_file_may_have_been_cut(tmp_path):
    with pytest.raises(DataError, match=r"runs.jsonl line 4: not valid JSON: .* It is the last line "
                                        r"and has no newline: was the file cut off while being "
                                        r"written\? Fix the line or delete it$"):
        load(tmp_path, RUNS + '{"run": "d", "config": {"N": 8e8')


def test_missing_dotted_field_names_path_line_and_column(tmp_path):
    text = RUNS.replace('"metrics": {"val": {"loss": 2.9}}', '"metrics": {"train": {"loss": 2.9}}')
    with pytest.raises(DataError) as info:
        load(tmp_path, text, fields={"loss": "metrics.val.loss"})
    assert str(info.value) == (
        "runs.jsonl line 2, column 'loss': no 'metrics.val.loss' in the record (the object at "
        "'metrics' has keys train). Add the value, or skip such records with `on_missing: skip`")


def test_on_missing_skip_keeps_the_rest_and_notes_it(tmp_path):
    text = RUNS.replace('"metrics": {"val": {"loss": 2.9}}', '"metrics": {}')
    table = load(tmp_path, text, fields={"loss": "metrics.val.loss"}, on_missing="skip")
    assert list(table["loss"]) == [3.1, 2.7]
    assert "skipped 1 record(s) of runs.jsonl" in table.notes[0]


def test_non_numeric_cell_names_row_and_column_when_used(tmp_path):
    text = jsonl({"N": 1e8, "loss": "3.1"}, {"N": 2e8, "loss": "n/a"})
    with pytest.raises(DataError, match=r"runs.jsonl, column 'loss': mixes numbers \(runs.jsonl line "
                                        r"1: '3.1'\) and text \(runs.jsonl line 2: 'n/a'\)"):
        load(tmp_path, text)


def test_null_reads_as_nan_and_is_refused_when_fitted(tmp_path):
    table = load(tmp_path, jsonl({"N": 1e8, "loss": 3.0}, {"N": 2e8, "loss": None}))
    with pytest.raises(DataError, match=r"runs.jsonl row 2, column 'loss': value nan is not finite"):
        table.numeric("loss")


@pytest.mark.parametrize("text, message", [
    ("", "runs.jsonl: the file is empty; it needs one JSON object"),
    ("\n\n", "runs.jsonl: the file is empty"),
    ('[1, 2]\n', r"runs.jsonl line 1: expected a JSON object \(one run\), got a list"),
    ('{"loss": 1}\n{"loss": 2, "N": 3}\n', "runs.jsonl line 2, column 'N': has 'N', which the first"),
])
def test_malformed_files(tmp_path, text, message):
    with pytest.raises(DataError, match=message):
        load(tmp_path, text)


def test_missing_file_and_not_utf8(tmp_path):
    with pytest.raises(DataError, match=r"runs.jsonl: no such file \(.*runs.jsonl\); check the path"):
        JsonlSource(path="runs.jsonl").load(make_ctx(tmp_path))
    write(tmp_path, "latin.jsonl", '{"run": "caf\xe9"}\n'.encode("latin-1"))
    with pytest.raises(DataError, match=r"latin.jsonl: is not UTF-8 text .*save it as UTF-8"):
        JsonlSource(path="latin.jsonl").load(make_ctx(tmp_path))


class ReadSpy:
    """A file handle that records every read() call; iteration goes to the real handle."""

    def __init__(self, handle):
        self.handle, self.reads = handle, []

    def read(self, size=-1):
        self.reads.append(size)
        return self.handle.read(size)

    def __iter__(self):
        return self

    def __next__(self):
        return next(self.handle)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.handle.close()

    def __getattr__(self, name):
        return getattr(self.handle, name)


def write_big(path: Path, lines: int, pad: int) -> int:
    """A JSON Lines file of ``lines`` runs, each with ``pad`` bytes of a field that is not read."""
    note = "x" * pad
    with path.open("w", encoding="utf-8") as f:
        f.writelines(f'{{"step": {i}, "N": {1e6 + i}, "m": {{"loss": {3 - i * 1e-6}}}, "note": "{note}"}}\n'
                     for i in range(lines))
    return path.stat().st_size


def test_large_file_is_read_once_line_by_line(tmp_path, monkeypatch):
    n = 200_000
    path = tmp_path / "big.jsonl"
    write_big(path, n, pad=20)
    spies = []
    real_open = builtins.open

    def spying_open(file, *args, **kwargs):
        handle = real_open(file, *args, **kwargs)
        if isinstance(file, (str, Path)) and Path(file) == path:
            spies.append(ReadSpy(handle))
            return spies[-1]
        return handle

    monkeypatch.setattr(builtins, "open", spying_open)
    table = JsonlSource(path="big.jsonl", fields={"N": "N", "loss": "m.loss"}).load(make_ctx(tmp_path))
    assert len(table) == n and table["loss"][-1] == pytest.approx(3 - (n - 1) * 1e-6)
    assert len(spies) == 1, "the file must be opened once"
    assert spies[0].reads == [], "the file must be iterated line by line, never read() whole"


def test_memory_stays_far_below_the_file_size(tmp_path):
    # tracemalloc slows every allocation ~10x, so this file has fewer, longer lines (~20 MB).
    n = 20_000
    size = write_big(tmp_path / "big.jsonl", n, pad=1000)
    source = JsonlSource(path="big.jsonl", fields={"N": "N", "loss": "m.loss"})
    tracemalloc.start()
    try:
        table = source.load(make_ctx(tmp_path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(table) == n
    # The kept columns are 2 x 20k float64 (0.3 MB): a reader holding the file would peak above 20 MB.
    assert peak < size / 10, f"peak traced memory {peak / 1e6:.1f} MB for a {size / 1e6:.1f} MB file"
