"""Laws written as formulas: the closed grammar, its errors, and fits equal to the built-in family's."""

import builtins
import contextlib
import textwrap

import jax.numpy as jnp
import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import scalinglaws as sl
from scalinglaws import load_spec
from scalinglaws.cli import cli
from scalinglaws.errors import ExpressionError, ScalingLawsError, SpecError
from scalinglaws.formula import parse_formula
from scalinglaws.laws.expression import expression_law

CHINCHILLA = "E + A / N**alpha + B / D**beta"
CHINCHILLA_PARAMETERS = {"E": "log", "A": "log", "B": "log", "alpha": None, "beta": None}
TRUTH = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
# A small grid in the fitting space (log E, log A, log B, alpha, beta), the same for both laws.
GRID = {"E": [-0.5, 0.5], "A": [0.0, 5.0, 10.0], "B": [0.0, 5.0, 10.0], "alpha": [0.2, 0.5, 1.0],
        "beta": [0.2, 0.5, 1.0]}


def noisy_chinchilla_runs():
    n, d = (a.ravel() for a in np.meshgrid(np.geomspace(5e7, 5e10, 7), np.geomspace(1e9, 5e12, 7)))
    loss = TRUTH["E"] + TRUTH["A"] / n ** TRUTH["alpha"] + TRUTH["B"] / d ** TRUTH["beta"]
    loss = loss * np.exp(0.01 * np.random.default_rng(0).standard_normal(loss.shape))
    return sl.Table.from_columns(N=n, D=d, loss=loss)


# --- fits --------------------------------------------------------------------------------------


def test_chinchilla_expression_fits_like_the_builtin_family():
    runs = noisy_chinchilla_runs()
    estimator = {"grid": GRID, "schedule": "full"}
    builtin = sl.fit("chinchilla", runs, estimator)
    written = sl.fit(expression_law(CHINCHILLA, CHINCHILLA_PARAMETERS), runs, estimator)
    assert written.n_starts == builtin.n_starts == 162
    assert written.objective == pytest.approx(builtin.objective, rel=1e-9)
    for name, value in builtin.params.items():
        assert written.params[name] == pytest.approx(value, rel=1e-6), name


def test_expression_predicts_the_formula():
    law = expression_law("c + k * exp(sum(j, t_j * r_j)) + max(x, 2)**2 - softplus(x) * sigmoid(x)",
                         {"c": "log", "k": "log", "t_j": None}, axes={"j": ["web", "code"]})
    assert law.param_names == ("c", "k", "t_web", "t_code")
    assert law.inputs == ("r_web", "r_code", "x")
    r = np.array([0.2, 0.7])
    x = np.array([1.0, 3.0])
    got = law.predict({"c": 1.5, "k": 2.0, "t_web": -1.0, "t_code": 0.5},
                      {"r_web": r, "r_code": 1 - r, "x": x})
    softplus, sigmoid = np.log1p(np.exp(x)), 1 / (1 + np.exp(-x))
    want = 1.5 + 2.0 * np.exp(-1.0 * r + 0.5 * (1 - r)) + np.maximum(x, 2) ** 2 - softplus * sigmoid
    np.testing.assert_allclose(got, want, rtol=1e-13)


def test_parameters_follow_declaration_order_and_defaults():
    law = expression_law("E + A * x**(-alpha)", {"alpha": 0.3, "A": {"transform": "log", "init": [10, 100]},
                                                  "E": "log"})
    assert law.param_names == ("alpha", "A", "E")
    alpha, a, e = law.parameters
    assert alpha.transform == "identity" and alpha.init == (0.3,)
    assert a.init == pytest.approx((np.log(10), np.log(100)))
    assert e.init == pytest.approx(tuple(np.log([0.1, 1, 10, 100, 1e3, 1e4])))
    assert law.default_estimator == {"loss": "huber", "delta": 1e-3, "space": "log"}


def test_a_large_grid_switches_to_random_starts():
    law = expression_law("a + b*x + c*x**2 + d*x**3 + e*x**4 + f*x**5 + g*x**6 + h*x**7 + i*x**8",
                         {n: None for n in "abcdefghi"})
    assert law.default_estimator["starts"] == "random"


# --- the grammar refuses everything else, at the right column -------------------------------------


