"""Row conditions for dataset filters (``where: "loss < 10 and N >= 1e8"``), without ``eval``.

A condition is one or more comparisons joined by ``and``; each side of a comparison is a formula
of the law grammar (:mod:`scalinglaws.formula`), and comparisons may chain
(``1e8 <= N < 1e10``). A text column is compared with a quoted value by ``==`` or ``!=``
(``domain == 'Github'``). The text is only parsed (``ast.parse`` builds a tree, nothing runs); each
side is re-read by the formula parser from its own slice of the text, so an error points at the
token in the whole condition.
"""

from __future__ import annotations

import ast
import operator
from typing import Callable, List, NamedTuple, Tuple

import numpy as np

from ..errors import ExpressionError
from ..formula import Formula, parse_formula

_COMPARISONS = {ast.Lt: ("<", operator.lt), ast.LtE: ("<=", operator.le), ast.Gt: (">", operator.gt),
                ast.GtE: (">=", operator.ge), ast.Eq: ("==", operator.eq), ast.NotEq: ("!=", operator.ne)}


class TextTest(NamedTuple):
    """``column == 'value'`` (or ``!=``) on a text column."""

    column: str
    op: Callable
    value: str


class Condition(NamedTuple):
    text: str
    sides: Tuple[Tuple[Formula, ...], ...]  # per comparison chain: its operands
    ops: Tuple[Tuple[Callable, ...], ...]
    text_tests: Tuple[TextTest, ...] = ()

    @property
    def names(self) -> List[str]:
        """Columns compared as numbers."""
        seen: dict = {}
        for chain in self.sides:
            for f in chain:
                for n in f.names:
                    seen.setdefault(n, None)
        return list(seen)

    @property
    def text_names(self) -> List[str]:
        """Columns compared as text."""
        return list(dict.fromkeys(t.column for t in self.text_tests))

    def mask(self, columns, text_columns=None) -> np.ndarray:
        """Boolean mask over rows; ``columns`` maps each of :attr:`names` to a float array and
        ``text_columns`` each of :attr:`text_names` to an array of cells."""
        out = None
        for chain, ops in zip(self.sides, self.ops):
            values = [f.compile(np)(columns) for f in chain]
            for op, a, b in zip(ops, values, values[1:]):
                m = np.asarray(op(a, b), dtype=bool)
                out = m if out is None else out & m
        for t in self.text_tests:
            cells = np.array([str(v) for v in (text_columns or {})[t.column]], dtype=object)
            m = np.asarray(t.op(cells, t.value), dtype=bool)
            out = m if out is None else out & m
        assert out is not None  # a condition holds at least one comparison
        return out


def _offset(text: str, node: ast.expr) -> int:
    lines = text.split("\n")
    return sum(len(line) + 1 for line in lines[: node.lineno - 1]) + node.col_offset


def _side(text: str, node: ast.expr) -> Formula:
    start = _offset(text, node)
    segment = ast.get_source_segment(text, node) or ""
    try:
        return parse_formula(segment)
    except ExpressionError as exc:
        raise ExpressionError(exc.reason, text=text, offset=start + exc.offset) from None


def parse_condition(text: str) -> Condition:
    """Parse a filter; raise :class:`ExpressionError` pointing at the first token it refuses.

    >>> c = parse_condition("loss < 10 and 1e8 <= N")
    >>> c.names
    ['loss', 'N']
    """
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("a condition is text such as `loss < 10`", text=str(text), offset=0)
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError as exc:
        raise ExpressionError(f"not a condition: {exc.msg}", text=text,
                              offset=max(0, (exc.offset or 1) - 1)) from None
    parts = tree.values if isinstance(tree, ast.BoolOp) and isinstance(tree.op, ast.And) else [tree]
    sides, ops, text_tests = [], [], []
    for part in parts:
        test = _text_test(text, part)
        if test is not None:
            text_tests.append(test)
            continue
        if not isinstance(part, ast.Compare):
            raise ExpressionError("expected a comparison such as `loss < 10` (several are joined "
                                  "with `and`)", text=text, offset=_offset(text, part))
        chain_ops = []
        for op in part.ops:
            if type(op) not in _COMPARISONS:
                raise ExpressionError("only < <= > >= == != compare values", text=text,
                                      offset=_offset(text, part))
            chain_ops.append(_COMPARISONS[type(op)][1])
        sides.append(tuple(_side(text, n) for n in [part.left, *part.comparators]))
        ops.append(tuple(chain_ops))
    return Condition(text=text, sides=tuple(sides), ops=tuple(ops), text_tests=tuple(text_tests))


def _text_test(text: str, part: ast.expr):
    """``name == 'value'`` / ``'value' != name`` as a :class:`TextTest`; None when ``part``
    holds no quoted value; an error for a quoted value anywhere else."""
    if not isinstance(part, ast.Compare):
        return None
    operands = [part.left, *part.comparators]
    quoted = [n for n in operands if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    if not quoted:
        return None
    ok = (len(part.ops) == 1 and type(part.ops[0]) in (ast.Eq, ast.NotEq)
          and len(quoted) == 1 and any(isinstance(n, ast.Name) for n in operands))
    if not ok:
        raise ExpressionError("a quoted value is compared with one column by == or !=, e.g. "
                              "`domain == 'Github'`", text=text, offset=_offset(text, quoted[0]))
    name = next(n for n in operands if isinstance(n, ast.Name))
    return TextTest(column=name.id, op=_COMPARISONS[type(part.ops[0])][1],
                    value=str(quoted[0].value))
