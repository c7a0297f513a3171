"""Laws written as formulas: ``law: {expression: "E + A / N**alpha + B / D**beta", parameters: ...}``.

The text is read by the closed grammar of :mod:`scalinglaws.formula` (numbers, names,
``+ - * / **``, log, exp, sqrt, log1p, softplus, sigmoid, min, max, logsumexp and sums over
declared axes; never ``eval``) and compiled into a :class:`~scalinglaws.laws.base.LawFamily`
named ``expression``:

* the names declared under ``parameters`` are fitted, in the order they are declared; every other
  name is an input, read from the table column of the same name unless ``inputs:`` maps it;
* each parameter has a transform to the fitting space (``identity`` by default; ``log`` for
  positive scales, ``logit`` for (0, 1), ``bounded`` for (lower, upper)), and starting values
  ``init`` in natural units (defaults by transform: :data:`DEFAULT_INIT`);
* the formula predicts the target itself; as for the built-in families, the default fit is Huber
  (delta 1e-3) on log residuals ``log y - log f(x)``, so predictions must be positive.

With the Chinchilla formula and the same starting points, the fit equals the built-in
``chinchilla`` family's (tests/test_expression.py checks objective and parameters).

A parameter key may use an axis (``t_j`` with ``axes: {j: [web, code]}``): it then declares every
expansion (``t_web``, ``t_code``) at once; a key naming one expansion overrides it.
"""

from __future__ import annotations

import itertools
import math
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import attrs
import jax.numpy as jnp

from ..core import enable_float64
from ..errors import ExpressionError, ScalingLawsError, closest
from ..formula import Formula, check_axes, parse_formula
from .base import PUBLISHED_HUBER, TRANSFORMS, LawFamily, Parameter, natural_law

# Starting values in natural units when a parameter gives no `init`: a decade grid for positive
# scales (losses, prefactors), exponent-like values for plain numbers, the middle and both sides
# of the interval for the bounded transforms.
DEFAULT_INIT: Dict[str, Tuple[float, ...]] = {
    "identity": (0.0, 0.5, 1.0),
    "log": (0.1, 1.0, 10.0, 100.0, 1e3, 1e4),
    "logit": (0.1, 0.5, 0.9),
    "bounded": (0.1, 0.5, 0.9),  # fractions of the way from lower to upper
}
# Above this many grid points the default estimator draws random starts within the grid's ranges
# instead: a product grid grows exponentially with the number of parameters.
GRID_LIMIT = 4096
RANDOM_STARTS = 1024

ProblemList = List[Tuple[tuple, Union[str, ExpressionError]]]
_OPTION_KEYS = ("transform", "init", "lower", "upper", "description")


def _options(value: Any) -> Dict[str, Any]:
    """A parameter declaration as a dict: from a mapping, an attrs object (the spec's
    ``ExpressionParameter``), a transform name, a single starting value, or nothing."""
    if value is None:
        return {}
    if isinstance(value, str):
        return {"transform": value}
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"init": (float(value),)}
    if attrs.has(type(value)):
        value = attrs.asdict(value)
    if isinstance(value, Mapping):
        return {k: v for k, v in value.items() if v is not None and v != ()}
    raise ScalingLawsError(f"a parameter is declared by a mapping ({', '.join(_OPTION_KEYS)}), "
                           f"a transform name or a starting value, got {value!r}")


def _expansions(key: str, axes: Mapping[str, Sequence[str]]) -> List[str]:
    """``t_j`` -> [t_web, t_code] for ``axes = {j: [web, code]}``; a plain name -> [name]."""
    parts = key.split("_")
    choices = [tuple(axes[p]) if p in axes else (p,) for p in parts]
    return ["_".join(c) for c in itertools.product(*choices)]