@pytest.mark.parametrize("text, offset, words", [
    ("E + A.real", 6, "attribute access (.real)"),
    ("().__class__", 3, "attribute access (.__class__)"),
    ("__import__('os')", 0, "unknown function '__import__'"),
    ("open('x')", 0, "unknown function 'open'"),
    ("lambda: 0", 0, "lambda is not allowed"),
    ("x[0] + 1", 1, "indexing"),
    ("E + A / N^alpha", 9, "write powers as **"),
    ("a % b", 2, "operator %"),
    ("a if b else c", 2, "conditional"),
    ("a < b", 2, "comparisons"),
    ("[x for x in y]", 0, "comprehensions"),
    ("log(x, base=2)", 7, "keyword arguments"),
    ("lg(x)", 0, "(did you mean 'log'?)"),
    ("log(x, 2)", 0, "log takes one argument"),
    ("max(x)", 0, "two or more arguments"),
    ("'text' + x", 0, "text is not allowed"),
    ("E + A / N**", 11, "at the end"),
    ("E + _hidden", 4, "must start with a letter"),
    ("exp + 1", 0, "exp is a function"),
    ("x + t_j", 4, "outside a sum"),
    ("sum(k, x)", 4, "not a declared axis"),
    ("E + A # note", 6, "# is not allowed"),
    ("E + \u03b1", 4, "ASCII"),
])
def test_refused_forms_point_at_the_offending_token(text, offset, words):
    with pytest.raises(ExpressionError) as info:
        parse_formula(text, axes={"j": ["a", "b"]})
    err = info.value
    assert words in err.reason
    assert err.offset == offset
    line, caret = err.pointer(indent="").splitlines()
    assert caret == " " * offset + "^"
    assert f"(column {offset + 1})" in str(err)


def test_multiline_formulas_read_as_one_and_point_at_the_right_line():
    law = expression_law("E\n  + A / x**alpha", {"E": "log", "A": "log", "alpha": None})
    assert law.formula == "E + A / x**alpha"
    with pytest.raises(ExpressionError) as info:
        parse_formula("E\n  + A.b")
    assert info.value.pointer(indent="") == "  + A.b\n      ^"
    assert info.value.column == 7


def test_declaration_problems_are_named():
    with pytest.raises(ScalingLawsError, match="parameter 'gamma' does not appear"):
        expression_law("E + x", {"E": None, "gamma": None})
    with pytest.raises(ScalingLawsError, match="no parameter to fit"):
        expression_law("E + x")
    with pytest.raises(ScalingLawsError, match="no input"):
        expression_law("E + A", {"E": None, "A": None})
    with pytest.raises(ScalingLawsError, match="must be > 0.*natural units"):
        expression_law("E + x", {"E": {"transform": "log", "init": [0.0]}})
    with pytest.raises(ScalingLawsError, match="needs `lower` and `upper`"):
        expression_law("E + x", {"E": "bounded"})


# --- fuzzing: nothing is ever executed, only the project's errors escape ---------------------------


@contextlib.contextmanager
def nothing_executed():
    """Fail the test if anything evaluates code, opens files or imports a new module."""
    import ast
    import sys

    real_compile, real_import = builtins.compile, builtins.__import__

    def forbidden(name):
        def refuse(*args, **kwargs):
            raise AssertionError(f"{name} was called while reading a formula")

        return refuse

    def only_ast_compile(source, filename, mode, flags=0, *args, **kwargs):
        if not flags & ast.PyCF_ONLY_AST:  # ast.parse compiles to a tree only
            raise AssertionError("compile() to code was called while reading a formula")
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    def known_imports_only(name, *args, **kwargs):
        level = args[3] if len(args) > 3 else kwargs.get("level", 0)
        if level == 0 and name.split(".")[0] not in sys.modules:
            raise AssertionError(f"import of {name!r} while reading a formula")
        return real_import(name, *args, **kwargs)

    patches = {"eval": forbidden("eval"), "exec": forbidden("exec"), "open": forbidden("open"),
               "breakpoint": forbidden("breakpoint"), "compile": only_ast_compile,
               "__import__": known_imports_only}
    with pytest.MonkeyPatch.context() as mp:
        for name, value in patches.items():
            mp.setattr(builtins, name, value)
        yield


