"""Plots with matplotlib (Agg backend): observed points, fitted curves, residuals."""

from __future__ import annotations

from pathlib import Path

import numpy as np

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


def draw_predictions(fit, inputs) -> np.ndarray | None:
    """(B, n) predictions of the law at ``inputs`` for every bootstrap draw kept in
    ``fit.uncertainty.draws``; None without draws."""
    unc = getattr(fit, "uncertainty", None)
    if unc is None or not unc.draws:
        return None
    import jax
    import jax.numpy as jnp

    family = fit.law
    x = np.column_stack([np.asarray(inputs[name], dtype=np.float64) for name in family.inputs])
    z = jnp.asarray(family.prepare(x))
    names = family.param_names
    count = len(next(iter(unc.draws.values())))
    thetas = np.array([family.to_fit({k: float(unc.draws[k][b]) for k in names})
                       for b in range(count)])
    preds = jax.vmap(lambda th: family.predict_fn("linear")(th, z))(jnp.asarray(thetas))
    return np.asarray(preds)


def confidence_band(fit, inputs):
    """Pointwise percentile band of the predictions over the bootstrap draws, or None."""
    preds = draw_predictions(fit, inputs)
    if preds is None:
        return None
    level = fit.uncertainty.level
    lo, hi = np.nanpercentile(preds, [50 * (1 - level), 50 * (1 + level)], axis=0)
    return lo, hi


def fit_figure(task, ax=None):
    """Target against the first input on log axes with the fitted law; when the law has a second
    input, one colour and one fitted curve per value (or bin) of it. A law fitted to groups of rows
    (``groups:``) gets one marker and line style per group. A residual panel below."""
    plt = _pyplot()
    fit = task.fit
    grouping = getattr(fit.law, "grouping", None)
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


def save(fig, path: Path) -> None:
    plt = _pyplot()
    fig.savefig(path, dpi=110)
    plt.close(fig)