def _declarations(formula: Formula, parameters: Mapping[str, Any]) -> Tuple[Dict[str, str], ProblemList]:
    """Free name -> the key under ``parameters`` that declares it (exact keys win over keys with
    an axis), and problems with keys that declare nothing in the formula."""
    problems: ProblemList = []
    owner: Dict[str, str] = {}
    exact = {k for k in parameters if k in formula.names}
    for key in parameters:
        if key in exact:
            owner[key] = key
            continue
        expanded = [n for n in _expansions(key, formula.axes) if n in formula.names]
        if not expanded:
            problems.append((("parameters", key), f"parameter {key!r} does not appear in the "
                             f"expression{closest(key, formula.names)}; its names are "
                             f"{', '.join(formula.names)}"))
        for name in expanded:
            if name not in exact:
                owner[name] = key
    return owner, problems


def _parameter(name: str, options: Mapping[str, Any], path: tuple) -> Tuple[Optional[Parameter], ProblemList]:
    transform = options.get("transform", "identity")
    if transform not in TRANSFORMS:
        return None, [(path + ("transform",), f"expected one of {', '.join(TRANSFORMS)}, got "
                       f"{transform!r}{closest(str(transform), TRANSFORMS)}")]
    lower, upper = options.get("lower"), options.get("upper")
    if transform == "bounded" and not (lower is not None and upper is not None and lower < upper):
        return None, [(path, f"transform `bounded` needs `lower` and `upper` with lower < upper, got "
                       f"lower={lower}, upper={upper}")]
    if transform != "bounded" and (lower is not None or upper is not None):
        return None, [(path, "`lower` and `upper` apply to transform `bounded` only; for a "
                       "positive parameter use `transform: log`")]
    shape = Parameter(name=name, transform=transform, lower=lower, upper=upper,
                      description=str(options.get("description", "")))
    natural = tuple(float(v) for v in options.get("init", ()))
    if not natural:
        natural = DEFAULT_INIT[transform]
        if transform == "bounded":
            assert lower is not None and upper is not None  # checked above
            lo, hi = float(lower), float(upper)
            natural = tuple(lo + f * (hi - lo) for f in natural)
    init = []
    for i, value in enumerate(natural):
        try:
            init.append(float(shape.to_fit(value)))
        except ValueError as exc:
            return None, [(path + ("init", i), f"{exc}; `init` is in natural units ({name} itself)")]
    if not all(math.isfinite(v) for v in init):
        return None, [(path + ("init",), "starting values must be finite numbers")]
    return attrs.evolve(shape, init=tuple(init)), []


def expression_problems(expression: Any, parameters: Optional[Mapping[str, Any]] = None, *,
                        axes: Optional[Mapping[str, Sequence[str]]] = None) -> ProblemList:
    """Everything wrong with an expression law, as (path inside the law spec, message) pairs;
    a message about the formula's text is an :class:`ExpressionError` (it knows the column)."""
    return _analyse(expression, parameters or {}, axes or {})[1]


def _analyse(expression, parameters, axes):
    axes = {str(k): tuple(str(v) for v in vs) for k, vs in axes.items()}
    problems: ProblemList = [(("axes",) + path, message) for path, message in check_axes(axes)]
    if problems:
        return None, problems
    if not isinstance(expression, str):
        return None, [(("expression",), f"expected the formula as text, got {expression!r}")]
    try:
        formula = parse_formula(expression, axes)
    except ExpressionError as exc:
        return None, [(("expression",), exc)]
    owner, problems = _declarations(formula, parameters)
    built: List[Parameter] = []
    # Fitted parameters in the order of declaration (then of use for keys with an axis), so the
    # user decides the order of `theta`, of starting grids and of the results.
    for key in parameters:
        names = [n for n in formula.names if owner.get(n) == key]
        for name in names:
            try:
                options = _options(parameters[key])
            except ScalingLawsError as exc:
                problems.append((("parameters", key), str(exc)))
                break
            param, more = _parameter(name, options, ("parameters", key))
            problems += more
            if param is None:
                break
            built.append(param)
    inputs = tuple(n for n in formula.names if n not in owner)
    if not owner:
        first = next(iter(formula.names), None)
        problems.append((("expression",), ExpressionError(
            "no parameter to fit: declare the fitted names under `parameters:` (every other name "
            "is an input)", text=expression, offset=formula.names[first] if first else 0)))
    elif not inputs:
        problems.append((("expression",), ExpressionError(
            "the formula has no input: every name is declared under `parameters:`; a law needs at "
            "least one input column (N, D, x, ...)", text=expression, offset=0)))
    return (formula, tuple(built), inputs), problems


