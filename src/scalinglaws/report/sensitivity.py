"""Report section and figure of the `sensitivity` task: every variant's quantities and their
spread; one panel per quantity (sensitivity_<task>.png)."""

from __future__ import annotations

from typing import Any, Dict, List

import numpy as np

from ..results import fmt
from .markdown import percent
from .plots import _pyplot


def markdown(result, images=frozenset()) -> List[str]:
    names = list(result.spread)
    lines = [f"## Task `{result.name}`: sensitivity of `{result.law}` on `{result.dataset}`", "",
             "Refits under the choices Li et al. (2025) show change conclusions.", "",
             "| variant | points | " + " | ".join(names) + " |",
             "|---|---|" + "---|" * len(names)]
    for r in result.variants:
        if "error" in r:
            lines.append(f"| {r['variant']} | - | " + " | ".join("-" for _ in names)
                         + f" |  (failed: {r['error']})")
            continue
        lines.append(f"| {r['variant']} | {r['n_points']} | "
                     + " | ".join(fmt(r["quantities"][k], 5) for k in names) + " |")
    if result.truth:
        lines.append("| truth | - | " + " | ".join(fmt(result.truth.get(k), 5) for k in names) + " |")
    lines += ["", "| quantity | baseline | min | max | relative spread | moves more than "
              f"{result.threshold:.0%} |", "|---|---|---|---|---|---|"]
    for k, s in result.spread.items():
        lines.append(f"| {k} | {fmt(s['baseline'], 5)} | {fmt(s['min'], 5)} | {fmt(s['max'], 5)} "
                     f"| {percent(s['relative_spread'])} | {'yes' if s['flagged'] else 'no'} |")
    image = f"sensitivity_{result.name}.png"
    if image in images:
        lines += ["", f"![sensitivity]({image})"]
    return lines + [""]


def figures(result) -> Dict[str, Any]:
    return {f"sensitivity_{result.name}.png": sensitivity_figure(result)}


def sensitivity_figure(result):
    """One panel per quantity: its value under each variant (points coloured by kind of choice),
    the baseline (solid line) and the truth when known (dashed)."""
    plt = _pyplot()
    names = list(result.spread)
    cols = min(3, len(names))
    rows = int(np.ceil(len(names) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows + 0.8), squeeze=False)
    ok = [r for r in result.variants if "quantities" in r]
    groups = list(dict.fromkeys(r["group"] for r in ok))
    pos = np.arange(len(ok))
    for i, k in enumerate(names):
        ax = axes[i // cols, i % cols]
        for g, group in enumerate(groups):
            idx = [j for j, r in enumerate(ok) if r["group"] == group]
            ax.scatter(pos[idx], [ok[j]["quantities"][k] for j in idx], color=f"C{g}", s=22,
                       label=group, zorder=3)
        ax.axhline(result.spread[k]["baseline"], color="0.3", lw=1)
        if result.truth and k in result.truth:
            ax.axhline(result.truth[k], color="k", ls="--", lw=1, label="truth")
        ax.set_title(f"{k}: spread {percent(result.spread[k]['relative_spread'])}", fontsize=9)
        ax.set_xticks(pos, [r["variant"] for r in ok], rotation=90, fontsize=6)
        if i == 0:
            ax.legend(fontsize=6)
    for j in range(len(names), rows * cols):
        axes[j // cols, j % cols].axis("off")
    fig.suptitle(f"{result.name}: {result.law} on {result.dataset} under fitting choices")
    fig.tight_layout()
    return fig
