"""Tables from CSV and columns, with errors that name the file, row and column."""

import numpy as np
import pytest

from scalinglaws import DataError, Table


def write(tmp_path, text, name="runs.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_numeric_and_text_columns(tmp_path):
    table = Table.from_csv(write(tmp_path, "N,D,loss,tag\n1e8,2e9,3.1,a\n2e8,4e9,2.9,b\n"))
    assert len(table) == 2
    assert table["N"].dtype == np.float64
    assert list(table["tag"]) == ["a", "b"]


def test_non_numeric_cell_names_row_and_column(tmp_path):
    table = Table.from_csv(write(tmp_path, "N,D,loss\n1e8,2e9,3.1\n2e8,4e9,oops\n"))
    with pytest.raises(DataError, match=r"runs.csv row 2, column 'loss': 'oops' is not a number"):
        table.numeric("loss")


def test_non_positive_where_log_taken(tmp_path):
    table = Table.from_csv(write(tmp_path, "N,D,loss\n1e8,2e9,3.1\n0,4e9,2.9\n"))
    with pytest.raises(DataError, match=r"row 2, column 'N': value 0.0 must be > 0"):
        table.numeric("N", positive=True)


def test_non_finite_value(tmp_path):
    table = Table.from_csv(write(tmp_path, "N,D,loss\n1e8,2e9,nan\n"))
    with pytest.raises(DataError, match=r"row 1, column 'loss': value nan is not finite"):
        table.numeric("loss")


def test_missing_column_suggests(tmp_path):
    table = Table.from_csv(write(tmp_path, "N,D,los\n1e8,2e9,3\n"))
    with pytest.raises(DataError, match=r"no column 'loss' \(did you mean 'los'\?\)"):
        table.numeric("loss")


@pytest.mark.parametrize("text, message", [
    ("", "the file is empty"),
    ("N,D,loss\n", "has a header but no rows"),
    ("N,,loss\n1,2,3\n", "header cell 2 is empty"),
    ("N,N,loss\n1,2,3\n", "column 'N' appears twice"),
    ("N,D,loss\n1,2\n", "row 1: has 2 cells, the header has 3"),
])
def test_malformed_files(tmp_path, text, message):
    with pytest.raises(DataError, match=message):
        Table.from_csv(write(tmp_path, text))


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        Table.from_csv(tmp_path / "nope.csv")


def test_compute_convention_derives_tokens():
    table = Table.from_columns(N=[1e9], C=[6e18], loss=[2.5])
    assert table.numeric("D")[0] == pytest.approx(1e9)
    assert "D = C / (6 N)" in table.notes


def test_rename_and_take():
    table = Table.from_columns({"Model Size": [1.0, 2.0, 3.0], "loss": [3.0, 2.0, 1.0]})
    renamed = table.rename({"N": "Model Size"}).take([2, 0])
    assert list(renamed["N"]) == [3.0, 1.0]


def test_unequal_columns():
    with pytest.raises(DataError, match="columns must be equally long"):
        Table.from_columns(N=[1.0, 2.0], loss=[1.0])
