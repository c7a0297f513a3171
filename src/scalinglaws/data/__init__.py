"""Tables of runs and the data sources that produce them."""

from .table import Table as Table

__all__ = ["Table"]
