"""Report sections and figures of the `predict` and `allocate` tasks."""

from __future__ import annotations

from typing import Any, Dict, List

import numpy as np

from .markdown import fit_section
from .plots import _pyplot, fit_figure


def _g(v) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return ""
    return f"{v:.4g}" if isinstance(v, (float, np.floating)) else str(v)


def _iv(row: Dict[str, Any], q: str) -> str:
    lo, hi = row.get(f"{q}_lower"), row.get(f"{q}_upper")
    return f"{_g(lo)} - {_g(hi)}" if lo is not None and hi is not None else ""


def _fit_lines(task, images, kind: str) -> List[str]:
    """The fit behind an analysis, as a sub-section with its checklist."""
    if task.fit is None:
        return []
    from types import SimpleNamespace

    view = SimpleNamespace(name=task.name, dataset=task.dataset, fit=task.fit, law=task.law,
                           truth=None, notes=list(getattr(task, "data_notes", [])),
                           rows=task.rows)
    lines = fit_section(view, images)
    lines[0] = f"### Fit behind `{task.name}`: `{task.fit.law.name}` on `{task.dataset}`"
    return lines


# --- allocate -------------------------------------------------------------------------------

APPROACH_NAMES = {1: "1: training-curve envelope", 2: "2: IsoFLOP parabolas",
                  3: "3: fitted law"}


def allocate_markdown(task, images=frozenset()) -> List[str]:
    level = f"{task.level:.0%}"
    lines = [f"## Task `{task.name}`: compute-optimal allocation on `{task.dataset}`", ""]
    lines += [f"| approach | C (FLOP) | N_opt | {level} interval | D_opt | {level} interval | "
              f"D/N | {level} interval | a (N_opt ~ C^a) | {level} interval |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for row in sorted(task.allocations, key=lambda r: (r["C"], r["approach"])):
        name = APPROACH_NAMES[row["approach"]]
        if row["approach"] == 3:
            name += f" ({row['method'].replace('_', ' ')})"
        a = _g(row.get("a")) + (f" (SE {_g(row['a_se'])})" if row.get("a_se") is not None else "")
        lines.append(f"| {name} | {_g(row['C'])} | {_g(row['N_opt'])} | {_iv(row, 'N_opt')} | "
                     f"{_g(row['D_opt'])} | {_iv(row, 'D_opt')} | {_g(row['tokens_per_param'])} | "
                     f"{_iv(row, 'tokens_per_param')} | {a} | {_iv(row, 'a')} |")
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
    lines += _fit_lines(task, images, "allocate")
    return lines


def frontier_curves(task, grid) -> Dict[str, Any]:
    """Approach 3's N_opt along ``grid`` of budgets: estimate and (lower, upper) band or None."""
    from ..tasks.allocate import allocation

    fit = task.fit
    params = {k: np.asarray([v]) for k, v in fit.params.items()}
    best = allocation(fit.law, params, grid, task.method)["N_opt"][0]
    band = None
    unc = fit.uncertainty
    if unc is not None and unc.draws is not None:
        draws = {k: np.asarray(v)[:200] for k, v in unc.draws.items()}
        n = allocation(fit.law, draws, grid, task.method)["N_opt"]
        band = tuple(np.nanpercentile(n, [50 * (1 - unc.level), 50 * (1 + unc.level)], axis=0))
    return {"N_opt": best, "band": band}


def allocate_figures(task) -> Dict[str, Any]:
    plt = _pyplot()
    out: Dict[str, Any] = {}
    budgets = np.asarray(task.budgets, dtype=float)
    data_c = []
    if "N" in task.inputs and "D" in task.inputs and len(task.target):
        data_c = list(6.0 * task.inputs["N"] * task.inputs["D"])
    data_c += [s["C"] for s in task.slices]
    lo = min(data_c + list(budgets)) / 2
    hi = max(data_c + list(budgets)) * 2
    grid = np.geomspace(lo, hi, 40)
    fig, ax = plt.subplots(figsize=(7, 5))
    if task.fit is not None and task.method is not None:
        curves = frontier_curves(task, grid)
        ax.plot(grid, curves["N_opt"], color="C1", label="approach 3 (fitted law)")
        if curves["band"] is not None:
            ax.fill_between(grid, curves["band"][0], curves["band"][1], color="C1", alpha=0.25,
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
    out[f"frontier_{task.name}.png"] = fig
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


# --- predict --------------------------------------------------------------------------------

def predict_markdown(task, images=frozenset()) -> List[str]:
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
        cells = [_g(r[n]) for n in inputs] + [_g(r["prediction"])]
        if unc is not None:
            cells += [_g(r.get("se")), _iv({"x_lower": r.get("ci_lower"),
                                            "x_upper": r.get("ci_upper")}, "x"),
                      _iv({"x_lower": r.get("pi_lower"), "x_upper": r.get("pi_upper")}, "x")]
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
    lines += _fit_lines(task, images, "predict")
    return lines


def predict_figures(task) -> Dict[str, Any]:
    """The fit plot with the predicted points (and their intervals) added."""
    fig = fit_figure(task)
    ax = fig.axes[0]
    law = task.fit.law
    curves = bool(getattr(law, "id_inputs", ()))
    # A curve law (lr_annealing) is drawn against its plot_x (step), not its run id.
    first = (getattr(law, "plot_x", None) if curves else None) or law.inputs[0]
    from .plots import confidence_band

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
