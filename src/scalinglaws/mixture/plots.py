"""Figures of mixture results (matplotlib, Agg)."""

from __future__ import annotations

import numpy as np


def optimum_figure(result):
    """Bar chart of the optimal proportions with 90% bootstrap whiskers and the caps."""
    from ..report.plots import _pyplot

    plt = _pyplot()
    opt = result.optimum
    s = len(opt.sources)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.45 * s + 2), 4.2))
    x = np.arange(s)
    ax.bar(x, opt.proportions, color="C0", label="optimum")
    iv = opt.interval()
    if iv is not None:
        err = np.vstack([np.maximum(opt.proportions - iv["proportions_lower"], 0.0),
                         np.maximum(iv["proportions_upper"] - opt.proportions, 0.0)])
        ax.errorbar(x, opt.proportions, yerr=err, fmt="none", ecolor="k", capsize=3, lw=1,
                    label=f"90% bootstrap ({opt.draws['objective'].shape[0]} draws)")
    caps = np.where(opt.upper < 1.0, opt.upper, np.nan)
    if np.any(np.isfinite(caps)):
        ax.scatter(x, caps, marker="_", s=200, color="C3", label="cap", zorder=3)
    if result.sampling:
        ax.scatter(x, [result.sampling["proportions"][k] for k in opt.sources], marker="o", s=14,
                   color="C1", label=f"RegMix selection (top {result.sampling['top_k']})", zorder=4)
    ax.set_xticks(x)
    ax.set_xticklabels(opt.sources, rotation=60, ha="right", fontsize=8)
    ax.set_ylabel("proportion")
    ax.set_ylim(0, min(1.05, max(1e-3, float(np.nanmax(np.concatenate(
        [opt.proportions, iv["proportions_upper"] if iv is not None else []]))) * 1.15 + 0.02)))
    ax.set_title(f"{result.name}: predicted target loss {opt.objective:.4g}", fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
