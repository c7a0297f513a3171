"""The default estimator: robust loss, multi-start grid, Levenberg-Marquardt in the JAX core."""

from __future__ import annotations

import functools
from typing import Any, Dict, Optional

import attrs
import numpy as np

from ..errors import FitError
from ..results import FitResult
from ..spec.fields import at_least, field, one_of, positive


@functools.cache
def core_model(family, space: str):
    """The family's prediction in the residual space, built once so jit compiles once per family."""
    import jax.numpy as jnp

    from .. import core

    if space == "log":
        jac = family.log_predict_and_jac if family.log_predict is not None else None
        return core.Model(family.predict_fn("log"), jac)
    fj = None
    if family.linear_predict is None and family.log_predict_and_jac is not None:
        def fj(theta, z):
            y, jac = family.log_predict_and_jac(theta, z)
            e = jnp.exp(y)
            return e, e[:, None] * jac

    return core.Model(family.predict_fn("linear"), fj)


@attrs.frozen(kw_only=True)
class MultiStart:
    """Minimise the sum over points of a robust loss of the residuals from many starting points.

    objective(theta) = sum_i w_i rho(r_i), r_i = log y_i - log f(x_i; theta) (``space: log``) or
    y_i - f(x_i; theta) (``space: linear``), rho the Huber loss (Huber 1964) or squared error.
    The default for Chinchilla is the recipe of Hoffmann et al. (2022) as refitted by Besiroglu et
    al. (2024): Huber with delta = 1e-3 on log residuals, summed, from a 4500-point grid.
    """

    loss: str = field(default="huber", validator=one_of("huber", "squared"),
                      doc="Per-point loss: `huber` or `squared`.")
    delta: float = field(default=1e-3, validator=positive, doc="Huber threshold on residuals.")
    space: str = field(default="log", validator=one_of("log", "linear"),
                       doc="Residuals of log target (`log`) or of the target itself (`linear`).")
    starts: str = field(default="grid", validator=one_of("grid", "random"), doc=(
        "Initial points: the family's default `grid`, or `random` points drawn uniformly within "
        "the grid's ranges."))
    n_random: int = field(default=512, validator=at_least(1), doc="How many random starts.")
    grid: dict[str, tuple[float, ...]] = field(factory=dict, doc=(
        "Override a parameter's grid values, in the fitting space (`log E` for E): "
        "`{alpha: [0.2, 0.4]}`. With `groups:`, `E` sets the values of every copy `E[g]`."))
    init: tuple[dict[str, float], ...] = field(factory=tuple, doc=(
        "Extra starting points, by parameter name in natural units: `[{E: 1.7, A: 400, ...}]`; "
        "with `groups:`, `E` stands for every copy `E[g]` not named."))
    schedule: str = field(default="halving", validator=one_of("halving", "full"), doc=(
        "`halving`: screen every start briefly and polish the best few; `full`: run every start "
        "to convergence (slower; counts all starts that reach the optimum)."))
    max_iter: int = field(default=500, validator=at_least(1), doc="Iteration cap per start.")
    ftol: float = field(default=1e-12, validator=positive, doc=(
        "Relative decrease of the objective below which a step counts as negligible; two in a row "
        "stop a start."))

    def describe(self) -> Dict[str, Any]:
        return {"name": "multistart", **attrs.asdict(self)}

    def check(self, family) -> list:
        problems = []
        known = set(family.param_names) | {p.copy_of for p in family.parameters if p.copy_of}
        for name in self.grid:
            if name not in known:
                problems.append((("grid", name), f"law {family.name!r} has no parameter {name!r}; "
                                 f"its parameters are {', '.join(family.param_names)}"))
        return problems

    def starting_points(self, family, seed: int) -> np.ndarray:
        # One axis of the grid per parameter, except that the per-group copies E[g] of a grouped
        # law (LawFamily.with_groups) share the axis of E: every group starts from the same
        # values, so splitting rows into groups does not multiply the number of starts.
        axes: Dict[str, tuple] = {}
        column_axis = []
        for p in family.parameters:
            key = p.name if p.name in self.grid or p.copy_of is None else p.copy_of
            axes.setdefault(key, tuple(self.grid.get(key, p.init)))
            column_axis.append(list(axes).index(key))
        values = list(axes.values())
        if self.starts == "grid":
            import itertools

            pts = np.array(list(itertools.product(*values)), dtype=np.float64)
        else:
            rng = np.random.default_rng(seed)
            lo = np.array([min(v) for v in values])
            hi = np.array([max(v) for v in values])
            pts = lo + (hi - lo) * rng.random((self.n_random, len(values)))
        pts = pts[:, column_axis]
        extra = [family.to_fit(p) for p in self.init]
        return np.vstack([pts] + [np.atleast_2d(e) for e in extra]) if extra else pts

    def fit(self, family, x: np.ndarray, y: np.ndarray, *, weights: Optional[np.ndarray] = None,
            seed: int = 0) -> FitResult:
        """Fit ``family`` to inputs ``x`` (n, k; columns in ``family.inputs`` order) and target ``y``."""
        from .. import core

        n, p = len(y), len(family.parameters)
        if n <= p:
            raise FitError(f"{n} points cannot determine the {p} parameters of {family.name!r} "
                           f"({', '.join(family.param_names)}); add runs or fix parameters")
        z = np.asarray(family.prepare(np.asarray(x, dtype=np.float64)), dtype=np.float64)
        t = np.log(y) if self.space == "log" else np.asarray(y, dtype=np.float64)
        starts = self.starting_points(family, seed)
        schedule = core.DEFAULT_SCHEDULE if self.schedule == "halving" else core.FULL_SCHEDULE
        out = core.fit(core_model(family, self.space), starts, z, t,
                       None if weights is None else np.asarray(weights, dtype=np.float64),
                       loss=core.Loss(self.loss, float(self.delta)), schedule=schedule,
                       max_iter=self.max_iter, ftol=self.ftol)
        value = float(out.value)
        if not np.isfinite(value):
            raise FitError(f"no starting point of {family.name!r} gave a finite objective; check "
                           "the data (e.g. zeros where logs are taken) or give `init` points")
        theta = np.asarray(out.theta)
        return FitResult(
            law=family,
            params=family.to_natural(theta),
            theta=theta,
            objective=value,
            n_points=n,
            n_starts=len(starts),
            n_polished=len(out.values),
            n_at_best=int(out.n_at_best),
            converged=bool(np.asarray(out.converged)[0]),
            iterations=int(np.asarray(out.iterations)[0]),
            estimator=self.describe(),
        )
