"""Report section and figures of the `allocate` task: the allocations of every approach, the
compute-optimal frontier (frontier_<task>.png), the IsoFLOP slices (isoflop_<task>.png) and the
fit behind approach 3 (fit_<task>.png)."""

from __future__ import annotations

from typing import Any, Dict, List

import numpy as np

from ..results import RecordedLaw
from .markdown import cell, fit_behind, interval_cell
from .plots import _pyplot, fit_figure

APPROACH_NAMES = {1: "1: training-curve envelope", 2: "2: IsoFLOP parabolas",
                  3: "3: fitted law"}


def markdown(task, images=frozenset()) -> List[str]:
    level = f"{task.level:.0%}"
    lines = [f"## Task `{task.name}`: compute-optimal allocation on `{task.dataset}`", ""]
    lines += [f"| approach | C (FLOP) | N_opt | {level} interval | D_opt | {level} interval | "
              f"D/N | {level} interval | a (N_opt ~ C^a) | {level} interval |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for row in sorted(task.allocations, key=lambda r: (r["C"], r["approach"])):
        name = APPROACH_NAMES[row["approach"]]
        if row["approach"] == 3:
            name += f" ({row['method'].replace('_', ' ')})"
        a = cell(row.get("a")) + (f" (SE {cell(row['a_se'])})" if row.get("a_se") is not None else "")
        lines.append(f"| {name} | {cell(row['C'])} | {cell(row['N_opt'])} | "
                     f"{interval_cell(row, 'N_opt')} | {cell(row['D_opt'])} | "
                     f"{interval_cell(row, 'D_opt')} | {cell(row['tokens_per_param'])} | "
                     f"{interval_cell(row, 'tokens_per_param')} | {a} | {interval_cell(row, 'a')} |")
    lines.append("")
    text = "Intervals: approach 3 from the fit's uncertainty (see the checklist below)"
    for approach in (2, 1):
        rows = [r for r in task.allocations if r["approach"] == approach]
        if not rows:
            continue
        if rows[0].get("interval") == "bootstrap":
            text += (f"; approach {approach} from {rows[0]['n_resamples']} resamples of the rows "
                     "within each IsoFLOP slice, every parabola and the regression refitted")
        else:
            text += (f"; approach {approach} from the least-squares regression of log N_opt on "
                     "log C over the per-compute minima (the error of each minimum is not "
                     "propagated)")
    lines.append(text + ".")
    lines.append("")
    for name, label in ((f"frontier_{task.name}.png", "frontier"),
                        (f"isoflop_{task.name}.png", "IsoFLOP curves")):
        if name in images:
            lines += [f"![{label}]({name})", ""]
    for note in task.notes:
        prefix = "Warning: " if note.startswith("Approach 2 (") else "Note: "
        lines += [f"- {prefix}{note}"]
    lines.append("")
    lines += fit_behind(task, images, task.data_notes)
    return lines


def figures(task) -> Dict[str, Any]:
    """The frontier (approach 3's N_opt along ``task.frontier``'s grid of budgets with its band,
    the regressions of approaches 1 and 2, the budgets), the IsoFLOP parabolas and the fit; none
    when approach 3's law is known only by its record."""
    if task.fit is not None and isinstance(task.fit.law, RecordedLaw):
        return {}
    plt = _pyplot()
    out: Dict[str, Any] = {}
    if task.frontier is not None:
        out[f"frontier_{task.name}.png"] = frontier_figure(task)
    if task.slices:
        fig, ax = plt.subplots(figsize=(7, 5))
        cmap = plt.get_cmap("viridis")
        for k, s in enumerate(task.slices):
            colour = cmap(k / max(len(task.slices) - 1, 1))
            n = np.asarray(s["N"])
            ax.scatter(n, s["loss"], s=14, color=colour, label=f"C ~ {s['C']:.2g}")
            u = np.linspace(np.log(n.min()), np.log(n.max()), 100)
            p0, p1, p2 = s["coef"]
            ax.plot(np.exp(u), p0 + p1 * u + p2 * u ** 2, color=colour, lw=1.2)
            ax.scatter([s["N_opt"]], [s["loss_opt"]], marker="x", s=60, color="red", zorder=4)
        ax.scatter([], [], marker="x", color="red", label="fitted minima")
        ax.set_xscale("log")
        ax.set_xlabel("N (parameters)")
        ax.set_ylabel("loss")
        ax.set_title(f"{task.name}: IsoFLOP slices (approach 2)")
        ax.legend(fontsize=7, ncol=2)
        fig.tight_layout()
        out[f"isoflop_{task.name}.png"] = fig
    if task.fit is not None and len(task.target):
        out[f"fit_{task.name}.png"] = fit_figure(task)
    return out


def frontier_figure(task):
    plt = _pyplot()
    f = task.frontier
    grid = np.asarray(f["C"], dtype=float)
    fig, ax = plt.subplots(figsize=(7, 5))
    if f.get("N_opt") is not None:
        ax.plot(grid, np.asarray(f["N_opt"], dtype=float), color="C1",
                label="approach 3 (fitted law)")
        if f.get("lower") is not None:
            ax.fill_between(grid, np.asarray(f["lower"], dtype=float),
                            np.asarray(f["upper"], dtype=float), color="C1", alpha=0.25,
                            lw=0, label=f"approach 3, {task.level:.0%} band")
    markers = {1: ("C2", "^"), 2: ("C0", "o")}
    for approach in (1, 2):
        rows = [r for r in task.allocations if r["approach"] == approach]
        if not rows:
            continue
        colour, marker = markers[approach]
        m = rows[0]["minima"]
        ax.scatter(m["C"], m["N_opt"], color=colour, marker=marker, zorder=3,
                   label=f"approach {approach} minima")
        a = rows[0]["a"]
        c0, n0 = rows[0]["C"], rows[0]["N_opt"]
        ax.plot(grid, n0 * (grid / c0) ** a, color=colour, ls="--",
                label=f"approach {approach} fit (a = {a:.3f})")
    for r in task.allocations:
        if r["approach"] == 3:
            ax.errorbar([r["C"]], [r["N_opt"]],
                        yerr=None if r.get("N_opt_lower") is None else
                        [[r["N_opt"] - r["N_opt_lower"]], [r["N_opt_upper"] - r["N_opt"]]],
                        color="k", marker="*", ms=10, zorder=4, capsize=3)
    ax.plot([], [], "k*", label="budgets")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("compute C (FLOP)")
    ax.set_ylabel("compute-optimal N")
    ax.set_title(f"{task.name}: compute-optimal frontier")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
