"""Generate docs/laws.md, the law catalogue, from the registered law families.

Everything on the page comes from the families themselves (name, formula, inputs, parameters with
their transforms and starting values, reference, notes, default estimator), so the page cannot drift
from the code; a test compares the committed page with :func:`laws_page`.

    python tools/docs_laws.py > docs/laws.md
    python tools/docs_laws.py --check docs/laws.md
"""

from __future__ import annotations

import re
import sys
from typing import Iterable, List, Optional

REGENERATE = "python tools/docs_laws.py > docs/laws.md"
MAX_LISTED_STARTS = 6  # longer start lists are summarised as "k values from lo to hi"

_CONSTRAINTS = """\
## Constraints on any law

Every `law:` (a family or an `expression:`) takes these keys; `docs/spec-reference.md` lists them
all.

- `fixed: {alpha: 0.34}` holds parameters at given values (natural units) instead of fitting them.
- `tie: {beta: alpha}` fits one value for both names and reports it under both; tied parameters
  need the same transform (Muennighoff et al. 2023 fit alpha = beta this way).
- `groups: <column>` with `shared: [alpha, beta]` fits all rows at once: parameters in `shared` are
  common to every group, every other parameter `E` gets one value per value of the column,
  reported as `E[<value>]`. Use it to compare model families or datasets on a common exponent, or
  for `step_power` curves with one alpha (`groups: run, shared: [alpha]`).
"""

_EXPRESSIONS = """\
## Laws written as formulas (`expression:`)

A law that no family covers can be written in the spec:

```yaml
law:
  expression: "E + A / N**alpha + B / D**beta"
  parameters: {E: log, A: log, B: log, alpha: , beta: }
```

The formula is read by a closed grammar, never evaluated as Python: numbers, names, `+ - * / **`,
unary minus, `log`, `exp`, `sqrt`, `log1p`, `softplus`, `sigmoid` (one argument), `min`, `max`,
`logsumexp` (two or more arguments, elementwise) and `sum(j, ...)` over an axis declared under
`axes:`. Anything else (attributes, indexing, strings, comparisons, lambdas, other functions) is
an error that points at the offending character.

- The names under `parameters:` are fitted, in the order written; every other name is an input,
  read from the column of that name unless `inputs:` maps it (`inputs: {N: params}`).
- Each parameter may give `transform` (`identity` by default, `log`, `logit`, `bounded` with
  `lower`/`upper`), `init` (starting values in natural units) and `description`; `E: log` and
  `alpha: 0.3` are short for `{transform: log}` and `{init: [0.3]}`, and `alpha:` takes every
  default.
- Default starting values: identity 0, 0.5, 1; log 0.1 to 1e4 by decades; logit 0.1, 0.5, 0.9;
  bounded 10%, 50% and 90% of the interval. Above 4096 grid points, 1024 random starts within the
  grid's ranges are used instead.
- The formula predicts the target itself; the default fit is Huber (delta 1e-3) on log residuals,
  as for the built-in families, so predictions must be positive (`estimator: {space: linear}`
  otherwise).
- Sums: with `axes: {j: [web, code]}`, `sum(j, t_j * r_j)` is `t_web * r_web + t_code * r_code`;
  a parameter key `t_j` declares `t_web` and `t_code` at once. The mixing law of Ye et al. 2024 is
  `c + k * exp(sum(j, t_j * r_j))`.

With the Chinchilla formula and the same starting points the fit equals the `chinchilla` family's
(the family differentiates analytically, the formula by forward-mode automatic differentiation).
"""


def _md(text: str) -> str:
    """Escape ``<`` and ``|`` outside code spans for Markdown tables and text."""
    parts = re.split(r"(`[^`]*`)", " ".join(str(text).split()))
    return "".join(p if i % 2 else p.replace("<", "&lt;").replace("|", "\\|")
                   for i, p in enumerate(parts))


def _number(v) -> str:
    return f"{float(v):g}"


def _starts(values: Iterable) -> str:
    values = [float(v) for v in values]
    if len(values) <= MAX_LISTED_STARTS:
        return ", ".join(_number(v) for v in values)
    return f"{len(values)} values from {_number(min(values))} to {_number(max(values))}"


def _transform(p) -> str:
    if p.transform == "bounded":
        return f"bounded ({_number(p.lower)}, {_number(p.upper)})"
    return p.transform


def _estimator(options) -> str:
    if not options:
        return "multistart defaults"
    return ", ".join(f"{k}: {v}" for k, v in options.items())


def _slug(name: str) -> str:
    return re.sub(r"[^\w\- ]", "", name.strip().lower()).replace(" ", "-")


def family_section(family) -> List[str]:
    """The Markdown section of one family."""
    lines = [f"## `{family.name}`", ""]
    if family.description:
        lines += [_md(family.description), ""]
    lines += [f"Formula: `{' '.join(family.formula.split())}`", "",
              "Inputs: " + ", ".join(f"`{n}`" for n in family.inputs), ""]
    lines += ["| parameter | fitted as | transform | default starts (fitting space) | realistic values "
              "| description |", "|---|---|---|---|---|---|"]
    for p in family.parameters:
        realistic = (f"{_number(p.realistic[0])} to {_number(p.realistic[1])}"
                     if p.realistic is not None else "")
        lines.append(f"| `{p.name}` | {_md(p.fitted_as)} | {_transform(p)} | {_starts(p.init)} | "
                     f"{realistic} | {_md(p.description)} |")
    lines += ["", f"Reference: {_md(family.reference)}", ""]
    if family.notes:
        lines += [f"Notes: {_md(family.notes)}", ""]
    lines += [f"Default estimator: {_md(_estimator(family.default_estimator))}", ""]
    return lines


def laws_page(registry) -> str:
    """The Markdown of docs/laws.md for the law families in ``registry``."""
    families = [reg.obj for _name, reg in sorted(registry.laws.items())]
    lines = [
        "<!-- Generated by tools/docs_laws.py from the law registry; do not edit. -->",
        "",
        "# Law catalogue",
        "",
        f"Every registered law family, generated from the families themselves. Regenerate with "
        f"`{REGENERATE}`. `scalinglaws describe <law>` prints the same for one law, including "
        "laws from installed plugins. To pick a family for a question, see "
        "[how-to-choose.md](how-to-choose.md).",
        "",
        "Parameters are fitted in the space their transform gives: `log` fits the logarithm (for "
        "positive scales), `logit` maps (0, 1) and `bounded` maps (lower, upper) to the real line. "
        "Default starts are in that space (log E for E); the grid of starts is their product. "
        "Realistic values, in natural units, are the ranges simulations and property tests draw "
        "true values from (`scalinglaws.testing.strategies`).",
        "",
        "| family | formula |",
        "|---|---|",
    ]
    for f in families:
        formula = " ".join(f.formula.split()).replace("|", "\\|")
        lines.append(f"| [`{f.name}`](#{_slug(f.name)}) | `{formula}` |")
    lines.append("")
    for f in families:
        lines += family_section(f)
    lines += _CONSTRAINTS.splitlines() + [""] + _EXPRESSIONS.splitlines()
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"


def main(argv: Optional[List[str]] = None) -> int:
    from docs_pages import page_main
    from scalinglaws.plugins import build_registry

    def generate(with_plugins: bool) -> str:
        return laws_page(build_registry(entry_points=with_plugins))

    return page_main(prog="python tools/docs_laws.py",
                     regenerate=REGENERATE, generate=generate, argv=argv,
                     description="Print docs/laws.md, generated from the law registry.")


if __name__ == "__main__":
    sys.exit(main())
