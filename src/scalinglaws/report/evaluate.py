"""Report section and figure of the `evaluate` task: held-out, leave-largest-out, k-fold and
learning-curve errors; predictions of the held-out runs and the learning curves
(evaluate_<task>.png)."""

from __future__ import annotations

from typing import Any, Dict, List

import numpy as np

from .plots import _pyplot


def markdown(result, images=frozenset()) -> List[str]:
    lines = [f"## Task `{result.name}`: evaluate extrapolation of "
             f"{', '.join(c['name'] for c in result.candidates)}", "",
             "Absolute relative error |predicted - observed| / observed of runs the fit did not "
             "see (Choshen et al. 2024).", ""]
    if result.step:
        lines += [f"Checkpoints: rows are intermediate checkpoints (`{result.step}`); the first "
                  f"{result.discard:.0%} of each run's steps are discarded and a held-out run is "
                  "scored at its last checkpoint.", ""]
    lines += ["| candidate | law | fitted rows | cut | held-out runs | mean ARE | max ARE | "
              "leave-largest-out ARE | runs needed |", "|---|---|---|---|---|---|---|---|---|"]
    for c in result.candidates:
        h = c["holdout"]
        llo = c.get("leave_largest_out", {})
        lc = c.get("learning_curve")
        needed = "-"
        if lc is not None:
            needed = (f"{lc['n_scales_needed']} of {lc['n_scales_available']} scales"
                      if lc["n_scales_needed"] is not None
                      else f"> {lc['n_scales_available']} (target {lc['target_error']:.1%})")
        llo_s = f"{llo['are_mean']:.3%}" if "are_mean" in llo else "-"
        lines.append(f"| {c['name']} | {c['law']} | {h['n_train']} | {c['scale_column']} <= "
                     f"{h['cut']:.4g} | {h['n_test']} | {h['are_mean']:.3%} | "
                     f"{h['are_max']:.3%} | {llo_s} | {needed} |")
    lines.append("")
    for c in result.candidates:
        if c.get("kfold"):
            lines += [f"k-fold by scale, `{c['name']}`:", "",
                      "| fold | scale range | held out | mean ARE | max ARE | kind |",
                      "|---|---|---|---|---|---|"]
            for f in c["kfold"]:
                if "error" in f:
                    lines.append(f"| {f['fold']} | - | - | - | - | {f['error']} |")
                    continue
                a, b = f["scale_range"]
                lines.append(f"| {f['fold']} | {a:.3g} - {b:.3g} | {f['n_test']} | "
                             f"{f['are_mean']:.3%} | {f['are_max']:.3%} | "
                             f"{'extrapolation' if f['extrapolation'] else 'interpolation'} |")
            lines.append("")
        lc = c.get("learning_curve")
        if lc and lc["points"]:
            lines += [f"Learning curve, `{c['name']}` (error above the cut against the number "
                      "of smallest scales fitted):", "",
                      "| smallest scales used | up to | rows | mean ARE |", "|---|---|---|---|"]
            for q in lc["points"]:
                lines.append(f"| {q['n_scales']} | {q['largest_scale']:.3g} | {q['n_rows']} | "
                             f"{q['are_mean']:.3%} |")
            lines.append("")
    image = f"evaluate_{result.name}.png"
    if image in images:
        lines += [f"![evaluate]({image})", ""]
    return lines


def figures(result) -> Dict[str, Any]:
    return {f"evaluate_{result.name}.png": evaluate_figure(result)}


def evaluate_figure(result):
    """Left: observed target against scale, fitted region and held-out region (shaded), and each
    candidate's predictions of the held-out runs. Right: the learning curves."""
    plt = _pyplot()
    has_curve = any(c.get("learning_curve", {}).get("points") for c in result.candidates)
    fig, axes = plt.subplots(1, 2 if has_curve else 1, figsize=(11 if has_curve else 7, 4.5),
                             squeeze=False)
    ax = axes[0, 0]
    cut = result.candidates[0]["holdout"]["cut"]
    shown = set()
    hi = max(float(np.max(c["holdout"]["scale"])) for c in result.candidates)
    ax.axvspan(cut, hi * 1.5, color="0.85", alpha=0.6, lw=0, label="held out")
    for j, c in enumerate(result.candidates):
        h = c["holdout"]
        order = np.argsort(h["scale"])
        if c["dataset"] not in shown:
            shown.add(c["dataset"])
            ax.scatter(h["fit_scale"], h["fit_observed"], s=14, color="0.35", zorder=3,
                       label=f"{c['dataset']}: fitted runs")
            ax.scatter(h["scale"], h["observed"], s=30, facecolors="none", edgecolors="k", zorder=3,
                       label=f"{c['dataset']}: held-out observed")
        line = "-" if c.get("one_input") else "none"  # one-input laws: a curve; else per-run marks
        xs = np.concatenate([h["fit_scale"], h["scale"]])
        ps = np.concatenate([h["fit_predicted"], h["predicted"]])
        every = np.argsort(xs)
        ax.plot(xs[every], ps[every], ls=line, lw=1.0, color=f"C{j}", alpha=0.6)
        ax.plot(h["scale"][order], h["predicted"][order], marker="x", ms=6, ls=line, color=f"C{j}",
                lw=1.4, label=f"{c['name']} predicted (mean ARE {h['are_mean']:.2%})")
    ax.axvline(cut, color="0.3", ls=":", lw=1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(result.candidates[0]["scale_column"])
    ax.set_ylabel("target")
    ax.set_title(f"{result.name}: fitted at or below the cut, scored above")
    ax.legend(fontsize=7)
    if has_curve:
        ax2 = axes[0, 1]
        for j, c in enumerate(result.candidates):
            pts = c.get("learning_curve", {}).get("points") or []
            if pts:
                ax2.plot([q["n_scales"] for q in pts], [max(q["are_mean"], 1e-9) for q in pts],
                         marker="o", color=f"C{j}", label=c["name"])
        target = result.candidates[0]["learning_curve"]["target_error"]
        ax2.axhline(target, color="0.5", ls="--", lw=1, label=f"target {target:.1%}")
        ax2.set_yscale("log")
        ax2.set_xlabel("number of smallest scale values fitted")
        ax2.set_ylabel("mean absolute relative error above the cut")
        ax2.set_title("how many small runs are needed")
        ax2.legend(fontsize=7)
    fig.tight_layout()
    return fig