TOKENS = (
    # the grammar
    "E", "A", "N", "alpha", "x", "t_j", "1", "2.5", "1e-3", "0", " ", "+", "-", "*", "/", "**", "(",
    ")", ",", "log", "exp", "sqrt", "log1p", "softplus", "sigmoid", "min", "max", "logsumexp",
    "sum", "j",
    # what must never run
    "__import__", "('os')", ".system", "().__class__", ".__subclasses__()", "__builtins__",
    "open", "eval", "exec", "getattr", "globals", "breakpoint", "lambda", ":", ".", "[", "]", "'",
    '"', "=", "==", "<", " if ", " else ", " for ", " in ", "@", "%", "^", "~", " not ", " and ",
    "#", "\\", "\n", "{", "}", "\x00", "\u00e9", "\uff21", "f'", "0x", "9" * 30, "1e999",
)
token_soup = st.lists(st.sampled_from(TOKENS), min_size=1, max_size=25).map("".join)
# Well-formed formulas with a dangerous atom here and there: reach deeper than token soup.
ATOMS = ("E", "A", "N", "x", "t_j", "2", "0.5", "1e-3", "__import__('os')", "().__class__",
         "open('f')", "(lambda: 0)", "x.real", "x[0]", "globals()", "'s'")
FUNCTION_NAMES = ("log", "exp", "sqrt", "log1p", "softplus", "sigmoid", "min", "max", "logsumexp",
                  "eval", "getattr")
structured = st.recursive(
    st.sampled_from(ATOMS),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from([" + ", " - ", " * ", " / ", " ** ", " % "]), inner)
        .map(lambda t: f"({t[0]}{t[1]}{t[2]})"),
        inner.map(lambda a: f"-{a}"),
        st.tuples(st.sampled_from(FUNCTION_NAMES), st.lists(inner, min_size=1, max_size=3))
        .map(lambda t: f"{t[0]}({', '.join(t[1])})"),
        inner.map(lambda a: f"sum(j, {a})"),
    ),
    max_leaves=12,
)
formula_like = st.one_of(token_soup, structured)


def read_compile_and_evaluate(text):
    """Parse; when that succeeds, build the law and evaluate it (numpy and JAX)."""
    try:
        formula = parse_formula(text, axes={"j": ["a", "b"]})
    except ScalingLawsError:
        return
    values = {name: np.linspace(0.5, 2.0, 3) for name in formula.names}
    with np.errstate(all="ignore"):
        formula.compile(np)(values)
    formula.compile(jnp)({k: jnp.asarray(v) for k, v in values.items()})
    names = list(formula.names)
    try:
        law = expression_law(text, {n: None for n in names[1:]}, axes={"j": ["a", "b"]})
    except ScalingLawsError:
        return
    law.predict({n: 0.7 for n in law.param_names}, {n: np.array([1.0, 2.0]) for n in law.inputs})


# Every function once, so that JAX's lazily imported internals are loaded before the guard.
WARM_UP = "log(x) + exp(x) + sqrt(x) + log1p(x) + softplus(x) + sigmoid(x) + min(x, 1) + max(x, 1) " \
          "+ logsumexp(x, 1, 2) + sum(j, t_j) + x**2 + x**y - -x / 2"


@pytest.fixture(scope="module", autouse=True)
def warm_up():
    read_compile_and_evaluate(WARM_UP)


@settings(max_examples=300)
@given(text=st.text(max_size=40))
def test_random_text_never_runs_and_fails_only_with_our_errors(text):
    with nothing_executed():
        read_compile_and_evaluate(text)


@settings(max_examples=400)
@given(text=formula_like)
def test_formula_like_text_never_runs_and_fails_only_with_our_errors(text):
    with nothing_executed():
        read_compile_and_evaluate(text)


def test_the_guard_catches_execution():
    with pytest.raises(AssertionError, match="eval"):
        with nothing_executed():
            eval("1")  # noqa: S307 - the guard under test
    with pytest.raises(AssertionError, match="import"):
        with nothing_executed():
            __import__("a_module_nobody_has_imported")


# --- specs: errors located in the file ----------------------------------------------------------

SPEC = """\
version: 1
datasets:
  sim:
    source: simulate
    law: chinchilla
    truth: {E: 1.69, A: 406.4, B: 410.7, alpha: 0.34, beta: 0.28}
    design:
      N: {logspace: [5.0e+7, 5.0e+10], num: 5}
      D: {logspace: [1.0e+9, 5.0e+12], num: 5}
tasks:
  - kind: fit
    dataset: sim
    law:
LAW
"""


