"""The fitting checklist of report.md: what was fitted, how, and everything needed to reproduce
it (the section of a fit, and of the fit behind a prediction or an allocation)."""

from __future__ import annotations

from typing import Any, Dict, List

import numpy as np


def _fmt(v) -> str:
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def fit_section(task, images=frozenset(), *, notes=None, labels=None) -> List[str]:
    """The parameter table and fitting checklist of ``task.fit``. ``notes`` (how the data were
    derived) and ``labels`` (names of text run ids) default to the task's own (a fit task's)."""
    from ..core.objectives import describe_loss  # JAX only when a report is written

    fit = task.fit
    est = fit.estimator
    unc = fit.uncertainty
    notes = task.notes if notes is None else notes
    lines = [f"## Task `{task.name}`: fit `{fit.law.name}` to `{task.dataset}`", ""]
    ci = f" SE | {unc.level:.0%} interval |" if unc is not None else ""
    header = "| parameter | estimate |" + ci + (" truth | relative error |" if task.truth else "")
    lines += [header, "|---|---|" + ("---|---|" if unc is not None else "")
              + ("---|---|" if task.truth else "")]
    for row in task.rows():
        cells = [row["parameter"], _fmt(row["estimate"])]
        if unc is not None:
            cells += [_fmt(row.get("se", "")), _interval(row)]
        if task.truth:
            cells += [_fmt(row.get("truth", "")), f"{row['rel_error']:.2%}" if "rel_error" in row else ""]
        lines.append("| " + " | ".join(cells) + " |")
    loss = describe_loss(est.get("loss", "squared"), est.get("delta", 1.0), est.get("loss_args"))
    space = "log residuals, log y - log f(x)" if est.get("space") == "log" else "residuals y - f(x)"
    starts = (f"{fit.n_starts} starts ({est.get('starts')}); {fit.n_polished} polished to "
              f"convergence ({est.get('schedule')} schedule); {fit.n_at_best} reached the best "
              "objective (within 1e-6 relative)")
    image = f"fit_{task.name}.png"
    lines += ["", f"![fit]({image})", ""] if image in images else [""]
    lines += [
        "Fitting checklist:",
        "",
        f"- Law form: `{fit.law.formula}` ({fit.law.reference})",
        f"- Points used: {fit.n_points} from dataset `{task.dataset}`"
        + (f" (derived: {'; '.join(notes)})" if notes else ""),
        *_id_lines(task.labels if labels is None else labels),
        f"- Loss: {loss} on {space}, summed over points; objective {fit.objective:.10g}",
        _optimiser(est, fit),
        f"- Initialisation: {starts}",
        "- Uncertainty: " + (unc.describe() if unc is not None else "none (point estimate)"),
    ]
    warnings = fit.diagnostics.get("warnings")
    if warnings:  # scalinglaws.core.diagnostics (includes the few-starts-at-best warning)
        lines += [f"- Warning: {w}" for w in warnings]
    elif fit.n_at_best < 2:
        lines.append("- Warning: only one start reached the best objective; the optimum may be "
                     "fragile. Try `schedule: full` or more starts.")
    if unc is not None and unc.derived:
        lines += ["", "Derived quantities:", "", f"| quantity | estimate | SE | {unc.level:.0%} "
                  "interval |", "|---|---|---|---|"]
        for k, iv in unc.derived.items():
            lines.append(f"| {k} | {_fmt(iv.estimate)} | {_fmt(iv.se)} | "
                         f"{_fmt(iv.lower)} - {_fmt(iv.upper)} |")
    return lines + [""]


def _interval(row) -> str:
    if "lower" not in row:
        return ""
    return f"{_fmt(row['lower'])} - {_fmt(row['upper'])}"


def _optimiser(est, fit) -> str:
    if est.get("name") != "multistart":
        options = ", ".join(f"{k}={v}" for k, v in est.items() if k != "name")
        return f"- Optimiser: estimator `{est.get('name')}` ({options})"
    solver = {"lbfgs": "optax L-BFGS (zoom line search)",
              "adam": "optax Adam, survivors polished by Levenberg-Marquardt"}.get(
        est.get("solver"), "Levenberg-Marquardt with IRLS weights")
    return (f"- Optimiser: {solver}, float64, ftol {est.get('ftol')}, "
            f"max {est.get('max_iter')} iterations; best start converged: {fit.converged} after "
            f"{fit.iterations} iterations")


def _id_lines(labels) -> list:
    """How text run ids were coded (the fit and results.json's data hold the codes)."""
    return [f"- Run ids ({name}): " + ", ".join(f"{i} = `{v}`" for i, v in enumerate(values))
            for name, values in labels.items()]


def cell(v) -> str:
    """A number in a table cell (4 significant digits), empty for None and NaN."""
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return ""
    return f"{v:.4g}" if isinstance(v, (float, np.floating)) else str(v)


def interval_cell(row: Dict[str, Any], q: str) -> str:
    """``row``'s interval of ``q`` (``q_lower``, ``q_upper``) as "lo - hi", empty without one."""
    lo, hi = row.get(f"{q}_lower"), row.get(f"{q}_upper")
    return f"{cell(lo)} - {cell(hi)}" if lo is not None and hi is not None else ""


def percent(v) -> str:
    """A fraction as a percentage with 3 decimals, "-" for None and NaN."""
    return "-" if v is None or not np.isfinite(v) else f"{v:.3%}"


def fit_behind(result, images, notes) -> List[str]:
    """The fit behind an analysis, as a sub-section with its checklist (data ``notes``; run ids
    are listed with the fit task only)."""
    if result.fit is None:
        return []
    lines = fit_section(result, images, notes=notes, labels={})
    lines[0] = f"### Fit behind `{result.name}`: `{result.fit.law.name}` on `{result.dataset}`"
    return lines
