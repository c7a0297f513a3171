"""Which report section and figures a task result gets, looked up by its ``kind``.

Each built-in kind has one module in :mod:`scalinglaws.report` with ``markdown(result, images)``
(its lines of report.md; ``images`` are the names of the figures written) and ``figures(result)``
({file name: matplotlib Figure}). A result of any other kind (a plugin task) presents itself
through its own ``markdown(images)`` and ``figures()``
(:class:`~scalinglaws.results.Presentable`); one that does neither has no section. Reporters
read results only through these functions and the :class:`~scalinglaws.results.TaskResult`
protocol: they never import tasks.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any, Dict, List, Optional

from ..results import Presentable
from . import (
    allocate,
    compare,
    evaluate,
    fit,
    mixture_fit,
    mixture_optimum,
    mixture_pipeline,
    predict,
    select_sources,
    sensitivity,
)

PRESENTERS: Dict[str, ModuleType] = {
    "fit": fit, "predict": predict, "allocate": allocate, "compare": compare,
    "evaluate": evaluate, "sensitivity": sensitivity, "mixture_fit": mixture_fit,
    "mixture_optimum": mixture_optimum, "mixture_pipeline": mixture_pipeline,
    "select_sources": select_sources,
}


def presenter_for(kind: str) -> Optional[ModuleType]:
    """The module presenting results of ``kind``, or None for kinds that present themselves."""
    return PRESENTERS.get(kind)


def markdown(result, images=frozenset()) -> List[str]:
    """The result's section of report.md."""
    presenter = presenter_for(result.kind)
    if presenter is not None:
        return presenter.markdown(result, images)
    if isinstance(result, Presentable):
        return result.markdown(images)
    return []


def figures(result) -> Dict[str, Any]:
    """The result's figures, {file name: matplotlib Figure}."""
    presenter = presenter_for(result.kind)
    if presenter is not None:
        return presenter.figures(result)
    if isinstance(result, Presentable):
        return result.figures()
    return {}

