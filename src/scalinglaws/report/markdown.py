"""report.md: what was fitted, how, and everything needed to reproduce it."""

from __future__ import annotations

from typing import List


def _fmt(v) -> str:
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def fit_section(task, images=frozenset()) -> List[str]:
    from ..core.objectives import describe_loss  # JAX only when a report is written

    fit = task.fit
    est = fit.estimator
    unc = getattr(fit, "uncertainty", None)
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
        + (f" (derived: {'; '.join(task.notes)})" if task.notes else ""),
        *_id_lines(task),
        f"- Loss: {loss} on {space}, summed over points; objective {fit.objective:.10g}",
        _optimiser(est, fit),
        f"- Initialisation: {starts}",
        "- Uncertainty: " + (unc.describe() if unc is not None else "none (point estimate)"),
    ]
    warnings = (getattr(fit, "diagnostics", None) or {}).get("warnings")
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


def render(result, images=frozenset()) -> str:
    spec = result.spec
    lines = [f"# {spec.name or 'scalinglaws report'}", ""]
    if spec.description:
        lines += [spec.description.strip(), ""]
    for task in result.tasks:
        section = getattr(task, "markdown", None)  # task.markdown(images) -> list of lines
        if section is not None:
            lines += section(images)
        elif getattr(task, "kind", None) == "fit":
            lines += fit_section(task, images)
    v = result.versions
    lines += [
        "## Reproducibility",
        "",
        f"- Spec: `{spec.file}` (sha256 `{spec.digest}`)",
        f"- Seed: {spec.seed}",
        "- Versions: " + ", ".join(f"{k} {val}" for k, val in v.items()),
        f"- Run time: {result.elapsed_s:.2f} s",
        "",
    ]
    return "\n".join(lines)


def _id_lines(task) -> list:
    """How text run ids were coded (the fit and results.json's data hold the codes)."""
    return [f"- Run ids ({name}): " + ", ".join(f"{i} = `{v}`" for i, v in enumerate(values))
            for name, values in getattr(task, "labels", {}).items()]
