"""Built-in reporters."""

from ..hookspecs import hookimpl
from ..report import files


@hookimpl
def register_reporters(register):
    register("json", files.results_json)
    register("csv", files.params_csv)
    register("plots", files.plots)  # before markdown, which links the images that exist
    register("markdown", files.report_md)
