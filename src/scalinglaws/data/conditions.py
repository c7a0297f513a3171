"""Row conditions for dataset filters (``where: "loss < 10 and N >= 1e8"``), without ``eval``.

A condition is one or more comparisons joined by ``and``; each side of a comparison is a formula
of the law grammar (:mod:`scalinglaws.laws.formula`), and comparisons may chain
(``1e8 <= N < 1e10``). The text is only parsed (``ast.parse`` builds a tree, nothing runs); each
side is re-read by the formula parser from its own slice of the text, so an error points at the
token in the whole condition.
"""

from __future__ import annotations

import ast
import operator
from typing import Callable, List, NamedTuple, Tuple

import numpy as np

from ..errors import ExpressionError
from ..laws.formula import Formula, parse_formula

_COMPARISONS = {ast.Lt: ("<", operator.lt), ast.LtE: ("<=", operator.le), ast.Gt: (">", operator.gt),
                ast.GtE: (">=", operator.ge), ast.Eq: ("==", operator.eq), ast.NotEq: ("!=", operator.ne)}


class Condition(NamedTuple):
    text: str
    sides: Tuple[Tuple[Formula, ...], ...]  # per comparison chain: its operands
    ops: Tuple[Tuple[Callable, ...], ...]

    @property
    def names(self) -> List[str]:
        seen: dict = {}
        for chain in self.sides:
            for f in chain:
                for n in f.names:
                    seen.setdefault(n, None)
        return list(seen)

    def mask(self, columns) -> np.ndarray:
        """Boolean mask over rows; ``columns`` maps each name to a float array."""
        out = None
        for chain, ops in zip(self.sides, self.ops):
            values = [f.compile(np)(columns) for f in chain]
            for op, a, b in zip(ops, values, values[1:]):
                m = np.asarray(op(a, b), dtype=bool)
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
    sides, ops = [], []
    for part in parts:
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
    return Condition(text=text, sides=tuple(sides), ops=tuple(ops))
