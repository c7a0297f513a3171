"""Report section and figure of the `fit` task: the parameter table with the fitting checklist,
and the data with the fitted law (fit_<task>.png)."""

from __future__ import annotations

from typing import Any, Dict, List

from ..results import RecordedLaw
from .markdown import fit_section
from .plots import fit_figure


def markdown(result, images=frozenset()) -> List[str]:
    return fit_section(result, images)


def figures(result) -> Dict[str, Any]:
    """fit_<task>.png, unless the law is known only by its record (no predictions to draw)."""
    if isinstance(result.fit.law, RecordedLaw):
        return {}
    return {f"fit_{result.name}.png": fit_figure(result)}
