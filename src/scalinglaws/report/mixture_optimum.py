"""Report section and figures of the `optimise_mixture` task (kind ``mixture_optimum``).

As for `fit_mixture` (:mod:`.mixture_fit`), the section is written from the results.json entry, in
the order of the sources and domains (results.json sorts its keys), and the figures need what a
result rebuilt from results.json lacks (the fitted law, the bootstrap draws)."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping

import numpy as np

from . import mixture_fit
from .plots import _pyplot


def markdown(result, images=frozenset()) -> List[str]:
    data = result.to_json()
    name, opt, fit = data["name"], data["optimum"], data["fit"]
    sources, domains = fit["sources"], fit["domains"]
    spending = opt.get("spending") or {}
    spend = spending.get("limit")
    boot = opt.get("bootstrap")
    if opt["target_expression"] is not None:
        target = opt["target_expression"]
    else:
        weights = opt["target_weights"]
        target = " + ".join(f"{weights[d]:g} x {d}" for d in domains if weights[d] > 0)
    lines = mixture_fit.section(fit, images)
    lines += [f"### Chosen mixture (task `{name}`)", "",
              f"Minimise {target} over the capped simplex"
              + (f", budget T = {opt['budget']:.4g} tokens" if opt["budget"] is not None else "")
              + (f", spending at most {spend:.6g}" if spend is not None else "")
              + f": predicted target loss **{opt['objective']:.5g}**"]
    if boot is not None:
        lines[-1] += (f" (90% bootstrap interval {boot['objective_lower']:.5g} to "
                      f"{boot['objective_upper']:.5g}, {boot['n_draws']} draws)")
    lines[-1] += (f"; {opt['n_at_best']} of {opt['n_starts']} starts reached the best; KKT "
                  f"violation {opt['kkt_violation']:.2g}.")
    if spend is not None:
        lines += ["", f"Spending: {spending['spent']:.6g} of {spend:.6g}"
                  + (f" (binding: one more unit of money is worth {spending['value_of_money']:.3g} "
                     "of target loss)" if spending["binds"] else " (not binding)") + "."]
    for image, alt in ((f"mixture_{name}.png", "optimal mixture"),
                       (f"mixture_{name}_surface.png", "predicted target around the optimum")):
        if image in images:
            lines += ["", f"![{alt}]({image})"]
    lines += _table(opt, sources)
    lines += _comparisons(data, sources)
    lines += _frontier(data, sources, images)
    return lines


def _table(opt: Mapping[str, Any], sources) -> List[str]:
    """One row per source: proportion, interval, bounds, active constraint, epochs, spending,
    marginal value."""
    boot = opt.get("bootstrap")
    epochs = opt.get("epochs")
    spending = opt.get("spending")
    head = (["source", "proportion"] + ["90% interval"] * (boot is not None) + ["bounds", "active"]
            + ["epochs"] * (epochs is not None) + ["spent"] * (spending is not None)
            + ["marginal value"])
    lines = ["", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for s in sources:
        p = opt["proportions"][s]
        cells = [s, f"{p:.4f}"]
        if boot is not None:
            cells.append(f"{boot['proportions_lower'][s]:.4f} - {boot['proportions_upper'][s]:.4f}")
        active = ("lower" if s in opt["active_lower"] else
                  ("availability cap" if s in opt["capped_by_availability"] else "upper")
                  if s in opt["active_upper"] else "")
        cells += [f"[{opt['lower'][s]:.3g}, {opt['upper'][s]:.3g}]", active]
        if epochs is not None:
            cells.append("-" if epochs[s] is None else f"{epochs[s]:.3g}")  # None: not finite
        if spending is not None:
            cells.append(f"{spending['cost_per_token'][s] * p * opt['budget']:.4g}")
        value = opt["marginal_value"][s]
        cells.append(f"{value:.3g}" if abs(value) > 1e-12 else "0")
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Marginal value: -(dF/dr_j + nu" + (" + mu c_j" if spending is not None else "")
              + "), the drop of the target loss per unit of proportion moved into the source "
              "from the free ones" + (" at the same spending" if spending is not None else "")
              + " (the KKT multiplier of an active cap; negative at a lower bound).", ""]
    return lines


def _comparisons(data: Mapping[str, Any], sources) -> List[str]:
    opt, sampling, comparisons = data["optimum"], data["sampling_baseline"], data["comparisons"]
    if not (comparisons or sampling):
        return []

    def mixture(proportions, digits: str, least: float) -> str:
        return ", ".join(f"{s} {proportions[s]:{digits}}" for s in sources
                         if s in proportions and proportions[s] > least)

    lines = ["| mixture | predicted target loss | proportions |", "|---|---|---|",
             f"| optimum | {opt['objective']:.5g} | {mixture(opt['proportions'], '.4f', 1e-3)} |"]
    if sampling:
        lines.append(f"| RegMix selection (top {sampling['top_k']} of {sampling['n_samples']} "
                     f"samples) | {sampling['objective']:.5g} | "
                     f"{mixture(sampling['proportions'], '.4f', 1e-3)} |")
    for c in comparisons:
        obj = f"{c['objective']:.5g}" if "objective" in c else "(partial mixture)"
        lines.append(f"| {c['name']} | {obj} | {mixture(c['proportions'], '.4g', -np.inf)} |")
    return lines + [""]


def _frontier(data: Mapping[str, Any], sources, images) -> List[str]:
    rows, name = data.get("frontier"), data["name"]
    if rows is None:
        return []
    lines = [f"#### Frontier: the optimum against the token budget (task `{name}`)", ""]
    image = f"mixture_{name}_frontier.png"
    if image in images:
        lines += [f"![frontier]({image})", ""]
    lines += ["| budget T | predicted target | " + " | ".join(sources)
              + " | at a cap | spending binds |",
              "|---|---|" + "---|" * len(sources) + "---|---|"]
    for row in rows:
        if not row["feasible"]:
            lines.append(f"| {row['budget']:.4g} | infeasible |" + " |" * len(sources) + " | |")
            continue
        lines.append(f"| {row['budget']:.4g} | {row['objective']:.5g} | "
                     + " | ".join(f"{row['proportions'][s]:.4f}" for s in sources)
                     + f" | {', '.join(row['capped'])} | {'yes' if row['spend_binds'] else ''} |")
    bad = [r for r in rows if not r["feasible"]]
    if bad:
        lines += ["", f"Infeasible at T = {bad[0]['budget']:.4g}: {bad[0]['reason']}"]
    return lines + [""]


def figures(result) -> Dict[str, Any]:
    """``mixture_<task>.png`` (the optimal mixture, bars with 90% bootstrap whiskers),
    ``mixture_<task>_surface.png`` (the predicted target around the optimum),
    ``mixture_<task>_frontier.png`` (with `frontier:`) and the fit's figure; none for a result
    rebuilt from results.json (no fitted law, no draws)."""
    if isinstance(result.optimum, Mapping):
        return {}
    out = {f"mixture_{result.name}.png": optimum_figure(result),
           f"mixture_{result.name}_surface.png": surface_figure(result.optimum, result.name)}
    if result.frontier is not None:
        out[f"mixture_{result.name}_frontier.png"] = frontier_figure(result.frontier, result.name)
    out.update(mixture_fit.figures(result.fit))
    return out


def optimum_figure(result):
    """Bar chart of the optimal proportions with 90% bootstrap whiskers and the caps."""
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


def surface_figure(opt, name: str, grid: int = 81):
    """The predicted target around the optimum.

    Two sources: the target along r_1 in [0, 1], the feasible interval shaded. More: a heatmap over
    the proportions (x, y) of the optimum's two largest sources, within their bounds, the others
    sharing 1 - x - y in the optimum's ratio (equally if the optimum gives them nothing);
    infeasible mixtures are masked (grey) and the optimum is starred.
    """
    plt = _pyplot()
    r = np.asarray(opt.proportions)
    s = len(r)
    if s == 2:
        x = np.linspace(0.0, 1.0, 401)
        rows = np.column_stack([1.0 - x, x])
        f = opt.evaluate(rows)
        ok = opt.feasible(rows)
        fig, ax = plt.subplots(figsize=(6.0, 4.0))
        ax.plot(x, f, color="C0", lw=1.5, label="predicted target")
        if np.any(ok):
            ax.axvspan(x[ok].min(), x[ok].max(), color="C2", alpha=0.15, label="feasible")
        ax.scatter([r[1]], [opt.objective], marker="*", s=160, color="C3", zorder=3,
                   label=f"optimum {opt.objective:.4g}")
        ax.set_xlabel(f"proportion of {opt.sources[1]} (rest: {opt.sources[0]})")
        ax.set_ylabel("predicted target loss")
        ax.legend(fontsize=8)
        ax.set_title(f"{name}: target along the mixture", fontsize=10)
        fig.tight_layout()
        return fig
    p, q = np.argsort(-r, kind="stable")[:2]
    rest = np.ones(s, bool)
    rest[[p, q]] = False
    share = np.where(rest, r, 0.0)
    share = share / share.sum() if share.sum() > 1e-12 else rest / rest.sum()
    # The box of the two sources' bounds (caps included): the feasible region, at full resolution.
    x, y = np.meshgrid(np.linspace(opt.lower[p], min(opt.upper[p], 1.0), grid),
                       np.linspace(opt.lower[q], min(opt.upper[q], 1.0), grid))
    xf, yf = x.ravel(), y.ravel()
    rows = np.clip(1.0 - xf - yf, 0.0, None)[:, None] * share[None, :]
    rows[:, p], rows[:, q] = xf, yf
    inside = xf + yf <= 1.0 + 1e-12
    f = np.where(inside, opt.evaluate(rows), np.nan)
    ok = inside & opt.feasible(rows)
    fig, ax = plt.subplots(figsize=(6.0, 5.0))
    ax.pcolormesh(x, y, np.where(inside & ~ok, 1.0, np.nan).reshape(x.shape), cmap="Greys",
                  vmin=0, vmax=3, shading="auto")
    masked = np.ma.masked_where(~ok.reshape(x.shape), f.reshape(x.shape))
    if masked.count():
        mesh = ax.pcolormesh(x, y, masked, cmap="viridis", shading="auto")
        fig.colorbar(mesh, ax=ax, label="predicted target loss")
        if masked.count() > 3:
            ax.contour(x, y, masked, levels=8, colors="w", linewidths=0.5)
    ax.plot([0, 1], [1, 0], color="k", lw=0.8)
    ax.scatter([r[p]], [r[q]], marker="*", s=180, color="C3", edgecolor="k", zorder=3,
               label=f"optimum {opt.objective:.4g}")
    ax.set_xlabel(f"proportion of {opt.sources[p]}")
    ax.set_ylabel(f"proportion of {opt.sources[q]}")
    ax.set_xlim(x.min(), x.max())
    ax.set_ylim(y.min(), y.max())
    ax.legend(fontsize=8, loc="upper right")
    ax.set_title(f"{name}: predicted target\n(other sources in the optimum's ratio; grey: "
                 "infeasible)", fontsize=9)
    fig.tight_layout()
    return fig


def frontier_figure(frontier, name: str):
    """Predicted target against the token budget (log axis), the optimal proportions stacked below."""
    plt = _pyplot()
    ok = frontier.feasible
    t = frontier.budgets[ok]
    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(7.0, 6.0),
                                      gridspec_kw={"height_ratios": [1, 1.3]})
    top.plot(t, frontier.objective[ok], "o-", color="C0", ms=4)
    top.set_xscale("log")
    top.set_ylabel("predicted target loss")
    title = f"{name}: optimum against the token budget"
    if np.any(frontier.spend_binds[ok]):
        # Without this, a target rising with T looks like a bug: a fixed spending limit buys a
        # smaller share of the priced sources as T grows.
        title += "\n(spending limit fixed: at larger T it covers a smaller share of priced sources)"
    top.set_title(title, fontsize=10)
    if np.any(~ok):
        for b in frontier.budgets[~ok]:
            top.axvline(b, color="C3", lw=0.8, ls=":")
        top.text(0.99, 0.95, "dotted: infeasible budgets", transform=top.transAxes, ha="right",
                 va="top", fontsize=7, color="C3")
    if len(t):
        bottom.stackplot(t, frontier.proportions[ok].T, labels=frontier.sources, alpha=0.85)
    bottom.set_xscale("log")
    bottom.set_ylim(0, 1)
    bottom.set_xlabel("token budget T")
    bottom.set_ylabel("optimal proportion")
    bottom.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    return fig