def spec_problems(write_spec, law_lines):
    text = SPEC.replace("LAW", textwrap.indent(textwrap.dedent(law_lines).strip("\n"), " " * 6))
    path = write_spec(text)
    with pytest.raises(SpecError) as info:
        load_spec(path)
    return path, [str(p) for p in info.value.problems]


VALUE_COLUMN = 19  # `      expression: ` is 18 characters


@pytest.mark.parametrize("written, column", [
    ('expression: E + A / N**alpha + B / D^beta', VALUE_COLUMN + 24),
    ('expression: "E + A / N**alpha + B / D^beta"', VALUE_COLUMN + 1 + 24),  # after the quote
    ("expression: 'E + A / N**alpha + B / D^beta'", VALUE_COLUMN + 1 + 24),
])
def test_spec_error_points_at_the_token_in_the_file(write_spec, written, column):
    path, lines = spec_problems(write_spec, f"""
        {written}
        parameters: {{E: log, A: log, B: log, alpha: , beta: }}
    """)
    (line,) = lines
    first, formula, caret = line.splitlines()
    assert first == (f"{path}:14:{column}: tasks[0].law.expression: operator ^ is not allowed; "
                     "write powers as **")
    assert formula.strip() == "E + A / N**alpha + B / D^beta"
    assert caret.index("^") - formula.index("E") == 24


def test_block_scalar_errors_name_the_column_inside_the_text(write_spec):
    path, lines = spec_problems(write_spec, """
        expression: >
          E + A.b
        parameters: {E: log, A: log}
    """)
    assert lines[0].startswith(f"{path}:14:{VALUE_COLUMN}: tasks[0].law.expression: attribute access (.b)")
    assert "(column 7 of the text)" in lines[0]


def test_spec_declaration_and_shape_errors(write_spec):
    _, lines = spec_problems(write_spec, """
        expression: E + A / N**alpha
        parameters: {E: log, A: squared, alpha: , gamma: }
    """)
    assert any("tasks[0].law.parameters.A: expected a transform (" in x and "got 'squared'" in x
               for x in lines)
    _, lines = spec_problems(write_spec, """
        expression: E + A / N**alpha
        parameters: {E: log, A: log, alpha: , gamma: }
        inputs: {M: params}
    """)
    assert any("tasks[0].law.parameters.gamma: parameter 'gamma' does not appear" in x for x in lines)
    _, lines = spec_problems(write_spec, """
        family: chinchilla
        expression: E + A / N**alpha
    """)
    assert any("tasks[0].law.expression: give either `family:` or `expression:`, not both" in x
               for x in lines)
    _, lines = spec_problems(write_spec, "target: loss")
    assert any("tasks[0].law: give the law as `family: <name>` or as `expression: <formula>`" in x
               for x in lines)
    _, lines = spec_problems(write_spec, """
        family: chinchilla
        parameters: {E: log}
    """)
    assert any("tasks[0].law.parameters: `parameters` belongs to `expression:` laws" in x for x in lines)


def test_validate_shows_the_caret(write_spec):
    formula = "E + A / N**alpha + B.__class__"
    path = write_spec(SPEC.replace("LAW", f"      expression: {formula}\n"
                                          "      parameters: {E: log, A: log, alpha: , B: }"))
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 2
    offset = formula.index("__class__")
    assert (f"{path}:14:{VALUE_COLUMN + offset}: tasks[0].law.expression: attribute access "
            "(.__class__)") in result.output
    assert f"\n    {formula}\n    {' ' * offset}^\n" in result.output


def test_expression_spec_runs_and_reports_truth(write_spec):
    path = write_spec(SPEC.replace("LAW", f"      expression: {CHINCHILLA}\n"
                                          "      parameters: {E: log, A: log, B: log, alpha: , beta: }")
                      .replace("    dataset: sim\n", "    dataset: sim\n    estimator: {grid: "
                               "{E: [0.5], A: [5.0], B: [5.0], alpha: [0.3], beta: [0.3]}, "
                               "schedule: full}\n"))
    spec = load_spec(path)
    assert spec.tasks[0].options.law.expression == CHINCHILLA
    result = sl.run(spec, out=False)
    task = result.tasks[0]
    assert task.fit.law.name == "expression"
    assert set(task.truth) == set(TRUTH)
    for name, value in TRUTH.items():
        assert task.fit.params[name] == pytest.approx(value, rel=1e-6)
