"""Dataset-level renaming, derived columns and filters."""

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws import load_spec
from scalinglaws.data.transforms import prepare_table
from scalinglaws.errors import DataError, SpecError
from scalinglaws.spec import DatasetSpec


def table():
    return sl.Table.from_columns({"Model Size": [1.0, 2.0, 3.0, 4.0, 5.0],
                                  "flop": [6.0, 24.0, 54.0, 96.0, 150.0],
                                  "loss": [5.0, 4.0, 3.5, 3.0, 9.0]})


def ds(**kw):
    return DatasetSpec(name="d", source="inline", **kw)


def test_rename_then_derive_in_order():
    out = prepare_table(table(), ds(columns={"N": "Model Size", "C": "flop"},
                                    derive={"D": "C / (6 * N)", "D2": "D * 1e9"}))
    np.testing.assert_allclose(out["D"], [1.0, 2.0, 3.0, 4.0, 5.0])
    np.testing.assert_allclose(out["D2"], out["D"] * 1e9)
    assert "D = C / (6 * N)" in out.notes


def test_where_and_exclusions_keep_original_row_numbers():
    out = prepare_table(table(), ds(columns={"N": "Model Size"}, where=("N >= 2",),
                                    exclude_largest={"loss": 1}))
    assert list(out["N"]) == [2.0, 3.0, 4.0]
    assert [out.row_label(i) for i in range(len(out))] == [2, 3, 4]
    assert any("kept 4 of 5 rows" in n for n in out.notes)
    bad = prepare_table(sl.Table.from_columns(N=[1.0, 2.0, -3.0]), ds(where=("N != 1",)))
    with pytest.raises(DataError, match="row 3, column 'N'"):
        bad.numeric("N", positive=True)


def test_exclude_smallest_and_too_many():
    out = prepare_table(table(), ds(exclude_smallest={"loss": 2}))
    assert sorted(out["loss"]) == [4.0, 5.0, 9.0]
    with pytest.raises(DataError, match="would leave no rows"):
        prepare_table(table(), ds(exclude_largest={"loss": 5}))


def test_filter_that_keeps_nothing():
    with pytest.raises(DataError, match="no rows are left"):
        prepare_table(table(), ds(where=("loss > 100",)))


def test_spec_errors_point_into_the_formula(write_spec):
    path = write_spec("""
        version: 1
        datasets:
          runs:
            source: inline
            rows: [{N: 1, loss: 2}]
            derive: {D: "C / (6 * N"}
            where: "loss < __import__('os')"
        tasks: [{kind: fit, dataset: runs, law: power_law, law: power_law}]
    """.replace("law: power_law, law: power_law", "law: power_law"))
    with pytest.raises(SpecError) as info:
        load_spec(path)
    text = str(info.value)
    assert "datasets.runs.derive.D" in text and "datasets.runs.where" in text
    assert "unknown function '__import__'" in text


def test_spec_end_to_end(write_spec, tmp_path):
    path = write_spec("""
        version: 1
        datasets:
          runs:
            source: inline
            rows:
              - {size_m: 100, loss: 3.30}
              - {size_m: 1000, loss: 2.83}
              - {size_m: 10000, loss: 2.55}
              - {size_m: 100000, loss: 2.38}
              - {size_m: 1000000, loss: 2.28}
              - {size_m: 3, loss: 99.0}
            derive: {x: "size_m * 1e6"}
            exclude_largest: {loss: 1}
        tasks: [{kind: fit, dataset: runs, law: {family: power_law}}]
    """)
    result = sl.run(load_spec(path), out=False)
    assert result.tasks[0].fit.n_points == 5


def test_where_compares_text_columns_with_quoted_values():
    runs = sl.Table.from_rows([{"domain": "Github", "loss": 1.0}, {"domain": "Pile-CC", "loss": 3.0},
                               {"domain": "Github", "loss": 2.0}])
    out = prepare_table(runs, ds(where=("domain == 'Github' and loss > 1.5",)))
    np.testing.assert_allclose(out["loss"], [2.0])
    np.testing.assert_allclose(prepare_table(runs, ds(where=("'Github' != domain",)))["loss"], [3.0])
    with pytest.raises(DataError, match="holds numbers; compare it without quotes"):
        prepare_table(runs, ds(where=("loss == '1'",)))
    for bad in ("domain < 'x'", "'a' == 'b'", "domain == 'a' == domain"):
        with pytest.raises(sl.ScalingLawsError, match="compared with one column by == or !="):
            prepare_table(runs, ds(where=(bad,)))
