"""Built-in data sources."""

from ..data.csv_source import CsvSource
from ..data.inline import InlineSource
from ..data.simulate import SimulateSource
from ..hookspecs import hookimpl


@hookimpl
def register_data_sources(register):
    register("csv", CsvSource)
    register("inline", InlineSource)
    register("simulate", SimulateSource)
