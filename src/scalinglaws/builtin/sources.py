"""Built-in data sources."""

from ..data.csv_source import CsvSource
from ..data.glob_source import GlobSource
from ..data.inline import InlineSource
from ..data.json_source import JsonSource
from ..data.jsonl_source import JsonlSource
from ..data.parquet_source import ParquetSource
from ..data.simulate import SimulateSource
from ..data.url_source import UrlSource
from ..hookspecs import hookimpl


@hookimpl
def register_data_sources(register):
    register("csv", CsvSource)
    register("glob", GlobSource)
    register("inline", InlineSource)
    register("json", JsonSource)
    register("jsonl", JsonlSource)
    register("parquet", ParquetSource)
    register("simulate", SimulateSource)
    register("url", UrlSource)
