"""A small, closed grammar for laws written as text, compiled to array functions without ``eval``.

The text is parsed with ``ast.parse(text, mode="eval")``, which only builds a syntax tree (nothing
runs), and the tree is walked once: every node must be one of the forms below, anything else is
refused with an :class:`~scalinglaws.errors.ExpressionError` that points at the offending token.
The accepted tree is copied into this module's own node types and compiled into closures over an
array namespace (``jax.numpy`` for fitting), so no Python object of the text is ever called.

Grammar (a subset of Python's expression syntax)::

    formula := number | name | ( formula )
             | formula + formula | formula - formula | formula * formula | formula / formula
             | formula ** formula | - formula | + formula
             | f(formula)                    f one of log exp sqrt log1p softplus sigmoid
             | g(formula, formula, ...)      g one of min max logsumexp: two or more arguments,
                                             elementwise (logsumexp(a, b) = log(exp(a) + exp(b)))
             | sum(axis, formula)            a sum over the labels of a declared axis

Names start with a letter and hold letters, digits and ``_``. ``softplus(x) = log(1 + exp(x))`` and
``sigmoid(x) = 1 / (1 + exp(-x))``. Powers are ``**`` (``^`` is refused with that hint).

Sums over an axis: with the axis declared as ``axes: {j: [web, code]}``, ``sum(j, t_j * r_j)`` means
``t_web * r_web + t_code * r_code``. Inside ``sum(j, ...)`` every name with an underscore-separated
part equal to ``j`` has that part replaced by each label in turn (``t_j_k`` inside two sums over
``j`` and ``k`` becomes ``t_web_a``, ...). Outside its sum, a name using an axis as a part is an
error, so a forgotten ``sum`` is caught. This covers the exponential mixing law of Ye et al. (2024),
``c + k * exp(sum(j, t_j * r_j))``, and weighted totals over validation domains.
"""

from __future__ import annotations

import ast
import functools
import operator
import re
from typing import Any, Callable, Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple

from .errors import ExpressionError, ScalingLawsError, closest

ONE_ARGUMENT = ("log", "exp", "sqrt", "log1p", "softplus", "sigmoid")
TWO_OR_MORE = ("min", "max", "logsumexp")
FUNCTIONS = ONE_ARGUMENT + TWO_OR_MORE + ("sum",)

MAX_LENGTH = 2000  # characters; long enough for any published law, short enough to bound parsing
MAX_DEPTH = 100  # nesting of operations; Python's own parser and JAX tracing recurse on depth

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_AXIS = re.compile(r"[A-Za-z][A-Za-z0-9]*\Z")  # no `_`: an axis is one part of a name
_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_]*\Z")  # labels become parts of names

_OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_REFUSED_OPERATORS = {ast.Mod: "%", ast.FloorDiv: "//", ast.MatMult: "@", ast.LShift: "<<",
                      ast.RShift: ">>", ast.BitOr: "|", ast.BitAnd: "&", ast.BitXor: "^"}
_ALLOWED = "numbers, names, + - * / **, and the functions " + ", ".join(FUNCTIONS)


# --- the accepted tree ---------------------------------------------------------------------------
# Offsets are 0-based positions in the text, kept for errors found after parsing.


class Num(NamedTuple):
    value: float
    offset: int


class Name(NamedTuple):
    id: str
    offset: int


class Neg(NamedTuple):
    operand: Any
    offset: int


class BinOp(NamedTuple):
    op: str
    left: Any
    right: Any
    offset: int


class Call(NamedTuple):
    fn: str
    args: tuple
    offset: int


class Sum(NamedTuple):
    axis: str
    body: Any
    offset: int


class Formula(NamedTuple):
    """A parsed formula: its text, its tree, and its free names after expanding sums.

    ``names`` maps every free name (``t_web`` for ``t_j`` inside ``sum(j, ...)``) to the offset of
    its first use, in order of first use.
    """

    text: str
    tree: Any
    axes: Mapping[str, Tuple[str, ...]]
    names: Mapping[str, int]

    def compile(self, xp) -> Callable[[Mapping[str, Any]], Any]:
        """``f(values)``: the formula evaluated with ``values`` (name -> array) in namespace ``xp``
        (``jax.numpy``, or ``numpy``). Built once; calling it walks no tree."""
        return _compile(self.tree, {}, self.axes, xp)


