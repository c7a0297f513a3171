"""Report section and figure of the `predict` task: the predictions with their intervals, the
fit behind them, and the fit plot with the predicted points (predict_<task>.png)."""

from __future__ import annotations

from typing import Any, Dict, List

import numpy as np

from ..results import RecordedLaw
from .markdown import cell, fit_behind, interval_cell
from .plots import confidence_band, fit_figure


def markdown(task, images=frozenset()) -> List[str]:
    unc = task.fit.uncertainty
    level = f"{unc.level:.0%}" if unc is not None else ""
    inputs = list(task.fit.law.inputs)
    lines = [f"## Task `{task.name}`: predict `{task.fit.law.name}` fitted to `{task.dataset}`", ""]
    head = "| " + " | ".join(inputs) + " | prediction |"
    sep = "|" + "---|" * (len(inputs) + 1)
    if unc is not None:
        head += f" SE | {level} confidence interval | {level} prediction interval |"
        sep += "---|---|---|"
    lines += [head, sep]
    for r in task.predictions:
        cells = [cell(r[n]) for n in inputs] + [cell(r["prediction"])]
        if unc is not None:
            cells += [cell(r.get("se")), interval_cell({"x_lower": r.get("ci_lower"),
                                            "x_upper": r.get("ci_upper")}, "x"),
                      interval_cell({"x_lower": r.get("pi_lower"), "x_upper": r.get("pi_upper")}, "x")]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    if task.noise != "none" and task.predictions and "noise_scale" in task.predictions[0]:
        lines.append(f"Noise model for prediction intervals: multiplicative, log y = log f(x) + e, "
                     f"e ~ Normal(0, s^2) with s = {task.predictions[0]['noise_scale']:.4g} (1.4826 x "
                     "median absolute deviation of the fit's log residuals).")
    else:
        lines.append("No noise model: confidence intervals of the law only.")
    lines.append("")
    name = f"predict_{task.name}.png"
    if name in images:
        lines += [f"![predict]({name})", ""]
    lines += fit_behind(task, images, task.notes)
    return lines


def figures(task) -> Dict[str, Any]:
    """The fit plot with the predicted points (and their intervals) added; none when the law is
    known only by its record."""
    if isinstance(task.fit.law, RecordedLaw):
        return {}
    fig = fit_figure(task)
    ax = fig.axes[0]
    law = task.fit.law
    curves = bool(law.id_inputs)
    # A curve law (lr_annealing) is drawn against its plot_x (step), not its run id.
    first = (law.plot_x if curves else None) or law.inputs[0]
    lo = float(np.min(task.inputs[first])) if first in task.inputs else None
    for k, r in enumerate(task.predictions[:3]):  # the law's curve out to the point (extrapolation)
        # A curve law's value depends on the run's whole schedule, which a grid through one
        # point does not have: such laws get the predicted points only.
        if curves or lo is None or not lo > 0 or not r[first] > 0:
            continue
        grid = np.geomspace(min(lo, r[first]), max(lo, r[first]) * 1.2, 100)
        point = {n: np.full_like(grid, r[n]) for n in task.fit.law.inputs if n != first}
        ax.plot(grid, task.fit.predict({first: grid, **point}), color="red", ls="--", lw=1,
                label="law through the predicted point" if k == 0 else None)
        band = confidence_band(task.fit, {first: grid, **point})
        if band is not None:
            ax.fill_between(grid, band[0], band[1], color="red", alpha=0.12, lw=0)
    for r in task.predictions:
        yerr = None
        if r.get("ci_lower") is not None:
            yerr = [[r["prediction"] - r["ci_lower"]], [r["ci_upper"] - r["prediction"]]]
        ax.errorbar([r[first]], [r["prediction"]], yerr=yerr, color="red", marker="*", ms=10,
                    capsize=3, zorder=5)
        if r.get("pi_lower") is not None:
            ax.vlines([r[first]], r["pi_lower"], r["pi_upper"], color="red", lw=0.8, ls=":")
    ax.plot([], [], "r*", label="predicted")
    ax.legend(fontsize=7, ncol=2)
    xs = np.concatenate([task.inputs[first], [r[first] for r in task.predictions]])
    ax.set_xlim(xs.min() / 1.5, xs.max() * 1.5)
    return {f"predict_{task.name}.png": fig}
