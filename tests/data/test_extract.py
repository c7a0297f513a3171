"""Headerless CSV/TSV files and the dataset key `extract` (named groups of a regular expression)."""

from types import SimpleNamespace

import numpy as np
import pytest

from scalinglaws import load_spec
from scalinglaws.data.csv_source import CsvSource
from scalinglaws.data.table import Table
from scalinglaws.data.transforms import extract, prepare_table
from scalinglaws.errors import DataError, SpecError
from scalinglaws.spec.model import DatasetSpec

CKPT = r"(?P<size>\d+)M_base2_\d+-(?P<r_github>[0-9.]+)-(?P<r_pile_cc>[0-9.]+)/(?P<step>\d+)$"
ROWS = [
    "/ckpts/base2//70M_base2_1-0.25-0.75/27000\t/data/pythia-pile.valid.Github.bin\t1.4475",
    "/ckpts/base2//70M_base2_3-0.5-0.5/30000\t/data/pythia-pile.valid.Pile-CC.bin\t3.5669",
    "/ckpts/base2//160M_base2_5-0.75-0.25/10000\t/data/pythia-pile.valid.Github.bin\t1.2078",
]
NAMES = ["checkpoint", "valid_file", "loss"]


@pytest.fixture
def tsv(tmp_path):
    path = tmp_path / "2Mix.txt"
    path.write_text("\n".join(ROWS) + "\n", encoding="utf-8")
    return path


def test_headerless_tsv_with_names(tsv):
    t = Table.from_csv(tsv, delimiter="\t", header=False, names=NAMES)
    assert t.names == NAMES and len(t) == 3
    assert t["loss"].dtype == np.float64 and t["loss"][2] == pytest.approx(1.2078)
    assert list(t.lines) == [1, 2, 3]  # no header: data row = file line


def test_names_rename_a_header(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    assert Table.from_csv(path, names=["N", "loss"]).names == ["N", "loss"]
    with pytest.raises(DataError, match=r"runs.csv row 0: `names` has 3 names, the header has 2"):
        Table.from_csv(path, names=["N", "loss", "x"], source="runs.csv")


@pytest.mark.parametrize("kw, message", [
    ({"header": False}, r"f.txt: a file without a header row needs `names:`"),
    ({"header": False, "names": ["a", "a", "b"]}, r"column 'a' appears twice in `names`"),
    ({"header": False, "names": ["a", "b"]},
     r"f.txt row 2: has 3 cells, `names` has 2 \(a, b\); check `delimiter`"),
])
def test_headerless_errors_name_file_and_row(tmp_path, kw, message):
    path = tmp_path / "f.txt"
    path.write_text("1,2\n3,4,5\n", encoding="utf-8")
    with pytest.raises(DataError, match=message):
        Table.from_csv(path, source="f.txt", **kw)


@pytest.mark.parametrize("delimiter", ["\t", "\\t", "tab"])
def test_csv_source_reads_a_tab_however_yaml_writes_it(tsv, delimiter):
    src = CsvSource(path=tsv.name, delimiter=delimiter, header=False, names=tuple(NAMES))
    assert src.check(None) == []
    t = src.load(SimpleNamespace(base_dir=str(tsv.parent)))
    assert len(t) == 3 and t["valid_file"][1].endswith("Pile-CC.bin")


def test_csv_source_check():
    bad = CsvSource(path="x", delimiter=";;", header=False)
    keys = [k for k, _ in bad.check(None)]
    assert keys == [("delimiter",), ("names",)]


def test_extract_makes_numeric_and_text_columns(tsv):
    t = Table.from_csv(tsv, delimiter="\t", header=False, names=NAMES)
    t = extract(t, "checkpoint", CKPT)
    t = extract(t, "valid_file", r"valid\.(?P<domain>[^./]+)\.bin$")
    assert list(t["size"]) == [70.0, 70.0, 160.0] and t["size"].dtype == np.float64
    assert list(t["r_github"]) == [0.25, 0.5, 0.75] and list(t["step"]) == [27000, 30000, 10000]
    assert list(t["domain"]) == ["Github", "Pile-CC", "Github"]  # text: not every value a number
    assert "domain extracted from valid_file" in t.notes


def test_extract_comes_before_derive_and_where(tsv):
    ds = DatasetSpec(name="ck", source="csv", extract={"checkpoint": CKPT},
                     derive={"N": "size * 1e6"}, where=("step >= 20000",))
    t = prepare_table(Table.from_csv(tsv, delimiter="\t", header=False, names=NAMES), ds)
    assert list(t["N"]) == [7e7, 7e7]


def test_non_matching_row_names_column_row_and_pattern(tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("\n".join(ROWS[:2] + ["/ckpts/other/run7\t/data/x.Github.bin\t1.0"]) + "\n",
                    encoding="utf-8")
    t = Table.from_csv(path, delimiter="\t", header=False, names=NAMES, source="f.txt")
    with pytest.raises(DataError) as info:
        extract(t, "checkpoint", CKPT)
    text = str(info.value)
    assert text.startswith("f.txt row 3, column 'checkpoint': '/ckpts/other/run7' (file line 3)")
    assert CKPT.replace("\\", "\\\\") in text  # the pattern, as repr shows it
    # The row keeps its number after rows before it are dropped.
    later = t.take([2])
    with pytest.raises(DataError, match=r"f.txt row 3, column 'checkpoint'"):
        extract(later, "checkpoint", CKPT)


def test_bad_pattern_at_run_time():
    t = Table.from_columns(x=["a"])
    with pytest.raises(DataError, match=r"extract.x: invalid regular expression"):
        extract(t, "x", "(?P<a")
    with pytest.raises(DataError, match=r"has no named group"):
        extract(t, "x", "(a)")


SPEC = """\
version: 1
datasets:
  ck:
    source: csv
    path: 2Mix.txt
    delimiter: "\\t"
    header: false
    names: [checkpoint, valid_file, loss]
    extract:
      checkpoint: "(?P<size>\\\\d+)M_base2_(?P<step"
      valid_file: "valid"
tasks:
  - kind: fit
    dataset: ck
    law: power_law
"""


def test_spec_reports_pattern_errors_with_the_key(write_spec):
    path = write_spec(SPEC)
    with pytest.raises(SpecError) as info:
        load_spec(path)
    got = [str(p) for p in info.value.problems]
    assert got[0].startswith(f"{path}:10:19: datasets.ck.extract.checkpoint: invalid regular "
                             "expression")
    assert got[1].startswith(f"{path}:11:19: datasets.ck.extract.valid_file: the pattern 'valid' "
                             "has no named group")


def test_spec_reads_tsv_and_extracts(write_spec, tsv):
    from scalinglaws.runner import RunContext

    path = write_spec(SPEC.replace("(?P<step", "(?P<step>\\\\d+)").replace(
        '"valid"', '"valid\\\\.(?P<domain>[^./]+)\\\\.bin$"'))
    spec = load_spec(path)
    assert spec.datasets["ck"].options.delimiter == "\t"
    from scalinglaws.plugins import get_registry

    t = RunContext(spec=spec, registry=get_registry()).table("ck")
    assert list(t["domain"]) == ["Github", "Pile-CC", "Github"]
    assert list(t["step"]) == [1.0, 3.0, 5.0]  # the run index: the pattern stops at `_\d+`
