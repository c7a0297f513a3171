"""LawFamily: a named scaling law with its parameters, inputs and pure JAX prediction."""

from __future__ import annotations

import itertools
from collections import OrderedDict, abc
from typing import Any, Callable, Mapping, Optional

import attrs
import jax
import jax.numpy as jnp
import numpy as np

from ..core import enable_float64
from .groups import group_label, with_groups

TRANSFORMS = ("log", "identity", "logit", "bounded")


@attrs.frozen(kw_only=True)
class Parameter:
    """A law parameter: its name in the paper and how it is fitted.

    ``transform='log'`` fits ``log(value)`` (named ``fit_name``, e.g. ``e = log E``), which keeps
    positive scales positive and makes the problem better conditioned; ``logit`` maps (0, 1) to
    the real line; ``bounded`` maps (``lower``, ``upper``) to it through a scaled sigmoid. ``init``
    lists default starting values in the fitting space; the family's start grid is their
    Cartesian product.
    """

    name: str
    transform: str = attrs.field(default="identity", validator=attrs.validators.in_(TRANSFORMS))
    fit_name: str = ""
    init: tuple = (0.0,)
    description: str = ""
    lower: Optional[float] = None  # for `bounded`
    upper: Optional[float] = None
    # Typical values in natural units (lo, hi), e.g. published fits; simulation and property tests
    # draw true values from here (scalinglaws.testing.strategies). None: the range of `init`.
    realistic: Optional[tuple] = None
    # Set on the per-group copies `E[g]` made by LawFamily.with_groups: the parameter copied (`E`).
    # Estimators start all copies of one parameter from the same values.
    copy_of: Optional[str] = None

    def __attrs_post_init__(self):
        if self.transform == "bounded" and not (
                self.lower is not None and self.upper is not None and self.lower < self.upper):
            raise ValueError(f"parameter {self.name}: `bounded` needs lower < upper")

    def to_natural(self, v):
        """Fitting space -> natural value (numpy or JAX arrays alike)."""
        if self.transform == "log":
            return np.exp(v) if isinstance(v, (float, np.ndarray, np.floating)) else jnp.exp(v)
        if self.transform in ("logit", "bounded"):
            sig = 1.0 / (1.0 + np.exp(-v)) if isinstance(v, (float, np.ndarray, np.floating)) else (
                jax.nn.sigmoid(v))
            return sig if self.transform == "logit" else self.lower + (self.upper - self.lower) * sig
        return v

    def to_fit(self, v):
        """Natural value -> fitting space, refusing values outside the parameter's domain."""
        if self.transform == "log":
            if not v > 0:
                raise ValueError(f"{self.name} is fitted as log({self.name}) and must be > 0, got {v}")
            return np.log(v)
        if self.transform in ("logit", "bounded"):
            lo, hi = (0.0, 1.0) if self.transform == "logit" else (self.lower, self.upper)
            if not lo < v < hi:
                raise ValueError(f"{self.name} must lie in ({lo:g}, {hi:g}), got {v}")
            u = (v - lo) / (hi - lo)
            return float(np.log(u) - np.log1p(-u))
        return v

    @property
    def fitted_as(self) -> str:
        if self.fit_name:
            return self.fit_name
        return {"log": f"log {self.name}", "logit": f"logit {self.name}",
                "bounded": f"bounded {self.name}"}.get(self.transform, self.name)


def _identity(x):
    return x


@attrs.frozen(kw_only=True, eq=False)
class EstimatorRecipe(abc.Mapping):
    """A law's default estimator: options of the ``multistart`` estimator (its published fitting
    recipe), used when a spec or ``scalinglaws.fit`` names no estimator. A read-only mapping of the
    options that are set (``MultiStart(**recipe)``); derive a variant with ``attrs.evolve``."""

    loss: str
    delta: Optional[float] = None
    space: str = "log"
    starts: Optional[str] = None
    n_random: Optional[int] = None
    schedule: Optional[str] = None

    def _set(self) -> dict:
        return {k: v for k, v in attrs.asdict(self).items() if v is not None}

    def __getitem__(self, key):
        return self._set()[key]

    def __iter__(self):
        return iter(self._set())

    def __len__(self) -> int:
        return len(self._set())


# The recipe of Hoffmann et al. (2022), refitted by Besiroglu et al. (2024), that most papers
# follow: Huber (delta 1e-3) on log residuals, summed over points.
PUBLISHED_HUBER = EstimatorRecipe(loss="huber", delta=1e-3, space="log")