def check_axes(axes: Mapping[str, Sequence[str]]) -> List[Tuple[tuple, str]]:
    """Problems with declared axes, as (path below ``axes``, message)."""
    out: List[Tuple[tuple, str]] = []
    for axis, labels in axes.items():
        if not _AXIS.match(str(axis)) or axis in FUNCTIONS:
            out.append(((axis,), f"axis name {axis!r} must be letters and digits, starting with a "
                        "letter (no `_`: it stands for one part of a name such as t_j)"))
        if not labels:
            out.append(((axis,), f"axis {axis!r} has no labels; list them, e.g. [web, code]"))
        for i, label in enumerate(labels):
            if not _LABEL.match(str(label)):
                out.append(((axis, i), f"label {label!r} must be letters, digits and _ (it becomes "
                            "part of parameter and input names)"))
        if len(set(labels)) != len(labels):
            out.append(((axis,), f"axis {axis!r} lists a label twice"))
    return out


def parse_formula(text: str, axes: Optional[Mapping[str, Sequence[str]]] = None) -> Formula:
    """Parse ``text`` into a :class:`Formula`; raise :class:`ExpressionError` at the first token
    outside the grammar (see the module docstring), or :class:`ScalingLawsError` for bad axes.

    >>> f = parse_formula("E + A / N**alpha")
    >>> list(f.names)
    ['E', 'A', 'N', 'alpha']
    >>> try:
    ...     parse_formula("E + A.real")
    ... except ExpressionError as err:
    ...     print(err.pointer())
        E + A.real
              ^
    """
    labels: Dict[str, Tuple[str, ...]] = {str(k): tuple(str(v) for v in vs)
                                          for k, vs in (axes or {}).items()}
    problems = check_axes(labels)
    if problems:
        raise ScalingLawsError("; ".join(message for _, message in problems))
    if not isinstance(text, str):
        raise ScalingLawsError(f"a formula is text, got {text!r}")
    tree = _Reader(text, labels).read()
    names: Dict[str, int] = {}
    _collect_names(tree, {}, labels, names)
    return Formula(text=text, tree=tree, axes=labels, names=names)


# --- reading: Python's syntax tree -> the accepted tree -------------------------------------------


