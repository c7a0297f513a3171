"""Report section and figure of the `fit_mixture` task (kind ``mixture_fit``). The section is
written from the result's results.json entry (``to_json()``), so a result rebuilt from results.json
gets the same text; the figure needs the run's points, which a rebuilt result lacks (it draws none,
and the run's file stays)."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping

import numpy as np

from ..core.objectives import describe_loss
from ..results import fmt
from .plots import _MARKERS, _pyplot


def markdown(result, images=frozenset()) -> List[str]:
    return section(result.to_json(), images)


def section(data: Mapping[str, Any], images=frozenset()) -> List[str]:
    """The fit's lines of report.md from its results.json entry (also the first part of an
    `optimise_mixture` task's section)."""
    lines = [f"## Task `{data['name']}`: fit `{data['law']}` to `{data['dataset']}`", "",
             f"- Law: `{data['formula']}` ({data['reference']})",
             f"- Runs: {data['n_runs']}; sources: {len(data['sources'])}; "
             f"domains: {len(data['domains'])}"]
    est = data["estimator"]
    loss = describe_loss(est.get("loss", "squared"), est.get("delta", 1.0), est.get("loss_args"))
    lines.append(f"- Fit: {est.get('method')}, {loss} on log residuals"
                 + (f"; bootstrap: {est.get('n_bootstrap')} resamples of the runs (seed "
                    f"{est.get('seed')})" if est.get("n_bootstrap") else "; no bootstrap"))
    lines += [f"- Data: {n}" for n in data["notes"]]
    evaluation = data["evaluation"]
    labels = list(evaluation)
    # Spearman's rho needs at least three held-out runs; the MAE is the held-out error.
    ranked = [lb for lb in labels if next(iter(evaluation[lb].values()))["n"] >= 3]
    head = ("| domain | c | rmse (log, train) |" + "".join(f" rho `{lb}` |" for lb in ranked)
            + "".join(f" MAE `{lb}` |" for lb in labels))
    lines += ["", head, "|---|---|---|" + "---|" * (len(ranked) + len(labels))]
    for d, params, diagnostics in zip(data["domains"], data["params"], data["diagnostics"]):
        cells = [d, fmt(params["c"]) if "c" in params else "-", fmt(diagnostics["rmse_log"], 3)]
        cells += [fmt(evaluation[lb][d]["spearman"]) for lb in ranked]
        cells += [fmt(evaluation[lb][d]["mae"], 3) for lb in labels]
        lines.append("| " + " | ".join(cells) + " |")
    image = f"mixture_fit_{data['name']}.png"
    if image in images:
        lines += ["", f"![predicted against observed loss]({image})"]
    return lines + [""]


def figures(result) -> Dict[str, Any]:
    """``mixture_fit_<task>.png``: predicted against observed loss, one panel per domain,
    training runs and held-out sets marked apart (none without the run's points)."""
    if not result.points:
        return {}
    return {f"mixture_fit_{result.name}.png": fit_figure(result)}


def fit_figure(result):
    """Predicted against observed loss, one panel per validation domain; training runs as grey
    dots, each held-out set with its own marker."""
    plt = _pyplot()
    domains = result.fitted.domains
    n = len(domains)
    cols = min(4, n)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 3.0 * rows), squeeze=False)
    for i, d in enumerate(domains):
        ax = axes[i // cols][i % cols]
        lo, hi = np.inf, -np.inf
        for k, (label, (pred, obs)) in enumerate(result.points.items()):
            train = k == 0
            # held-out sets hollow, so that points on top of training runs stay visible
            ax.scatter(obs[:, i], pred[:, i], s=10 if train else 24,
                       marker="." if train else _MARKERS[(k - 1) % len(_MARKERS)],
                       facecolors="0.55" if train else "none",
                       edgecolors="0.55" if train else f"C{k - 1}", label=label, zorder=2 + k)
            lo, hi = min(lo, obs[:, i].min(), pred[:, i].min()), max(hi, obs[:, i].max(),
                                                                     pred[:, i].max())
        ax.plot([lo, hi], [lo, hi], color="k", lw=0.7)
        ax.set_title(d, fontsize=9)
        ax.set_xlabel("observed loss", fontsize=8)
        ax.set_ylabel("predicted loss", fontsize=8)
        ax.tick_params(labelsize=7)
        if i == 0:
            ax.legend(fontsize=7)
    for j in range(n, rows * cols):
        axes[j // cols][j % cols].set_visible(False)
    fig.suptitle(f"{result.name}: {result.fitted.law.name}, predicted against observed", fontsize=10)
    fig.tight_layout()
    return fig
