"""LawFamily: a named scaling law with its parameters, inputs and pure JAX prediction."""

from __future__ import annotations

import itertools
from typing import Any, Callable, Mapping, Optional

import attrs
import numpy as np

TRANSFORMS = ("log", "identity")


@attrs.frozen(kw_only=True)
class Parameter:
    """A law parameter: its name in the paper and how it is fitted.

    ``transform='log'`` fits ``log(value)`` (named ``fit_name``, e.g. ``e = log E``), which keeps
    positive scales positive and makes the problem better conditioned. ``init`` lists default
    starting values in the fitting space; the family's start grid is their Cartesian product.
    """

    name: str
    transform: str = attrs.field(default="identity", validator=attrs.validators.in_(TRANSFORMS))
    fit_name: str = ""
    init: tuple = (0.0,)
    description: str = ""

    def to_natural(self, v):
        return np.exp(v) if self.transform == "log" else v

    def to_fit(self, v):
        if self.transform == "log":
            if not v > 0:
                raise ValueError(f"{self.name} is fitted as log({self.name}) and must be > 0, got {v}")
            return np.log(v)
        return v

    @property
    def fitted_as(self) -> str:
        return self.fit_name or (f"log {self.name}" if self.transform == "log" else self.name)


def _identity(x):
    return x


@attrs.frozen(kw_only=True, eq=False)
class LawFamily:
    """A scaling-law family.

    ``log_predict(theta, z)`` is the predicted log target for parameters ``theta`` (P,) in the
    fitting space and prepared inputs ``z = prepare(x)`` (n, k); ``log_predict_and_jac`` optionally
    returns the Jacobian too. Both are pure JAX functions, so they jit, vmap and differentiate.
    Families hash by identity: the core compiles once per family and data shape.
    """

    name: str
    formula: str
    reference: str
    inputs: tuple
    parameters: tuple
    log_predict: Callable
    log_predict_and_jac: Optional[Callable] = None
    prepare: Callable = _identity
    positive_inputs: bool = True  # inputs are scales whose logs are taken
    default_estimator: Mapping[str, Any] = attrs.field(factory=dict)
    description: str = ""
    notes: str = ""

    @property
    def param_names(self) -> tuple:
        return tuple(p.name for p in self.parameters)

    def to_natural(self, theta) -> dict:
        """Fitting-space vector -> {paper name: value}."""
        theta = np.asarray(theta, dtype=np.float64)
        return {p.name: float(p.to_natural(v)) for p, v in zip(self.parameters, theta)}

    def to_fit(self, params: Mapping[str, float]) -> np.ndarray:
        missing = [n for n in self.param_names if n not in params]
        if missing:
            raise KeyError(f"law {self.name!r} needs parameters {', '.join(missing)}")
        return np.array([p.to_fit(float(params[p.name])) for p in self.parameters])

    def default_starts(self) -> np.ndarray:
        """The Cartesian product of every parameter's default initial values, (S, P)."""
        return np.array(list(itertools.product(*(p.init for p in self.parameters))), dtype=np.float64)

    def predict(self, params: Mapping[str, float], inputs: Mapping[str, Any]) -> np.ndarray:
        """Predicted target at ``inputs`` (name -> array) for natural parameters ``params``."""
        import jax.numpy as jnp

        x = np.column_stack([np.asarray(inputs[name], dtype=np.float64) for name in self.inputs])
        z = jnp.asarray(self.prepare(x))
        theta = jnp.asarray(self.to_fit(params))
        return np.exp(np.asarray(self.log_predict(theta, z)))

    def with_fixed(self, fixed: Mapping[str, float]) -> LawFamily:
        """The same law with some parameters held at given (natural) values."""
        if not fixed:
            return self
        unknown = sorted(set(fixed) - set(self.param_names))
        if unknown:
            raise KeyError(
                f"law {self.name!r} has no parameter {', '.join(unknown)}; "
                f"its parameters are {', '.join(self.param_names)}"
            )
        import jax.numpy as jnp

        from .. import core  # noqa: F401  (turns on float64 before constants are made)

        free_idx = [i for i, p in enumerate(self.parameters) if p.name not in fixed]
        full = np.zeros(len(self.parameters))
        for i, p in enumerate(self.parameters):
            if p.name in fixed:
                full[i] = p.to_fit(float(fixed[p.name]))
        full_c = jnp.asarray(full)
        idx = jnp.asarray(free_idx, dtype=jnp.int32)
        base_f, base_fj = self.log_predict, self.log_predict_and_jac

        def expand(theta):
            return full_c.at[idx].set(theta)

        def log_predict(theta, z):
            return base_f(expand(theta), z)

        log_predict_and_jac = None
        if base_fj is not None:

            def log_predict_and_jac(theta, z):
                y, jac = base_fj(expand(theta), z)
                return y, jac[:, idx]

        described = ", ".join(f"{k}={v:g}" for k, v in fixed.items())
        return attrs.evolve(
            self,
            name=f"{self.name}[{described}]",
            parameters=tuple(self.parameters[i] for i in free_idx),
            log_predict=log_predict,
            log_predict_and_jac=log_predict_and_jac,
        )