class _Reader:
    def __init__(self, text: str, axes: Mapping[str, Tuple[str, ...]]):
        self.text, self.axes = text, axes

    def fail(self, reason: str, offset: int) -> ExpressionError:
        return ExpressionError(reason, text=self.text, offset=offset)

    def read(self):
        text = self.text
        for i, c in enumerate(text):
            # Python accepts non-ASCII names and folds look-alikes together (NFKC); refusing them
            # keeps names unambiguous and columns equal to character positions.
            if not c.isascii() or not (c.isprintable() or c in "\t\r\n"):
                raise self.fail(f"only printable ASCII characters are allowed, found {c!r}", i)
            if c == "#":  # Python would read the rest as a comment and silently drop it
                raise self.fail("# is not allowed (the rest of the formula would be ignored)", i)
        if len(text) > MAX_LENGTH:
            raise self.fail(f"the formula is longer than {MAX_LENGTH} characters", MAX_LENGTH)
        if not text.strip():
            raise self.fail("the formula is empty; write e.g. E + A / N**alpha", 0)
        # Line breaks (from YAML block scalars) are spaces: one character for one, so offsets hold.
        flat = text.replace("\r", " ").replace("\n", " ")
        try:
            tree = ast.parse(flat, mode="eval")  # builds a tree; executes nothing
        except SyntaxError as exc:
            if not exc.offset:  # the parser ran out of input
                raise self.fail(f"not a formula: {exc.msg} at the end (is a term missing?)",
                                len(text.rstrip())) from None
            raise self.fail(f"not a formula: {exc.msg}", exc.offset - 1) from None
        except (ValueError, MemoryError, RecursionError, OverflowError):
            # null bytes, or nesting deep enough to exhaust the parser
            raise self.fail("the formula cannot be read (too deeply nested, or a character "
                            "Python refuses)", 0) from None
        return self.node(tree.body, bound=frozenset(), depth=0)

    # positions ----------------------------------------------------------------------------------
    # The parsed text is one line of ASCII: column offsets are character positions.
    def start(self, node) -> int:
        return node.col_offset

    def end(self, node) -> int:
        return node.end_col_offset

    def after(self, node) -> int:
        """The first token after ``node``: skips spaces, line breaks and closing parentheses."""
        i = self.end(node)
        while i < len(self.text) and self.text[i] in " \t\r\n)\\":
            i += 1
        return i

    # nodes --------------------------------------------------------------------------------------
    def node(self, node, *, bound: frozenset, depth: int):
        if depth > MAX_DEPTH:
            raise self.fail(f"the formula nests more than {MAX_DEPTH} operations deep",
                            self.start(node))
        step = functools.partial(self.node, bound=bound, depth=depth + 1)
        if isinstance(node, ast.Constant):
            return Num(self.number(node), self.start(node))
        if isinstance(node, ast.Name):
            return Name(self.name(node, bound), self.start(node))
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                return Neg(step(node.operand), self.start(node))
            if isinstance(node.op, ast.UAdd):
                return step(node.operand)
            symbol = {ast.Not: "not", ast.Invert: "~"}.get(type(node.op), "this operator")
            raise self.fail(f"{symbol} is not allowed; only - and + can precede a term",
                            self.start(node))
        if isinstance(node, ast.BinOp):
            return self.binop(node, step)
        if isinstance(node, ast.Call):
            return self.call(node, bound=bound, depth=depth)
        raise self.refused(node)

    def number(self, node: ast.Constant) -> float:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            what = "text" if isinstance(value, (str, bytes)) else repr(value)
            raise self.fail(f"{what} is not allowed; {self.holds()}", self.start(node))
        try:
            number = float(value)
        except OverflowError:
            raise self.fail("the number is too large", self.start(node)) from None
        if number != number or number in (float("inf"), float("-inf")):
            raise self.fail("the number is not finite", self.start(node))
        return number

    def name(self, node: ast.Name, bound: frozenset) -> str:
        name, offset = node.id, self.start(node)
        if name in FUNCTIONS:
            raise self.fail(f"{name} is a function; call it, as in {name}(x)", offset)
        if not _NAME.match(name):
            raise self.fail(f"name {name!r} must start with a letter (names starting with _ are "
                            "reserved)", offset)
        for part in name.split("_"):
            if part in self.axes and part not in bound:
                raise self.fail(f"{name!r} uses axis {part!r} outside a sum over it; write "
                                f"sum({part}, ...) around it", offset)
        return name

    def binop(self, node: ast.BinOp, step):
        op = _OPERATORS.get(type(node.op))
        if op is None:
            symbol = _REFUSED_OPERATORS.get(type(node.op), "this operator")
            hint = "; write powers as **" if symbol == "^" else "; allowed operators: + - * / **"
            raise self.fail(f"operator {symbol} is not allowed{hint}", self.after(node.left))
        return BinOp(op, step(node.left), step(node.right), self.after(node.left))

    def call(self, node: ast.Call, *, bound: frozenset, depth: int):
        func = node.func
        if not isinstance(func, ast.Name):
            # e.g. `x.method()` or `(f)(x)`: report what the callee is
            if isinstance(func, ast.Attribute):
                raise self.refused(func)
            raise self.fail(f"only named functions can be called ({', '.join(FUNCTIONS)})",
                            self.start(func))
        fn, offset = func.id, self.start(func)
        if fn not in FUNCTIONS:
            raise self.fail(f"unknown function {fn!r}{closest(fn, FUNCTIONS)}; the functions are "
                            f"{', '.join(FUNCTIONS)}", offset)
        for kw in node.keywords:
            what = f"{kw.arg}=" if kw.arg else "**"
            raise self.fail(f"keyword arguments ({what}...) are not allowed; pass values in order",
                            self.start(kw))
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise self.fail("* unpacking is not allowed", self.start(arg))
        n = len(node.args)
        if fn == "sum":
            return self.sum(node, offset, bound=bound, depth=depth)
        step = functools.partial(self.node, bound=bound, depth=depth + 1)
        if fn in ONE_ARGUMENT and n != 1:
            raise self.fail(f"{fn} takes one argument, got {n}", offset)
        if fn in TWO_OR_MORE and n < 2:
            raise self.fail(f"{fn} takes two or more arguments (elementwise), got {n}", offset)
        return Call(fn, tuple(step(a) for a in node.args), offset)

    def sum(self, node: ast.Call, offset: int, *, bound: frozenset, depth: int):
        if len(node.args) != 2:
            raise self.fail(f"sum takes an axis and a term, as in sum(j, t_j * r_j); got "
                            f"{len(node.args)} arguments", offset)
        axis_node, body = node.args
        if not isinstance(axis_node, ast.Name):
            raise self.fail("the first argument of sum is the name of an axis declared under "
                            "`axes:`", self.start(axis_node))
        axis = axis_node.id
        if axis not in self.axes:
            declared = ", ".join(self.axes) or "none"
            raise self.fail(f"{axis!r} is not a declared axis{closest(axis, self.axes)}; declare it "
                            f"under `axes:`, e.g. axes: {{{axis}: [a, b]}} (declared: {declared})",
                            self.start(axis_node))
        if axis in bound:
            raise self.fail(f"axis {axis!r} is already summed over here", self.start(axis_node))
        inner = self.node(body, bound=bound | {axis}, depth=depth + 1)
        return Sum(axis, inner, offset)

    def holds(self) -> str:
        return f"a formula holds {_ALLOWED}"

    def refused(self, node) -> ExpressionError:
        """The error for a node outside the grammar, at the token that makes it so."""
        kind = type(node)
        if kind is ast.Attribute:
            return self.fail(f"attribute access (.{node.attr}) is not allowed; {self.holds()}",
                             self.end(node) - len(node.attr))
        if kind is ast.Subscript:
            return self.fail("indexing (x[...]) is not allowed; for a sum over an axis write "
                             "sum(j, t_j * r_j) and declare j under `axes:`", self.after(node.value))
        if kind is ast.Compare:
            return self.fail("comparisons are not allowed; use min(...) or max(...)",
                             self.after(node.left))
        if kind is ast.BoolOp:
            return self.fail("and/or are not allowed; use min(...) or max(...)",
                             self.after(node.values[0]))
        if kind is ast.IfExp:
            return self.fail("conditional expressions (x if c else y) are not allowed; use "
                             "min(...) or max(...)", self.after(node.body))
        if kind is ast.JoinedStr:
            return self.fail(f"text is not allowed; {self.holds()}", self.start(node))
        words = {
            ast.Lambda: "lambda is not allowed",
            ast.ListComp: "comprehensions are not allowed", ast.SetComp: "comprehensions are not allowed",
            ast.DictComp: "comprehensions are not allowed",
            ast.GeneratorExp: "comprehensions are not allowed",
            ast.List: "lists are not allowed", ast.Tuple: "tuples are not allowed (one formula, "
            "no commas outside function calls)", ast.Set: "sets are not allowed",
            ast.Dict: "mappings are not allowed", ast.NamedExpr: ":= is not allowed",
            ast.Starred: "* unpacking is not allowed", ast.Slice: "slices are not allowed",
        }
        reason = words.get(kind, f"{kind.__name__} is not allowed")
        return self.fail(f"{reason}; {self.holds()}", self.start(node))