@attrs.frozen(kw_only=True, eq=False)
class LawFamily:
    """A scaling-law family.

    ``log_predict(theta, z)`` is the predicted log target for parameters ``theta`` (P,) in the
    fitting space and prepared inputs ``z = prepare(x)`` (n, k); ``log_predict_and_jac`` optionally
    returns the Jacobian too. Laws whose target may be zero or negative, or that are naturally
    fitted on linear residuals, give ``linear_predict(theta, z)`` instead (or as well). All are
    pure JAX functions, so they jit, vmap and differentiate. Families hash by identity: the core
    compiles once per family and data shape. :func:`natural_law` builds a family from a function
    of the parameters in natural units.
    """

    name: str
    formula: str
    reference: str
    inputs: tuple
    parameters: tuple
    log_predict: Optional[Callable] = None
    log_predict_and_jac: Optional[Callable] = None
    linear_predict: Optional[Callable] = None
    prepare: Callable = _identity
    positive_inputs: bool = True  # inputs are scales whose logs are taken
    default_estimator: Mapping[str, Any] = attrs.field(factory=dict)
    description: str = ""
    # What the rest of the package may ask of a law, declared instead of matched by name. None: the
    # law has no such knowledge. With_fixed / with_tied / with_groups keep a declaration only while
    # it still applies (see there).
    # The split into nonlinear parameters and linear coefficients (core.varpro.LinearStructure):
    # `starts: varpro` is available exactly for laws that declare one.
    linear_structure: Optional[Any] = None
    # derived(params) -> {name: value}: budget-free quantities of the natural parameters, reported
    # with intervals, e.g. Chinchilla's a, b, G. Called with floats (the estimate), NumPy arrays
    # (draws) and JAX scalars (the delta method): write it with arithmetic only. `a` and `b`, if
    # given, are the exponents of N_opt and D_opt in C, which the allocate task reports.
    derived: Optional[Callable] = None
    # allocation(params, budgets) -> {"N_opt", "D_opt", "tokens_per_param"}: the compute-optimal
    # model size and data at compute budgets C (K,), in closed form. Parameters are NumPy arrays of
    # shape (B,) (give (B, K)) or (), or JAX scalars (the delta method differentiates it). The
    # allocate task uses it (`method: closed_form`), else minimises the law numerically.
    allocation: Optional[Callable] = None
    notes: str = ""
    # Names reported with the value of another parameter: {tied: source}, set by `with_tied`.
    aliases: Mapping[str, str] = attrs.field(factory=dict)
    # Set by `with_groups`: the group-index input, the group labels and the shared parameters.
    grouping: Optional[Any] = None
    # Inputs that identify a run or curve (labels, not quantities), e.g. lr_annealing's `run`:
    # text values are accepted and coded 0, 1, ... in order of first appearance, and the fit
    # figure draws one curve per value instead of using the id as an axis.
    id_inputs: tuple = ()
    # The input on the fit figure's x axis; None: the first input. Laws of whole curves set it
    # (lr_annealing plots against `step`), as their first input is not a quantity.
    plot_x: Optional[str] = None

    def __attrs_post_init__(self):
        if self.log_predict is None and self.linear_predict is None:
            raise ValueError(f"law {self.name!r} needs log_predict or linear_predict")
        s = self.linear_structure
        if s is not None and (not set(s.nonlinear) <= set(self.param_names)
                              or len(s.axes) != len(s.nonlinear)):
            raise ValueError(f"law {self.name!r}: the linear structure's nonlinear parameters "
                             f"{s.nonlinear} must be parameters of the law, one grid axis each")

    def predict_fn(self, space: str) -> Callable:
        """``f(theta, z)`` in ``space`` ("log" or "linear"), derived from whichever form exists."""
        if space == "log":
            if self.log_predict is not None:
                return self.log_predict
            lin: Callable = self.linear_predict  # type: ignore[assignment]  # one form exists
            return lambda theta, z: jnp.log(lin(theta, z))
        if self.linear_predict is not None:
            return self.linear_predict
        logf: Callable = self.log_predict  # type: ignore[assignment]
        return lambda theta, z: jnp.exp(logf(theta, z))

    @property
    def param_names(self) -> tuple:
        return tuple(p.name for p in self.parameters)

    def to_natural(self, theta) -> dict:
        """Fitting-space vector -> {paper name: value}, tied names (``aliases``) included."""
        theta = np.asarray(theta, dtype=np.float64)
        out = {p.name: float(p.to_natural(v)) for p, v in zip(self.parameters, theta)}
        out.update({tied: out[source] for tied, source in self.aliases.items() if source in out})
        return out

    def to_fit(self, params: Mapping[str, float]) -> np.ndarray:
        """{name: natural value} -> fitting-space vector. A per-group copy ``E[g]`` missing from
        ``params`` takes the value given for ``E``; tied names are ignored (their source counts)."""

        def value(p):
            return params[p.name] if p.name in params else params.get(p.copy_of) if p.copy_of else None

        missing = [p.name for p in self.parameters if value(p) is None]
        if missing:
            raise KeyError(f"law {self.name!r} needs parameters {', '.join(missing)}")
        return np.array([p.to_fit(float(value(p))) for p in self.parameters])

    def default_starts(self) -> np.ndarray:
        """The Cartesian product of every parameter's default initial values, (S, P)."""
        return np.array(list(itertools.product(*(p.init for p in self.parameters))), dtype=np.float64)

    def predict(self, params: Mapping[str, float], inputs: Mapping[str, Any]) -> np.ndarray:
        """Predicted target at ``inputs`` (name -> array) for natural parameters ``params``."""
        enable_float64()  # predictions feed simulations and fits
        x = np.column_stack([np.asarray(inputs[name], dtype=np.float64) for name in self.inputs])
        z = jnp.asarray(self.prepare(x))
        theta = jnp.asarray(self.to_fit(params))
        return np.asarray(self.predict_fn("linear")(theta, z))

    def with_fixed(self, fixed: Mapping[str, float]) -> LawFamily:
        """The same law with some parameters held at given (natural) values."""
        if not fixed:
            return self
        key = tuple(sorted((str(k), float(v)) for k, v in fixed.items()))
        return _derived(("fixed", self, key), lambda: self._build_fixed(fixed))

    def _build_fixed(self, fixed: Mapping[str, float]) -> LawFamily:
        unknown = sorted(set(fixed) - set(self.param_names))
        if unknown:
            raise KeyError(
                f"law {self.name!r} has no parameter {', '.join(unknown)}; "
                f"its parameters are {', '.join(self.param_names)}"
            )
        enable_float64()  # before constants are made
        free_idx = [i for i, p in enumerate(self.parameters) if p.name not in fixed]
        full = np.zeros(len(self.parameters))
        for i, p in enumerate(self.parameters):
            if p.name in fixed:
                full[i] = p.to_fit(float(fixed[p.name]))
        full_c = jnp.asarray(full)
        idx = jnp.asarray(free_idx, dtype=jnp.int32)
        described = ", ".join(f"{k}={v:g}" for k, v in fixed.items())
        # The declarations take every parameter of the law: a fixed one is no longer among the
        # fitted (and reported) parameters, so the fixed law declares none of them.
        return self._reparametrised(
            lambda theta: full_c.at[idx].set(theta), lambda jac: jac[:, idx],
            name=f"{self.name}[{described}]",
            parameters=tuple(self.parameters[i] for i in free_idx),
            linear_structure=None, derived=None, allocation=None)

    def with_tied(self, ties: Mapping[str, str]) -> LawFamily:
        """The same law with parameters constrained equal: ``{"beta": "alpha"}`` fits one value
        for both (Muennighoff et al. 2023 fit alpha = beta). The tied name leaves ``parameters``
        and is reported with its source's value (``aliases``).

        Tied parameters must share their transform (and bounds): equal values in the fitting
        space are then equal natural values, and the fitting space stays what the family chose.
        """
        if not ties:
            return self
        key = tuple(sorted(ties.items()))
        return _derived(("tied", self, key), lambda: self._build_tied(ties))

    def _build_tied(self, ties: Mapping[str, str]) -> LawFamily:
        names = self.param_names
        by_name = {p.name: p for p in self.parameters}
        for tied, source in ties.items():
            for n in (tied, source):
                if n not in by_name:
                    raise KeyError(f"law {self.name!r} has no parameter {n!r}; its parameters are "
                                   f"{', '.join(names)}")
            if tied == source or source in ties:
                raise ValueError(f"cannot tie {tied} to {source}: tie every parameter directly to "
                                 "one that stays free (e.g. {beta: alpha, gamma: alpha})")
            a, b = by_name[tied], by_name[source]
            if (a.transform, a.lower, a.upper) != (b.transform, b.lower, b.upper):
                raise ValueError(f"cannot tie {tied} (fitted as {a.fitted_as}) to {source} (fitted "
                                 f"as {b.fitted_as}): tied parameters need the same transform")
        enable_float64()  # before constants are made
        free = [p for p in self.parameters if p.name not in ties]
        position = {p.name: i for i, p in enumerate(free)}
        # theta_full = theta[source_of]; the Jacobian sums the columns of parameters tied together.
        source_of = np.array([position[ties.get(n, n)] for n in names])
        merge = np.zeros((len(names), len(free)))
        merge[np.arange(len(names)), source_of] = 1.0
        src, merge_c = jnp.asarray(source_of), jnp.asarray(merge)
        # Every parameter is still reported (a tied one under its alias), so derived quantities
        # and the allocation still apply; the linear structure builds the full parameter vector,
        # which the tied law no longer has.
        return self._reparametrised(
            lambda theta: theta[src], lambda jac: jac @ merge_c,
            name=f"{self.name}[{', '.join(f'{t}={s}' for t, s in ties.items())}]",
            parameters=tuple(free), aliases={**self.aliases, **ties}, linear_structure=None)

    def with_groups(self, labels, shared=(), *, input_name: str = "group") -> LawFamily:
        """One law for several groups of rows: parameters in ``shared`` are common to all groups,
        every other parameter ``E`` gets one copy per group, ``E[label]``. The inputs gain
        ``input_name``: each row's group index (0-based, into ``labels``). See
        :func:`scalinglaws.laws.groups.with_groups`."""
        key = (tuple(group_label(v) for v in labels), tuple(shared), input_name)
        return _derived(("groups", self, key),
                        lambda: with_groups(self, labels, shared, input_name=input_name))

    def _reparametrised(self, expand: Callable, reduce_jac: Callable, **changes) -> LawFamily:
        """This law in new parameters: ``expand(theta_new)`` gives the old vector and
        ``reduce_jac`` maps an old Jacobian (n, P) to the new one (n, P')."""
        base_f, base_fj, base_lin = self.log_predict, self.log_predict_and_jac, self.linear_predict
        log_predict = None if base_f is None else (lambda theta, z: base_f(expand(theta), z))
        linear_predict = None if base_lin is None else (lambda theta, z: base_lin(expand(theta), z))
        log_predict_and_jac = None
        if base_fj is not None:

            def log_predict_and_jac(theta, z):
                y, jac = base_fj(expand(theta), z)
                return y, reduce_jac(jac)

        return attrs.evolve(self, log_predict=log_predict, log_predict_and_jac=log_predict_and_jac,
                            linear_predict=linear_predict, **changes)


