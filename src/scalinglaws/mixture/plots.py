"""Figures of mixture results (matplotlib, Agg): the optimal mixture with its bootstrap
whiskers, the predicted target around the optimum, the frontier against the token budget, and
the fitted law against the observed losses."""

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


def surface_figure(opt, name: str, grid: int = 81):
    """The predicted target around the optimum.

    Two sources: the target along r_1 in [0, 1], the feasible interval shaded. More: a heatmap over
    the proportions (x, y) of the optimum's two largest sources, within their bounds, the others
    sharing 1 - x - y in the optimum's ratio (equally if the optimum gives them nothing);
    infeasible mixtures are masked (grey) and the optimum is starred.
    """
    from ..report.plots import _pyplot

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
    from ..report.plots import _pyplot

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


def fit_figure(result):
    """Predicted against observed loss, one panel per validation domain; training runs as grey
    dots, each held-out set with its own marker."""
    from ..report.plots import _MARKERS, _pyplot

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
