"""Plots with matplotlib (Agg backend): observed points, fitted curves, residuals."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from ..draws import predict_draws

MAX_CURVES = 10
_MARKERS = ("o", "s", "^", "D", "v", "P")
_STYLES = ("-", "--", ":", "-.")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _groups(values: np.ndarray):
    """Curves to draw for a secondary input: each distinct value, or log-quantile bins."""
    distinct = np.unique(values)
    if len(distinct) <= MAX_CURVES:
        return [(values == v, v) for v in distinct]
    edges = np.quantile(np.log(values), np.linspace(0, 1, 6))
    idx = np.clip(np.searchsorted(edges, np.log(values), side="right") - 1, 0, len(edges) - 2)
    return [(idx == k, float(np.exp(np.median(np.log(values[idx == k])))))
            for k in range(len(edges) - 1) if np.any(idx == k)]


def confidence_band(fit, inputs):
    """Pointwise percentile band of the law's predictions at ``inputs`` over the fit's parameter
    draws (:func:`scalinglaws.draws.predict_draws`), or None without draws."""
    unc = fit.uncertainty
    if unc is None or not unc.draws:
        return None
    preds = predict_draws(fit.law, unc.draw_thetas(fit.law), inputs)
    level = unc.level
    lo, hi = np.nanpercentile(preds, [50 * (1 - level), 50 * (1 + level)], axis=0)
    return lo, hi


def fit_figure(task, ax=None):
    """Target against the first input on log axes with the fitted law; when the law has a second
    input, one colour and one fitted curve per value (or bin) of it. A law fitted to groups of rows
    (``groups:``) gets one marker and line style per group. A residual panel below. Laws with a
    run-id input (``id_inputs``) get :func:`curves_figure` instead."""
    ids = [n for n in task.fit.law.id_inputs if n in task.inputs]
    if ids:
        return curves_figure(task, ids[0])
    plt = _pyplot()
    fit = task.fit
    grouping = fit.law.grouping
    names = [n for n in task.inputs if grouping is None or n != grouping.input]
    x = task.inputs[names[0]]
    fig, (ax, ax_res) = plt.subplots(2, 1, figsize=(7, 6.5), sharex=True,
                                     gridspec_kw={"height_ratios": [3, 1]})
    log_x = bool(np.all(x > 0))  # laws of non-scale inputs (e.g. a step count from 0) plot linearly
    grid = np.geomspace(x.min(), x.max(), 200) if log_x else np.linspace(x.min(), x.max(), 200)
    if grouping is None:
        passes = [(np.ones(len(x), dtype=bool), "", {})]
    else:
        index = task.inputs[grouping.input]
        passes = [(index == g, f"{label}: ", {grouping.input: np.full_like(grid, g)})
                  for g, label in enumerate(grouping.labels)]
    for j, (rows, tag, group_point) in enumerate(passes):
        marker, style = _MARKERS[j % len(_MARKERS)], _STYLES[j % len(_STYLES)]
        if len(names) == 1:
            # Ungrouped: blue points, orange fit; a group: its own colour, marker and line style.
            dots, line = ("C0", "C1") if grouping is None else (f"C{j}", f"C{j}")
            ax.scatter(x[rows], task.target[rows], s=16, color=dots, marker=marker,
                       label=f"{tag}observed", zorder=3)
            ax.plot(grid, fit.predict({names[0]: grid, **group_point}), color=line, ls=style,
                    label=f"{tag}fitted {fit.law.name}")
            band = confidence_band(fit, {names[0]: grid, **group_point})
            if band is not None:
                ax.fill_between(grid, band[0], band[1], color=line, alpha=0.25, lw=0,
                                label=f"{tag}{fit.uncertainty.level:.0%} confidence band")
            continue
        others = {n: task.inputs[n][rows] for n in names[1:]}
        second = others[names[1]]
        cmap = plt.get_cmap("viridis")
        groups = _groups(second)
        for k, (mask, value) in enumerate(groups):
            colour = cmap(k / max(len(groups) - 1, 1))
            ax.scatter(x[rows][mask], task.target[rows][mask], s=16, color=colour, marker=marker,
                       zorder=3, label=f"{tag}{names[1]} ~ {value:.3g}")
            point = {n: np.full_like(grid, np.median(v[mask])) for n, v in others.items()}
            point[names[1]] = np.full_like(grid, value)
            ax.plot(grid, fit.predict({names[0]: grid, **point, **group_point}), color=colour,
                    lw=1.2, ls=style)
            band = confidence_band(fit, {names[0]: grid, **point, **group_point})
            if band is not None:
                ax.fill_between(grid, band[0], band[1], color=colour, alpha=0.2, lw=0)
    ax.set_xscale("log" if log_x else "linear")
    ax.set_yscale("log")
    ax.set_ylabel(task.law.target)
    from matplotlib.ticker import LogLocator, ScalarFormatter

    ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 3.0, 5.0)))
    ax.yaxis.set_major_formatter(ScalarFormatter())
    ax.yaxis.set_minor_formatter(ScalarFormatter())
    ax.set_title(f"{task.name}: {fit.law.formula}")
    ax.legend(fontsize=7, ncol=2)
    predicted = fit.predict(task.inputs)
    ax_res.axhline(0.0, color="0.5", lw=0.8)
    ax_res.scatter(x, np.log(task.target) - np.log(predicted), s=10, color="C0")
    ax_res.set_xscale("log" if log_x else "linear")
    ax_res.set_xlabel(names[0])
    ax_res.set_ylabel("log residual")
    fig.tight_layout()
    return fig


def _curve_keys(task, run_input: str) -> np.ndarray:
    """One key per row naming its curve: the run id, and the group too for a grouped law (run
    ids may repeat across groups)."""
    grouping = task.fit.law.grouping
    keys = [task.inputs[run_input]]
    if grouping is not None:
        keys.append(task.inputs[grouping.input])
    return np.column_stack(keys)


def _curve_label(task, run_input: str, key: np.ndarray) -> str:
    """The run's name (text ids keep theirs through ``task.labels``), with its group if any."""
    names = task.labels.get(run_input)
    code = float(key[0])
    label = str(names[int(code)]) if names is not None else f"{run_input} {code:g}"
    grouping = task.fit.law.grouping
    if grouping is not None:
        label = f"{grouping.labels[int(key[1])]}: {label}"
    return label


