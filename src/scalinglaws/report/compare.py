"""Report section and figure of the `compare` task: criteria, held-out error, the compute
multiplier and the verdict; fitted laws with bootstrap bands and held-out error
(compare_<task>.png), drawn from what the result holds (``curves``)."""

from __future__ import annotations

from typing import Any, Dict, List

import numpy as np

from ..results import fmt
from .markdown import percent
from .plots import _pyplot


def markdown(result, images=frozenset()) -> List[str]:
    pct = f"{result.level:.0%}"
    lines = [f"## Task `{result.name}`: compare {', '.join(c['name'] for c in result.candidates)}", "",
             "| candidate | dataset | law | points | params | NLL | AIC | BIC | held-out runs "
             f"| held-out ARE (mean) | {pct} interval | max ARE |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for c in result.candidates:
        lo, hi = c["heldout_are_interval"]
        lines.append(f"| {c['name']} | {c['dataset']} | {c['law']} | {c['n_points']} | "
                     f"{c['n_params']} | {fmt(c['nll'], 5)} | {fmt(c['aic'], 5)} | "
                     f"{fmt(c['bic'], 5)} | {c['n_test']} ({c['scale_column']} > "
                     f"{fmt(c['cut'], 3)}) | {percent(c['heldout_are_mean'])} | "
                     f"[{percent(lo)}, {percent(hi)}] | {percent(c['heldout_are_max'])} |")
    lines.append("")
    if result.multiplier is not None:
        m = result.multiplier
        lines += [f"Effective compute multiplier of `{m['other']}` over `{m['baseline']}` "
                  f"({m['allocation']} allocation): m with L_{m['baseline']}(m C) = "
                  f"L_{m['other']}(C).", "",
                  f"| budget C | multiplier m | {pct} interval |", "|---|---|---|"]
        for row in m["budgets"]:
            lo, hi = row["interval"]
            lines.append(f"| {row['budget']:.3g} | {fmt(row['multiplier'])} | "
                         f"[{fmt(lo)}, {fmt(hi)}] |")
        lines.append("")
    lines += ["Verdict:", "", "| criterion | better | than | difference | exceeds uncertainty |",
              "|---|---|---|---|---|"]
    for v in result.verdict:
        lines.append(f"| {v['criterion']} | {v['better']} | {v['than']} | {v['difference']} | "
                     f"{'yes' if v['exceeds_uncertainty'] else 'no'} |")
    image = f"compare_{result.name}.png"
    if image in images:
        lines += ["", f"![compare]({image})"]
    lines += ["", "AIC/BIC use the Huber likelihood p(r) = exp(-rho(r)/s)/Z(s) with s fitted "
              "(scalinglaws.tasks.compare); they compare candidates on the same dataset only. "
              f"Intervals: percentile bootstrap, {result.n_bootstrap} resamples of the runs.", ""]
    return lines


def figures(result) -> Dict[str, Any]:
    return {f"compare_{result.name}.png": compare_figure(result)}


def compare_figure(result):
    """Left: observed loss against scale per dataset, each candidate's fitted curve and its
    bootstrap band. Right: held-out error per candidate with its interval."""
    plt = _pyplot()
    fig, (ax, ax_err) = plt.subplots(1, 2, figsize=(11, 4.5), gridspec_kw={"width_ratios": [3, 2]})
    shown: set = set()
    for j, c in enumerate(result.curves):
        colour = f"C{j}"
        if c["dataset"] not in shown:  # a dataset's runs once, in the colour of its first candidate
            shown.add(c["dataset"])
            ax.scatter(c["scale"], c["observed"], s=14, color=colour, alpha=0.7,
                       label=f"{c['dataset']} observed", zorder=3)
        if c.get("x") is None:
            continue
        ax.plot(c["x"], c["fitted"], color=colour, lw=1.5, label=f"{c['name']} fitted ({c['law']})")
        ax.fill_between(c["x"], c["lower"], c["upper"], color=colour, alpha=0.2, lw=0)
    for cand in result.candidates[:1]:
        ax.axvline(cand["cut"], color="0.4", ls=":", lw=1, label="held-out cut")
    for b in result.budgets:
        ax.axvline(b, color="0.7", ls="--", lw=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    if result.curves:
        ax.set_xlabel(result.curves[0]["scale_column"])
        ax.set_ylabel(result.curves[0]["target"])
    ax.set_title(f"{result.name}: fitted laws with {result.level:.0%} bootstrap bands")
    ax.legend(fontsize=7)
    names = [c["name"] for c in result.candidates]
    means = np.array([c["heldout_are_mean"] for c in result.candidates])
    lo = np.array([np.nan if c["heldout_are_interval"][0] is None else c["heldout_are_interval"][0]
                   for c in result.candidates], dtype=float)
    hi = np.array([np.nan if c["heldout_are_interval"][1] is None else c["heldout_are_interval"][1]
                   for c in result.candidates], dtype=float)
    pos = np.arange(len(names))
    ax_err.bar(pos, means, color=[f"C{j}" for j in range(len(names))], alpha=0.8)
    ax_err.errorbar(pos, means, yerr=[np.maximum(means - np.nan_to_num(lo, nan=0.0), 0),
                                      np.maximum(np.nan_to_num(hi, nan=0.0) - means, 0)],
                    fmt="none", color="k", capsize=4)
    ax_err.set_xticks(pos, names, rotation=20, fontsize=8)
    ax_err.set_ylabel("held-out absolute relative error (mean)")
    ax_err.set_title("extrapolation error above the cut")
    fig.tight_layout()
    return fig