def expression_law(expression: str, parameters: Optional[Mapping[str, Any]] = None, *,
                   axes: Optional[Mapping[str, Sequence[str]]] = None) -> LawFamily:
    """The :class:`LawFamily` of a formula; raises :class:`ExpressionError` (with the column) or
    :class:`ScalingLawsError` when the formula or its declarations are wrong.

    >>> import numpy as np
    >>> law = expression_law("E + A / x**alpha",
    ...                      {"E": "log", "A": {"transform": "log"}, "alpha": {"init": [0.3]}})
    >>> law.inputs, law.param_names
    (('x',), ('E', 'A', 'alpha'))
    >>> law.predict({"E": 1.0, "A": 8.0, "alpha": 1.0}, {"x": np.array([2.0, 4.0])}).round(12)
    array([5., 3.])
    """
    try:
        key = (expression, _frozen({k: _options(v) for k, v in (parameters or {}).items()}),
               _frozen(axes or {}))
        hash(key)
    except (ScalingLawsError, TypeError):  # unhashable or malformed: build (and report) uncached
        return _expression_law(expression, parameters or {}, axes or {})
    if key not in _BUILT:
        _BUILT[key] = _expression_law(expression, parameters or {}, axes or {})
        if len(_BUILT) > 256:
            _BUILT.pop(next(iter(_BUILT)))
    return _BUILT[key]


# Laws built from the same text and declarations are one object, so fits of one spec (checked, then
# run) or repeated fits compile once: the core caches compilations by family object.
_BUILT: Dict[tuple, LawFamily] = {}


def _frozen(value: Any) -> Any:
    if isinstance(value, Mapping):
        return tuple((k, _frozen(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v) for v in value)
    return value


def _expression_law(expression, parameters, axes) -> LawFamily:
    analysed, problems = _analyse(expression, parameters, axes)
    if problems:
        first = problems[0][1]
        if isinstance(first, ExpressionError):
            raise first
        raise ScalingLawsError("; ".join(f"{'.'.join(map(str, p))}: {m}" for p, m in problems))
    formula, params, inputs = analysed
    return _family(formula, params, inputs)


def _family(formula: Formula, params: Tuple[Parameter, ...], inputs: Tuple[str, ...]) -> LawFamily:
    enable_float64()  # before any constant of the formula is made
    evaluate = formula.compile(jnp)
    names = tuple(p.name for p in params)

    def fn(natural, z):
        values = dict(zip(names, natural))
        values.update({name: z[:, k] for k, name in enumerate(inputs)})
        return jnp.broadcast_to(evaluate(values), z.shape[:1])

    grid_size = math.prod(len(p.init) for p in params)
    estimator = PUBLISHED_HUBER
    if grid_size > GRID_LIMIT:
        estimator = attrs.evolve(estimator, starts="random", n_random=RANDOM_STARTS)
    text = " ".join(formula.text.split())
    return natural_law(
        fn=fn,
        name="expression",
        formula=text,
        reference="a formula written in the spec (`law: {expression: ...}`)",
        description="A law written as a formula in the spec.",
        notes=(f"Fitted parameters: {', '.join(p.fitted_as for p in params)}; inputs: "
               f"{', '.join(inputs)}." + (f" Default starts: {RANDOM_STARTS} random points within "
                                          f"the ranges of a {grid_size}-point grid."
                                          if grid_size > GRID_LIMIT else "")),
        inputs=inputs,
        parameters=params,
        # A formula may take any real input; a bad value shows as a non-finite prediction.
        positive_inputs=False,
        default_estimator=estimator,
    )
