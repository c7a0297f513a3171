"""Mixture runs from tables: per-source proportion columns and per-domain loss columns.

Columns are named by patterns: ``source_columns: "r_{}"`` says that source ``web`` is the column
``r_web``; with no ``sources:`` list, every column that matches the pattern is a source (named by the
part in braces). The same holds for ``domain_columns`` (default ``"loss_{}"``). Losses may live in a
second dataset joined to the first on a key column (RegMix ships mixtures and losses as two files
keyed by ``index``), or row by row.
"""

from __future__ import annotations

import re
from typing import List, Mapping, Optional, Sequence, Tuple

import attrs
import numpy as np

from ..errors import DataError, closest

ROW_SUM_TOLERANCE = 0.02


@attrs.frozen(kw_only=True, eq=False)
class MixtureRuns:
    r: np.ndarray  # (n, S) proportions, rows summing to one
    losses: np.ndarray  # (n, D)
    sources: Tuple[str, ...]
    domains: Tuple[str, ...]
    budget: Optional[np.ndarray] = None  # (n,) tokens of each run, when given
    notes: List[str] = attrs.field(factory=list)


def unknown_datasets(spec, named) -> List[tuple]:
    """``(path, message)`` for every ``(path, name)`` of ``named`` whose dataset the spec does not
    define (None: not given), for a task's ``check``."""
    known = sorted(spec.datasets)
    return [(where, f"no dataset {name!r}{closest(name, known)}; the spec defines "
                    f"{', '.join(known) or 'none'}")
            for where, name in named if name is not None and name not in spec.datasets]


def unknown_names(names, known, what: str) -> List[str]:
    """One message for each of ``names`` not in ``known`` (a source or domain named in a spec)."""
    return [f"{what} {n!r}{closest(n, known)} is not among the {what}s of the data "
            f"({', '.join(known)})" for n in names if n not in known]


def per_source(values: Mapping[str, float], sources: Sequence[str], default: float,
               key: str) -> np.ndarray:
    """``{source: number}`` of the spec key ``key`` as an array over ``sources`` (``default`` for
    the others); a DataError names the sources the data do not have."""
    bad = unknown_names(values, sources, "source")
    if bad:
        raise DataError(f"{key}: " + "; ".join(bad))
    return np.array([float(values.get(s, default)) for s in sources])


def match_columns(names: Sequence[str], pattern: str, wanted: Sequence[str], what: str,
                  source: str) -> Tuple[Tuple[str, ...], List[str]]:
    """(item names, column names) for ``pattern`` ("r_{}"): the ``wanted`` items, or all matches."""
    if pattern.count("{}") != 1:
        raise DataError(f"`{what}_columns` must contain `{{}}` once (where the {what} name goes), got "
                        f"{pattern!r}", source=source)
    if wanted:
        cols = [pattern.format(w) for w in wanted]
        missing = [c for c in cols if c not in names]
        if missing:
            raise DataError(f"no column {missing[0]!r} for {what} {wanted[cols.index(missing[0])]!r} "
                            f"(pattern {pattern!r}); columns: {', '.join(names)}", source=source)
        return tuple(wanted), cols
    head, tail = pattern.split("{}")
    rx = re.compile("^" + re.escape(head) + "(.+)" + re.escape(tail) + "$")
    found = [(m.group(1), n) for n in names if (m := rx.match(n))]
    if not found:
        raise DataError(f"no column matches the {what} pattern {pattern!r}; columns: "
                        f"{', '.join(names)}", source=source)
    return tuple(f[0] for f in found), [f[1] for f in found]


def join(left, right, on: Optional[str]):
    """Row index into ``right`` for every row of ``left`` (same order when ``on`` is None)."""
    if on is None:
        if len(left) != len(right):
            raise DataError(f"the loss table has {len(right)} rows and the mixture table {len(left)}; "
                            "give `join_on: <key column>` or tables of equal length",
                            source=right.source)
        return np.arange(len(left))
    lk = [str(v) for v in left[on]]
    rk = {str(v): i for i, v in enumerate(right[on])}
    idx = []
    for i, k in enumerate(lk):
        if k not in rk:
            raise DataError(f"key {on}={k} has no row in the loss table {right.source}",
                            source=left.source, row=left.row_label(i), column=on)
        idx.append(rk[k])
    return np.asarray(idx)


def load_runs(table, loss_table=None, *, join_on: Optional[str] = None, sources: Sequence[str] = (),
              source_columns: str = "r_{}", domains: Sequence[str] = (),
              domain_columns: str = "loss_{}", budget_column: Optional[str] = None) -> MixtureRuns:
    """Proportions, losses (and run budgets) as arrays, with checks that name the bad row."""
    src_names, src_cols = match_columns(table.names, source_columns, sources, "source", table.source)
    r, notes = proportions(table, src_cols)
    lt = table if loss_table is None else loss_table
    dom_names, dom_cols = match_columns(lt.names, domain_columns, domains, "domain", lt.source)
    losses = np.column_stack([lt.numeric(c, positive=True, why=" (validation loss)") for c in dom_cols])
    if loss_table is not None:
        losses = losses[join(table, loss_table, join_on)]
    budget = None
    if budget_column is not None:
        budget = table.numeric(budget_column, positive=True, why=" (tokens of the run)")
    return MixtureRuns(r=r, losses=losses, sources=src_names, domains=dom_names, budget=budget,
                       notes=notes)


def proportions(table, cols: Sequence[str]) -> Tuple[np.ndarray, List[str]]:
    """The proportion columns ``cols`` as rows summing to one (n, S), and a note when they were
    renormalised; a DataError names the row whose proportions are negative or do not sum to one
    within ``ROW_SUM_TOLERANCE`` (a source column left out, most often)."""
    r = np.column_stack([table.numeric(c) for c in cols])
    if np.any(r < 0):
        i, j = np.argwhere(r < 0)[0]
        raise DataError(f"proportion {r[i, j]} < 0", source=table.source, row=table.row_label(int(i)),
                        column=cols[j])
    sums = r.sum(axis=1)
    bad = np.abs(sums - 1.0) > ROW_SUM_TOLERANCE
    if np.any(bad):
        i = int(np.argmax(bad))
        raise DataError(f"the proportions ({', '.join(cols)}) sum to {sums[i]:.6g}, not 1 (tolerance "
                        f"{ROW_SUM_TOLERANCE}); is a source column missing?", source=table.source,
                        row=table.row_label(i))
    dev = float(np.max(np.abs(sums - 1.0)))
    notes = [f"proportions renormalised to sum to one (largest deviation {dev:.3g})"] \
        if dev > 1e-12 else []
    return r / sums[:, None], notes


def ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n with ties given their average rank."""
    _, inverse, counts = np.unique(np.asarray(x, dtype=np.float64), return_inverse=True,
                                   return_counts=True)
    return (np.cumsum(counts) - (counts - 1) / 2.0)[inverse]


def spearman(a, b) -> float:
    """Spearman's rank correlation: Pearson's correlation of the (average-tie) ranks."""
    if len(a) < 3:
        return float("nan")
    ra, rb = ranks(a), ranks(b)
    ra -= ra.mean()
    rb -= rb.mean()
    den = np.sqrt((ra @ ra) * (rb @ rb))
    return float(ra @ rb / den) if den > 0 else float("nan")