def curves_figure(task, run_input: str):
    """Target against the law's ``plot_x`` (e.g. step), one colour per run: observed points and
    the fitted law at the run's rows joined by a line. The law is evaluated at the observed rows,
    not on a grid, because a curve law needs the run's whole history (its learning rates) at every
    point. Linear axes: training curves span one decade of loss at most. Residuals below, in
    target units (such laws are fitted on linear residuals)."""
    plt = _pyplot()
    fit = task.fit
    others = [n for n in task.inputs if n not in fit.law.id_inputs
              and n != getattr(fit.law.grouping, "input", None)]
    x_name = fit.law.plot_x if fit.law.plot_x in task.inputs else others[0]
    x = task.inputs[x_name]
    predicted = np.asarray(fit.predict(task.inputs), dtype=np.float64)
    band = confidence_band(fit, task.inputs)
    keys = _curve_keys(task, run_input)
    _, first = np.unique(keys, axis=0, return_index=True)
    order = np.sort(first)  # curves in order of first appearance, as text ids are coded
    fig, (ax, ax_res) = plt.subplots(2, 1, figsize=(7, 6.5), sharex=True,
                                     gridspec_kw={"height_ratios": [3, 1]})
    cmap = plt.get_cmap("viridis" if len(order) > MAX_CURVES else "tab10")
    for k, row in enumerate(order):
        rows = np.flatnonzero(np.all(keys == keys[row], axis=1))
        rows = rows[np.argsort(x[rows], kind="stable")]
        colour = cmap(k / max(len(order) - 1, 1)) if len(order) > MAX_CURVES else cmap(k % 10)
        label = _curve_label(task, run_input, keys[row]) if len(order) <= MAX_CURVES else None
        ax.scatter(x[rows], task.target[rows], s=12, color=colour, zorder=3, label=label)
        ax.plot(x[rows], predicted[rows], color=colour, lw=1.3)
        if band is not None:
            ax.fill_between(x[rows], band[0][rows], band[1][rows], color=colour, alpha=0.2, lw=0)
        ax_res.scatter(x[rows], task.target[rows] - predicted[rows], s=8, color=colour)
    ax.set_ylabel(task.law.target)
    # Curve laws have long formulas (the areas' definitions); wrap rather than cut them off.
    ax.set_title(textwrap.fill(f"{task.name}: {fit.law.formula}", 100), fontsize=8)
    ax.plot([], [], color="0.3", lw=1.3, label=f"fitted {fit.law.name}")  # legend entry for lines
    ax.legend(fontsize=7, ncol=2)
    ax_res.axhline(0.0, color="0.5", lw=0.8)
    ax_res.set_xlabel(x_name)
    ax_res.set_ylabel("residual")
    fig.tight_layout()
    return fig


def save(fig, path: Path) -> None:
    plt = _pyplot()
    fig.savefig(path, dpi=110)
    plt.close(fig)
