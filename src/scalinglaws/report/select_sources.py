"""Report section and figure of the `select_sources` task (projektor, Kang et al. 2023)."""

from __future__ import annotations

from typing import Any, Dict, List

import numpy as np

from ..mixture.projektor import FORMULA, REFERENCE
from .plots import _pyplot


def markdown(result, images=frozenset()) -> List[str]:
    n1, n2 = result.sizes
    lines = [f"## Task `{result.name}`: projektor source selection from `{result.dataset}`", "",
             f"- Model: `{FORMULA}` ({REFERENCE})",
             f"- Pilot sizes N1 = {n1:g}, N2 = {n2:g}; target N = {result.target_size:g} "
             f"({'interpolation' if n1 <= result.target_size <= n2 else 'extrapolation'} in ln N); "
             f"goal: {result.goal}; OT: entropic, eps = {result.eps:g} x max cost"]
    for note in result.notes:
        lines.append(f"- Data: {note}")
    lines += ["", "| pilot size | runs | rmse | max abs error | condition |", "|---|---|---|---|---|"]
    for n, f in result.fits.items():
        lines.append(f"| {n:g} | {f['n_runs']} | {f['rmse']:.3g} | {f['max_abs_error']:.3g} | "
                     f"{f['condition']:.3g} |")
    if result.held_out:
        h = result.held_out
        lines += ["", f"Held-out runs ({h['n']} at N = "
                  f"{', '.join(f'{v:g}' for v in h['sizes'])}): projected from N1, N2 with "
                  f"mean absolute error {h['mae']:.4g} (max {h['max_abs_error']:.4g})."]
    image = f"projektor_{result.name}.png"
    mapped = ""
    if result.ot_by_size:
        mapped = ", mapped in ln N from " + ", ".join(
            f"{v['ot']:.4g} at N = {n:g}" for n, v in result.ot_by_size.items())
    lines += ["", f"### Chosen mixture at N = {result.target_size:g}", "",
              f"Predicted performance **{result.predicted:.5g}** (OT distance {result.ot:.4g}"
              f"{mapped}); "
              f"{result.n_starts} starts (spread of their values {result.start_spread:.2g}); "
              f"first-order violation {result.stationarity:.2g}."]
    if image in images:
        lines += ["", f"![projektor]({image})"]
    lines += ["", "| source | proportion | bounds | active | calibrated OT gradient |",
              "|---|---|---|---|---|"]
    for j, s in enumerate(result.sources):
        active = "lower" if result.at_lower[j] else ("upper" if result.at_upper[j] else "")
        lines.append(f"| {s} | {result.proportions[j]:.4f} | [{result.lower[j]:.3g}, "
                     f"{result.upper[j]:.3g}] | {active} | {result.ot_gradient[j]:.3g} |")
    lines += ["", "Calibrated OT gradient: dOT/dp_i centred over sources (negative: more of "
              "the source brings the mixture closer to the validation set)"
              + ("; each pilot size has its own revealed samples, and the gradient shown is "
                 "the log-N mapping of theirs." if result.ot_by_size else "."), "",
              "| mixture | predicted | OT distance |", "|---|---|---|",
              f"| chosen | {result.predicted:.5g} | {result.ot:.4g} |"]
    for c in result.comparisons:
        lines.append(f"| {c['name']} | {c['predicted']:.5g} | {c['ot']:.4g} |")
    return lines + [""]


def figures(result) -> Dict[str, Any]:
    """``projektor_<task>.png``: fitted against observed pilot performance; chosen mixture."""
    plt = _pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4.2))
    obs, fit, size = (result.pilots[k] for k in ("performance", "fitted", "size"))
    for k, n in enumerate(result.sizes):
        m = size == n
        ax1.scatter(obs[m], fit[m], s=14, color=f"C{k}", label=f"N = {n:g} (fitted)")
    if result.held_out:
        h = result.held_out
        ax1.scatter(h["observed"], h["predicted"], s=18, marker="x", color="C3",
                    label="held out (projected)")
    lo, hi = float(np.nanmin(obs)), float(np.nanmax(obs))
    ax1.plot([lo, hi], [lo, hi], "k--", lw=0.8)
    ax1.set_xlabel("observed")
    ax1.set_ylabel("model")
    ax1.legend(fontsize=7)
    x = np.arange(len(result.sources))
    ax2.bar(x, result.proportions, color="C0")
    ax2.set_xticks(x)
    ax2.set_xticklabels(result.sources, rotation=30, ha="right", fontsize=8)
    ax2.set_ylabel("proportion")
    ax2.set_title(f"N = {result.target_size:g}: predicted {result.predicted:.4g}", fontsize=10)
    fig.tight_layout()
    return {f"projektor_{result.name}.png": fig}
