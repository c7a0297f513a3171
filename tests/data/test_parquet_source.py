"""The parquet source: flat and nested columns, selection, bad files, and the missing-extra error."""

import sys

import numpy as np
import pytest
from source_helpers import make_ctx, write

from scalinglaws import DataError
from scalinglaws.data.parquet_source import PYARROW_MISSING, ParquetSource


def test_without_pyarrow_the_error_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # makes `import pyarrow` raise ImportError
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(DataError) as info:
        ParquetSource(path="runs.parquet").load(make_ctx(tmp_path))
    assert str(info.value) == f"runs.parquet: {PYARROW_MISSING}"
    assert 'pip install "scalinglaws[parquet]"' in str(info.value)


@pytest.fixture
def pq():
    pytest.importorskip("pyarrow", reason='pyarrow is the optional extra `scalinglaws[parquet]`')
    import pyarrow.parquet

    return pyarrow.parquet


def write_parquet(pq, path, columns):
    import pyarrow as pa

    pq.write_table(pa.table(columns), path)


def test_numbers_text_and_nulls(tmp_path, pq):
    write_parquet(pq, tmp_path / "runs.parquet", {
        "N": [100_000_000, 200_000_000, 400_000_000], "loss": [3.1, None, 2.7], "tag": ["a", "b", None]})
    table = ParquetSource(path="runs.parquet").load(make_ctx(tmp_path))
    assert table["N"].dtype == np.float64 and list(table["N"]) == [1e8, 2e8, 4e8]
    assert np.isnan(table["loss"][1]) and list(table["tag"]) == ["a", "b", ""]
    with pytest.raises(DataError, match=r"runs.parquet row 2, column 'loss': value nan is not finite"):
        table.numeric("loss")


def test_nested_columns_are_flattened_and_picked_by_fields(tmp_path, pq):
    write_parquet(pq, tmp_path / "runs.parquet", {
        "config": [{"N": 1e8, "model": {"layers": 4}}, {"N": 2e8, "model": {"layers": 8}}],
        "loss": [3.0, 2.8], "ignored": ["x", "y"]})
    table = ParquetSource(path="runs.parquet").load(make_ctx(tmp_path))
    assert table.names == ["config.N", "config.model.layers", "loss", "ignored"]
    table = ParquetSource(path="runs.parquet", fields={"N": "config.N", "layers": "config.model.layers",
                                                       "loss": "loss"}).load(make_ctx(tmp_path))
    assert table.names == ["N", "layers", "loss"] and list(table["layers"]) == [4.0, 8.0]


@pytest.mark.parametrize("fields, message", [
    ({"loss": "los"}, r"runs.parquet, column 'loss': no column 'los' \(did you mean 'loss'\?\) in the "
                      r"file; it has N, loss"),
    ({"x": "N.x"}, r"runs.parquet, column 'x': no column 'N.x' in the file"),
])
def test_missing_column(tmp_path, pq, fields, message):
    write_parquet(pq, tmp_path / "runs.parquet", {"N": [1.0], "loss": [2.0]})
    with pytest.raises(DataError, match=message):
        ParquetSource(path="runs.parquet", fields=fields).load(make_ctx(tmp_path))


def test_bad_empty_and_missing_files(tmp_path, pq):
    write(tmp_path, "bad.parquet", "N,loss\n1,2\n")
    with pytest.raises(DataError, match=r"bad.parquet: cannot be read as Parquet \(ArrowInvalid"):
        ParquetSource(path="bad.parquet").load(make_ctx(tmp_path))
    write_parquet(pq, tmp_path / "empty.parquet", {"N": np.array([], dtype=float)})
    with pytest.raises(DataError, match="empty.parquet: the file has no rows"):
        ParquetSource(path="empty.parquet").load(make_ctx(tmp_path))
    with pytest.raises(DataError, match=r"nope.parquet: no such file \(.*\); check `path`"):
        ParquetSource(path="nope.parquet").load(make_ctx(tmp_path))