# Families derived by with_fixed / with_tied / with_groups, by (kind, family, arguments). The core
# compiles once per family object (families hash by identity): handing back the same object for the
# same request lets repeated fits (bootstrap, property tests, a spec run twice) reuse compilations.
_DERIVED: OrderedDict[tuple, LawFamily] = OrderedDict()
_DERIVED_MAX = 256


def _derived(key: tuple, build: Callable[[], LawFamily]) -> LawFamily:
    if key in _DERIVED:
        _DERIVED.move_to_end(key)
        return _DERIVED[key]
    family = build()
    _DERIVED[key] = family
    if len(_DERIVED) > _DERIVED_MAX:
        _DERIVED.popitem(last=False)
    return family


def natural_law(*, fn: Callable, **kwargs) -> LawFamily:
    """A family from ``fn(p, z)``: the prediction for natural parameter values ``p`` (a tuple in
    the order of ``parameters``, each already transformed back from the fitting space) and
    prepared inputs ``z`` (n, k). Jacobians come from forward-mode differentiation.

    >>> import numpy as np
    >>> law = natural_law(name="demo", formula="y = a x^b", reference="-", inputs=("x",),
    ...                   parameters=(Parameter(name="a", transform="log", init=(0.0,)),
    ...                               Parameter(name="b", init=(1.0,))),
    ...                   fn=lambda p, z: p[0] * z[:, 0] ** p[1])
    >>> float(law.predict({"a": 2.0, "b": 3.0}, {"x": np.array([2.0])})[0])
    16.0
    """
    parameters = kwargs["parameters"]

    def linear_predict(theta, z):
        natural = tuple(p.to_natural(theta[i]) for i, p in enumerate(parameters))
        return fn(natural, z)

    return LawFamily(linear_predict=linear_predict, **kwargs)
