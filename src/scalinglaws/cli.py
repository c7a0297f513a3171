"""The `scalinglaws` command. Heavy imports (JAX) happen inside commands, so --help is instant."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any, Callable

import click

from .errors import ScalingLawsError
from .scaffold import KINDS as PLUGIN_KINDS
from .scaffold import scaffold_plugin

KINDS = ("laws", "sources", "estimators", "tasks", "reporters", "plugins")


class UserError(click.ClickException):
    """A problem in the user's input: printed as is, exit code 2."""

    exit_code = 2

    def show(self, file=None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


def user_errors(fn: Callable) -> Callable:
    """Turn ScalingLawsError into one clear message; keep tracebacks for --traceback and bugs."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        ctx = click.get_current_context()
        try:
            return fn(*args, **kwargs)
        except ScalingLawsError as exc:
            if ctx.find_root().params.get("traceback"):
                raise
            raise UserError(str(exc)) from None

    return wrapper


def _registry():
    from .plugins import get_registry  # here, not at the top: loads JAX; --help stays instant

    registry = get_registry()
    for problem in registry.problems:
        click.echo(f"warning: {problem}", err=True)
    return registry


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--traceback", is_flag=True, help="Show Python tracebacks for errors.")
@click.version_option(package_name="scalinglaws")
def cli(traceback: bool) -> None:
    """Fit, compare and act on neural scaling laws, from YAML specs.

    \b
    scalinglaws run specs/quickstart.yaml --out out
    scalinglaws validate my-spec.yaml
    scalinglaws list laws
    """


@cli.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--out", "out", type=click.Path(file_okay=False), default=None,
              help="Output folder (default: the spec's output.dir).")
@click.option("--json", "as_json", is_flag=True, help="Print results.json to stdout instead of a table.")
@user_errors
def run(spec: str, out: str, as_json: bool) -> None:
    """Run SPEC: fit, report, and write OUT/results.json, params.csv, report.md and plots."""
    from .runner import run as run_spec  # here, not at the top: loads JAX; --help stays instant
    from .spec.structure import load_spec  # here, not at the top: loads JAX; --help stays instant

    registry = _registry()
    loaded = load_spec(spec, registry)
    target = out or loaded.output.dir
    result = run_spec(loaded, out=target, registry=registry)
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2, sort_keys=True))
        return
    _print_summary(result)
    written = ", ".join(sorted(p.name for p in Path(target).iterdir()))
    click.echo(f"wrote {target}/ ({written}) in {result.elapsed_s:.1f} s")


def _print_summary(result) -> None:
    from rich.console import Console
    from rich.markup import escape  # names such as E[gpt2] or chinchilla[beta=alpha] are not markup
    from rich.table import Table

    console = Console()
    for task in result.tasks:
        fit = getattr(task, "fit", None)
        rows: list = getattr(task, "rows", lambda: [])()
        if fit is None or not hasattr(fit, "law") or not rows:
            # other tasks (predict, allocate, mixtures, ...) summarise themselves in report.md
            console.print(f"[bold]{escape(task.name)}[/bold]: {escape(getattr(task, 'kind', 'task'))} "
                          "done; see report.md")
            continue
        console.print(f"[bold]{escape(task.name)}[/bold]: {escape(fit.law.name)} on {escape(task.dataset)} "
                      f"({fit.n_points} points, objective {fit.objective:.6g}, "
                      f"{fit.n_at_best}/{fit.n_polished} polished starts at best)")
        table = Table()
        has_truth = any("truth" in r for r in rows)
        table.add_column("parameter")
        table.add_column("estimate", justify="right")
        if has_truth:
            table.add_column("truth", justify="right")
            table.add_column("rel. error", justify="right")
        for r in rows:
            if "parameter" not in r or "estimate" not in r:
                continue
            cells = [escape(str(r["parameter"])), f"{r['estimate']:.6g}"]
            if has_truth:
                cells += ([f"{r['truth']:.6g}", f"{r['rel_error']:.2%}"] if "truth" in r else ["", ""])
            table.add_row(*cells)
        console.print(table)


@cli.command()
@click.argument("out", type=click.Path(file_okay=False, exists=True))
@user_errors
def report(out: str) -> None:
    """Re-render OUT/report.md and the plots from OUT/results.json alone (no refitting)."""
    from .report.replay import rerender  # here, not at the top: loads JAX; --help stays instant

    if not (Path(out) / "results.json").exists():
        raise ScalingLawsError(f"{out}/results.json not found: run a spec with --out {out} first")
    written = rerender(out, _registry())
    click.echo(f"wrote {out}/ ({', '.join(sorted(written))}) from {out}/results.json")


@cli.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@user_errors
def validate(spec: str) -> None:
    """Check SPEC without running it; every problem is listed with its file:line:column."""
    from .spec.structure import load_spec  # here, not at the top: loads JAX; --help stays instant

    loaded = load_spec(spec, _registry())
    click.echo(f"{spec}: ok ({len(loaded.datasets)} datasets, {len(loaded.tasks)} tasks)")


def _describe_kind(kind: str, registry) -> list:
    if kind == "plugins":
        return [{"name": p.name, "distribution": p.distribution, "version": p.version,
                 "hooks": p.hooks, "error": p.error} for p in registry.plugins.values()]
    out = []
    # `list laws` shows the law families and, marked, the mixture laws (a hook of their own).
    tables = [("law family", registry.laws), ("mixture law", registry.mixture_laws)] \
        if kind == "laws" else [(None, getattr(registry, kind))]
    for marker, table in tables:
        for name, reg in sorted(table.items()):
            doc = (getattr(reg.obj, "description", "") or (reg.obj.__doc__ or "")).strip()
            summary = " ".join(line.strip() for line in doc.split("\n\n")[0].splitlines())
            out.append({"name": name, "plugin": reg.plugin, "distribution": reg.distribution,
                        "summary": summary, **({"kind": marker} if marker else {})})
    return out


@cli.command("list")
@click.argument("kind", type=click.Choice(KINDS), default="laws")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@user_errors
def list_(kind: str, as_json: bool) -> None:
    """List registered laws, sources, estimators, tasks, reporters or plugins."""
    items = _describe_kind(kind, _registry())
    if as_json:
        click.echo(json.dumps(items, indent=2))
        return
    for item in items:
        if kind == "plugins":
            hooks = ", ".join(item["hooks"]) or "no hooks"
            line = f"{item['name']}  ({item['distribution']} {item['version']}): {hooks}"
            click.echo(line + (f"  [error: {item['error']}]" if item["error"] else ""))
        else:
            mark = "mixture law, " if item.get("kind") == "mixture law" else ""
            click.echo(f"{item['name']:<20} {item['summary']}  [{mark}{item['distribution']}]")


def describe_law(family) -> dict:
    return {
        "name": family.name,
        "formula": family.formula,
        "inputs": list(family.inputs),
        "parameters": [{"name": p.name, "fitted_as": p.fitted_as, "description": p.description,
                        "default_init": list(p.init)} for p in family.parameters],
        "reference": family.reference,
        "description": family.description,
        "notes": family.notes,
        "default_estimator": dict(family.default_estimator),
    }


def describe_mixture_law(law) -> dict:
    return {
        "name": law.name,
        "kind": "mixture law",
        "formula": law.formula,
        "inputs": ["r (the proportion of each training source)"]
                  + (["T (the run's token budget)"] if law.budget_context else []),
        "parameters": [{"name": n, "description": d} for n, d in law.parameters],
        "reference": law.reference,
        "description": law.description,
        "requires": list(law.requires),
        "tasks": ["fit_mixture", "optimise_mixture"],
    }


@cli.command()
@click.argument("law")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@user_errors
def describe(law: str, as_json: bool) -> None:
    """Show a law's formula, inputs, parameters and reference."""
    registry = _registry()
    obj = registry.any_law(law)
    mixture = law in registry.mixture_laws
    info: Any = describe_mixture_law(obj) if mixture else describe_law(obj)
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    click.echo(f"{info['name']}: {info['formula']}" + ("  [mixture law]" if mixture else ""))
    if info["description"]:
        click.echo(f"  {info['description']}")
    click.echo(f"  inputs: {', '.join(info['inputs'])}")
    click.echo("  parameters:")
    for p in info["parameters"]:
        fitted = "" if mixture else f"fitted as {p['fitted_as']:<8} "
        click.echo(f"    {p['name']:<8} {fitted}{p['description']}")
    if mixture:
        if info["requires"]:
            click.echo(f"  needs (spec keys): {', '.join(info['requires'])}")
        click.echo(f"  used by the tasks: {', '.join(info['tasks'])}")
    click.echo(f"  reference: {info['reference']}")
    if info.get("notes"):
        click.echo(f"  notes: {info['notes']}")


@cli.command("new-plugin")
@click.argument("name")
@click.option("--kind", type=click.Choice(PLUGIN_KINDS), required=True,
              help="What the plugin adds: a law family, a data source, a task or a reporter.")
@click.option("--dir", "directory", type=click.Path(file_okay=False), default=".", show_default=True,
              help="Folder in which to create the package's folder NAME.")
@user_errors
def new_plugin(name: str, kind: str, directory: str) -> None:
    """Create a plugin package NAME: pyproject.toml with the entry point, a module registering a
    working example, a README and tests.

    \b
    scalinglaws new-plugin scalinglaws-acme --kind law
    """
    written = scaffold_plugin(name, kind, directory)
    root = Path(directory) / name
    click.echo(f"created {root}/")
    for path in written:
        click.echo(f"  {path.relative_to(root)}")
    click.echo(f"next: pip install -e {root} && pytest {root / 'tests'}")


def main() -> None:  # pragma: no cover - console entry point
    cli(prog_name="scalinglaws")


if __name__ == "__main__":  # pragma: no cover
    main()
