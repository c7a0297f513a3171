"""Plots with matplotlib (Agg backend): observed points, fitted curves, residuals."""

from __future__ import annotations

from pathlib import Path

import numpy as np

MAX_CURVES = 10


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


def fit_figure(task, ax=None):
    """Target against the first input on log axes with the fitted law; when the law has a second
    input, one colour and one fitted curve per value (or bin) of it. A residual panel below."""
    plt = _pyplot()
    fit = task.fit
    names = list(task.inputs)
    x = task.inputs[names[0]]
    fig, (ax, ax_res) = plt.subplots(2, 1, figsize=(7, 6.5), sharex=True,
                                     gridspec_kw={"height_ratios": [3, 1]})
    log_x = bool(np.all(x > 0))  # laws of non-scale inputs (e.g. a step count from 0) plot linearly
    grid = np.geomspace(x.min(), x.max(), 200) if log_x else np.linspace(x.min(), x.max(), 200)
    if len(names) == 1:
        ax.scatter(x, task.target, s=16, color="C0", label="observed", zorder=3)
        ax.plot(grid, fit.predict({names[0]: grid}), color="C1", label=f"fitted {fit.law.name}")
    else:
        others = {n: task.inputs[n] for n in names[1:]}
        second = others[names[1]]
        cmap = plt.get_cmap("viridis")
        groups = _groups(second)
        for k, (mask, value) in enumerate(groups):
            colour = cmap(k / max(len(groups) - 1, 1))
            ax.scatter(x[mask], task.target[mask], s=16, color=colour, zorder=3,
                       label=f"{names[1]} ~ {value:.3g}")
            point = {n: np.full_like(grid, np.median(v[mask])) for n, v in others.items()}
            point[names[1]] = np.full_like(grid, value)
            ax.plot(grid, fit.predict({names[0]: grid, **point}), color=colour, lw=1.2)
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


def save(fig, path: Path) -> None:
    plt = _pyplot()
    fig.savefig(path, dpi=110)
    plt.close(fig)
