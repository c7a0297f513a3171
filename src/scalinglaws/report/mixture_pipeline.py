"""Report section and figure of the `mixture_pipeline` task (nested step, size and mixing laws)."""

from __future__ import annotations

from typing import Any, Dict, List

import numpy as np

from ..mixture.pipeline import FORMULAS, REFERENCE
from .plots import _MARKERS, _pyplot


def markdown(result, images=frozenset()) -> List[str]:
    c, m, t = result.curves, result.main, result.task
    held = ", ".join(c.labels[i] for i in m.test) or "none"
    lines = [f"## Task `{result.name}`: nested mixing-law pipeline on "
             f"{', '.join(f'`{d}`' for d in result.datasets)}", "",
             f"- Reference: {REFERENCE}",
             f"- Step law `{FORMULAS['step']}` per (size, mixture, domain) on steps "
             + (f"{t.fit_steps_min:g} to " if t.fit_steps_min else "up to ")
             + f"{t.fit_steps_max:g}"
             + (f" ({', '.join(t.step_shared)} shared by the mixtures)" if t.step_shared else "")
             + f", predicted at step {t.target_step:g}",
             f"- Size law `{FORMULAS['size']}` per (mixture, domain) across sizes "
             f"{', '.join(f'{n:g}' for n in m.step.sizes)}"
             + (f" ({', '.join(t.size_shared)} shared by the mixtures of a domain)"
                if t.size_shared else "")
             + (f", fixed {dict(t.size_fixed)}" if t.size_fixed else "")
             + (" (skipped: one size, the target)" if m.size.skipped else "")
             + f", predicted at size {t.target_size:g}",
             f"- Mixing law `{FORMULAS['mixing']}` per domain on the {len(m.train)} training "
             f"mixtures ({'/'.join(c.sources)}); held out: {held}"]
    lines += [f"- Data: {n}" for n in result.notes]
    image = f"pipeline_{result.name}.png"
    if image in images:
        lines += ["", f"![pipeline]({image})"]
    titles = {"step": f"step law, {t.fit_steps_max:g} -> {t.target_step:g} (training mixtures)",
              "size": f"size law at size {t.target_size:g} (training mixtures, fit)",
              "held_out": "**pipeline, held-out mixture**",
              "mixing_only": "mixing law alone, on actual target losses (held-out mixture)",
              "leave_one_out": "**pipeline, leave-one-mixture-out**",
              "leave_one_out_mixing_only": "mixing law alone, leave-one-out"}
    lines += ["", "Errors at the target (size, step), prediction minus actual loss:", "",
              "| stage | domain | n | MAE | mean abs. rel. error | max abs. rel. error |",
              "|---|---|---|---|---|---|"]
    for stage, per in result.summary().items():
        for d, e in per.items():
            if e.get("n"):
                lines.append(f"| {titles[stage]} | {d} | {e['n']} | {e['mae']:.4g} | "
                             f"{e['rel']:.2%} | {e['max_rel']:.2%} |")
    lines += ["", "| fold | held-out mixture | domain | predicted | actual |",
              "|---|---|---|---|---|"]
    for fold, f in [("held out", m)] + [("leave-one-out", f) for f in result.loo]:
        for b, mi in enumerate(f.test):
            for i, d in enumerate(c.domains):
                lines.append(f"| {fold} | {c.labels[mi]} | {d} | {f.predicted[b, i]:.5g} | "
                             f"{f.actual[b, i]:.5g} |")
    return lines + [""]


def figures(result) -> Dict[str, Any]:
    """``pipeline_<task>.png``: per domain, the checkpoints, the step-law fits and the
    held-out prediction at the target."""
    return {f"pipeline_{result.name}.png": pipeline_figure(result)}


def pipeline_figure(result):
    """Per domain: the checkpoints by size and mixture, the step-law fits, and the pipeline's
    prediction (and the actual loss) at the target."""
    plt = _pyplot()
    c, m, t = result.curves, result.main, result.task
    fig, axes = plt.subplots(1, len(c.domains), figsize=(5.2 * len(c.domains), 4.4), squeeze=False)
    grid = np.geomspace(max(float(c.steps.min()), t.fit_steps_min or float(c.steps.min())),
                        max(float(c.steps.max()), t.target_step), 100)
    for i, (ax, d) in enumerate(zip(axes[0], c.domains)):
        for n_idx, n in enumerate(c.sizes):
            mk = _MARKERS[n_idx % len(_MARKERS)]
            for mi in range(len(c.mixtures)):
                color = f"C{mi % 10}"
                y = c.losses[n_idx, mi, i]
                fit = c.steps <= t.fit_steps_max
                ax.scatter(c.steps[fit], y[fit], s=12, marker=mk, color=color)
                ax.scatter(c.steps[~fit], y[~fit], s=12, marker=mk, facecolors="none",
                           edgecolors=color)
                a = np.flatnonzero(np.isclose(m.step.sizes, n))
                if mi in m.train and len(a):
                    p = m.step.params[a[0]][m.train.index(mi)][i]
                    ax.plot(grid, p["E"] + p["B"] * grid ** -p["beta"], color=color, lw=0.8,
                            label=f"{c.labels[mi]}" if n_idx == 0 else None)
                elif n_idx == 0:
                    ax.plot([], [], color=color, lw=0.8, ls=":", label=f"{c.labels[mi]} (held out)")
        for b in range(len(m.test)):
            ax.scatter([t.target_step], [m.predicted[b, i]], marker="*", s=140, color="k",
                       zorder=5, label=f"prediction at size {t.target_size:g}" if b == 0 else None)
            if np.isfinite(m.actual[b, i]):
                ax.scatter([t.target_step], [m.actual[b, i]], marker="x", s=60, color="C3",
                           zorder=6, label="actual" if b == 0 else None)
        ax.axvline(t.fit_steps_max, color="0.6", ls="--", lw=0.8)
        ax.set_xscale("log")
        ax.set_xlabel("step (filled: fitted; open: held out)")
        ax.set_ylabel(f"validation loss ({d})")
        sizes = ", ".join(f"{_MARKERS[k % len(_MARKERS)]} {n:g}" for k, n in enumerate(c.sizes))
        ax.set_title(f"{d}: step-law fits; markers by size ({sizes})", fontsize=9)
        ax.legend(fontsize=7, title=f"{'/'.join(c.sources)}", title_fontsize=7)
    fig.tight_layout()
    return fig