# --- names and compilation ------------------------------------------------------------------------


def _bind(name: str, bound: Mapping[str, str]) -> str:
    """``t_j`` with ``j`` bound to ``web`` -> ``t_web``."""
    if not bound:
        return name
    return "_".join(bound.get(part, part) for part in name.split("_"))


def _collect_names(node, bound: Dict[str, str], axes, out: Dict[str, int]) -> None:
    if isinstance(node, Name):
        out.setdefault(_bind(node.id, bound), node.offset)
    elif isinstance(node, Neg):
        _collect_names(node.operand, bound, axes, out)
    elif isinstance(node, BinOp):
        _collect_names(node.left, bound, axes, out)
        _collect_names(node.right, bound, axes, out)
    elif isinstance(node, Call):
        for arg in node.args:
            _collect_names(arg, bound, axes, out)
    elif isinstance(node, Sum):
        for label in axes[node.axis]:
            _collect_names(node.body, {**bound, node.axis: label}, axes, out)


_BINARY = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}


def _one_argument(xp) -> Dict[str, Callable]:
    return {
        "log": xp.log, "exp": xp.exp, "sqrt": xp.sqrt, "log1p": xp.log1p,
        "softplus": lambda x: xp.logaddexp(0.0, x),
        "sigmoid": lambda x: 0.5 * (xp.tanh(0.5 * x) + 1.0),  # stable for large |x|
    }


def _compile(node, bound: Dict[str, str], axes, xp) -> Callable:
    if isinstance(node, Num):
        # An array, not a Python float: arithmetic between constants then follows the array
        # library (1/0 is inf, (-8)**0.5 is nan) instead of raising or turning complex.
        value = node.value
        return lambda env: xp.asarray(value)
    if isinstance(node, Name):
        key = _bind(node.id, bound)
        return lambda env: env[key]
    if isinstance(node, Neg):
        inner = _compile(node.operand, bound, axes, xp)
        return lambda env: -inner(env)
    if isinstance(node, BinOp):
        left = _compile(node.left, bound, axes, xp)
        if node.op == "**" and isinstance(node.right, Num) and node.right.value.is_integer() \
                and abs(node.right.value) <= 64:
            # x**2 as repeated multiplication: defined for negative x, exact gradients
            n = int(node.right.value)
            return lambda env: left(env) ** n
        right = _compile(node.right, bound, axes, xp)
        if node.op == "**":
            return lambda env: xp.power(left(env), right(env))
        fn = _BINARY[node.op]
        return lambda env: fn(left(env), right(env))
    if isinstance(node, Call):
        args = [_compile(a, bound, axes, xp) for a in node.args]
        if node.fn in ONE_ARGUMENT:
            (arg,) = args
            f = _one_argument(xp)[node.fn]
            return lambda env: f(arg(env))
        pair = {"min": xp.minimum, "max": xp.maximum, "logsumexp": xp.logaddexp}[node.fn]
        return lambda env: functools.reduce(pair, (a(env) for a in args))
    if isinstance(node, Sum):
        terms = [_compile(node.body, {**bound, node.axis: label}, axes, xp)
                 for label in axes[node.axis]]
        return lambda env: functools.reduce(operator.add, (t(env) for t in terms))
    raise TypeError(f"not a formula node: {node!r}")  # unreachable: the reader builds the tree
