"""The default estimator: robust loss, multi-start (grid, Sobol, random, variable projection),
Levenberg-Marquardt (or optax L-BFGS / Adam) in the JAX core, diagnostics on every fit."""

from __future__ import annotations

import functools
from typing import Any, Dict

import attrs
import jax.numpy as jnp
import numpy as np

from .. import core
from ..core.objectives import LOSSES, make_loss
from ..errors import FitError
from ..fields import at_least, field, one_of, positive
from ..results import FitResult
from .protocol import ParameterDraws


@functools.cache
def core_model(family, space: str):
    """The family's prediction in the residual space, built once so jit compiles once per family."""
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


def registered_loss(_inst, attribute, value) -> None:
    """Field validator: ``value`` names a loss registered in ``scalinglaws.core.objectives``."""
    one_of(*LOSSES)(_inst, attribute, value)


def _loss_args(inst, attribute, value) -> None:
    if inst is not None:  # spec loading validates field by field (no instance): see check()
        make_loss(inst.loss, float(inst.delta), value)


@attrs.frozen(kw_only=True)
class MultiStart:
    """Minimise the sum over points of a robust loss of the residuals from many starting points.

    objective(theta) = sum_i w_i rho(r_i), r_i = log f(x_i; theta) - log y_i (``space: log``) or
    f(x_i; theta) - y_i (``space: linear``), rho a loss registered by name in
    ``scalinglaws.core.objectives`` (Huber 1964, squared error, ...).
    The default for Chinchilla is the recipe of Hoffmann et al. (2022) as refitted by Besiroglu et
    al. (2024): Huber with delta = 1e-3 on log residuals, summed, from a 4500-point grid.
    """

    loss: str = field(default="huber", validator=registered_loss, doc=(
        "Per-point loss, by name: `huber`, `squared` or another registered loss (the list and "
        "formulas: docs/estimators.md)."))
    delta: float = field(default=1e-3, validator=positive, doc=(
        "Threshold of the Huber-type losses, in residual units (ignored by `squared`)."))
    loss_args: dict[str, float] = field(factory=dict, validator=_loss_args, doc=(
        "The loss's own parameters beyond `delta`, by name, e.g. `{k: 4}`; each loss declares "
        "them with their defaults (docs/estimators.md)."))
    space: str = field(default="log", validator=one_of("log", "linear"),
                       doc="Residuals of log target (`log`) or of the target itself (`linear`).")
    solver: str = field(default="lm", validator=one_of("lm", "lbfgs", "adam"), doc=(
        "`lm`: Levenberg-Marquardt with IRLS weights for the robust loss (default; fastest on "
        "small laws); `lbfgs`: optax L-BFGS with a zoom line search (gradient only: suits laws "
        "with many parameters); `adam`: optax Adam (robust on awkward objectives but slow to "
        "converge; its survivors are polished with `lm`)."))
    starts: str = field(default="grid", validator=one_of("grid", "random", "sobol", "varpro"), doc=(
        "Initial points: the family's default `grid`; `random` or `sobol` (scrambled Sobol) points "
        "within the grid's ranges; `varpro`: variable projection (laws linear in some parameters, "
        "e.g. Chinchilla's E, A, B): a grid over the exponents, nonnegative least squares for "
        "the linear parameters, the best 32 by the true objective polished with `lm`."))
    n_random: int = field(default=512, validator=at_least(1),
                          doc="How many `random` or `sobol` starts.")
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

    def core_loss(self):
        """The loss as the compiled core takes it (:class:`scalinglaws.core.Loss`)."""
        return make_loss(self.loss, float(self.delta), self.loss_args)

    def _solver_args(self) -> Dict[str, Any]:
        """The keyword arguments of the core's multi-start solvers (``core.fit``, ``bootstrap``)."""
        schedule = core.DEFAULT_SCHEDULE if self.schedule == "halving" else core.FULL_SCHEDULE
        return dict(loss=self.core_loss(), schedule=schedule, max_iter=self.max_iter, ftol=self.ftol)

    def describe(self) -> Dict[str, Any]:
        return {"name": "multistart", **attrs.asdict(self)}

    def check(self, family) -> list:
        problems: list = []
        try:  # spec loading checks fields one by one; the arguments need the loss
            self.core_loss()
        except ValueError as err:
            problems.append((("loss_args",), str(err)))
        if self.starts == "varpro" and family.linear_structure is None:
            problems.append((("starts",), f"law {family.name!r} declares no linear structure "
                             "(`LawFamily.linear_structure`; a law with fixed, tied or grouped "
                             "parameters has none) for `starts: varpro`; use `starts: grid` or "
                             "`sobol`"))
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
        if self.starts in ("grid", "varpro"):
            pts = core.starts.grid(values)
        else:
            lo, hi = core.starts.ranges_of(values)
            draw = core.starts.sobol if self.starts == "sobol" else core.starts.random
            pts = draw(lo, hi, self.n_random, seed=seed)
        pts = pts[:, column_axis]
        extra = [family.to_fit(p) for p in self.init]
        return np.vstack([pts] + [np.atleast_2d(e) for e in extra]) if extra else pts

    def _problem(self, family, obs):
        """(model in the residual space, prepared inputs z, target t in that space, weights)."""
        if self.space == "log" and obs.space != "log" and not np.all(obs.y[obs.live] > 0):
            raise FitError("log residuals (`space: log`) need a positive target; these "
                           "observations have values <= 0 (use `space: linear`)")
        z = np.asarray(family.prepare(np.asarray(obs.x, dtype=np.float64)), dtype=np.float64)
        y = np.asarray(obs.y, dtype=np.float64)
        t = np.log(y) if self.space == "log" else y
        w = None if obs.weights is None else np.asarray(obs.weights, dtype=np.float64)
        return core_model(family, self.space), z, t, w

    def draws(self, family, obs, fit=None, *, n: int, seed: int = 0) -> ParameterDraws:
        """Nonparametric bootstrap: ``n`` resamples of the live rows, each refitted from the best
        distinct minima of the full fit, all in one compiled call (:func:`core.bootstrap`); the
        same seed and rows give the same resamples, so candidates on one dataset are paired."""
        model, z, t, w = self._problem(family, obs)
        out = core.bootstrap(model, self.starting_points(family, seed), z, t, w, n_resamples=n,
                             seed=seed, **self._solver_args())
        return ParameterDraws(thetas=np.asarray(out.thetas), method="bootstrap",
                              n_converged=int(np.sum(np.asarray(out.converged))), seed=seed)

    def covariance(self, family, obs, fit, *, method: str = "sandwich") -> np.ndarray:
        """(P, P) covariance of ``fit.theta`` from the Gauss-Newton Hessian of the robust
        objective: ``sandwich`` (Huber 1967; robust to heteroscedastic residuals) or ``hessian``
        (homoscedastic), see :func:`core.hessian_se`."""
        model, z, t, w = self._problem(family, obs)
        se = core.hessian_se(model, np.asarray(fit.theta, dtype=np.float64), z, t, w,
                             loss=self.core_loss(), method=method)
        return np.asarray(se.cov)

    def fit(self, family, obs, *, seed: int = 0) -> FitResult:
        """Fit ``family`` to :class:`~scalinglaws.observations.Observations` ``obs`` (rows of
        weight 0 left out)."""
        n, p = int(np.sum(obs.live)), len(family.parameters)
        if n <= p:
            raise FitError(f"{n} points cannot determine the {p} parameters of {family.name!r} "
                           f"({', '.join(family.param_names)}); add runs or fix parameters")
        model, z, t, w = self._problem(family, obs)
        args = self._solver_args()
        loss = args["loss"]
        reason_code = None
        if self.starts == "varpro":
            structure = family.linear_structure
            if structure is None:
                raise FitError(f"law {family.name!r} declares no linear structure for `starts: "
                               "varpro`; use `starts: grid`")
            extra = [family.to_fit(p) for p in self.init]
            out = core.varpro.fit_varpro(model, structure, z, t, w, loss=loss, space=self.space,
                                    extra_starts=np.vstack(extra) if extra else None,
                                    max_iter=self.max_iter, ftol=self.ftol)
            n_starts = len(core.varpro.varpro_grid(structure)) + len(extra)
        else:
            starts = self.starting_points(family, seed)
            n_starts = len(starts)
            if self.solver == "lm":
                out = core.fit(model, starts, z, t, w, **args)
            else:
                out, reasons = core.fit_optax(model, starts, z, t, w, solver=self.solver,
                                              return_reasons=True, **args)
                reason_code = int(np.asarray(reasons)[0])
                if self.solver == "adam":
                    # Adam gets near the optimum but slowly to a tight tolerance: LM finishes.
                    good = np.isfinite(np.asarray(out.values))
                    out = core.fit(model, np.asarray(out.thetas)[good] if good.any()
                                   else np.asarray(out.thetas), z, t, w,
                                   **{**args, "schedule": core.FULL_SCHEDULE})
                    reason_code = None
        value = float(out.value)
        if not np.isfinite(value):
            raise FitError(f"no starting point of {family.name!r} gave a finite objective; check "
                           "the data (e.g. zeros where logs are taken) or give `init` points")
        theta = np.asarray(out.theta)
        params = family.to_natural(theta)
        converged = bool(np.asarray(out.converged)[0])
        iterations = int(np.asarray(out.iterations)[0])
        n_at_best = int(out.n_at_best)
        reason = (core.diagnostics.reason_from_optax(reason_code) if reason_code is not None
                  else core.diagnostics.reason_from_lm(converged, iterations, self.max_iter, value))
        try:
            diagnostics = core.diagnostics.summarise(
                model=model, theta=theta, x=z, target=t, weights=w, loss=loss,
                param_names=family.param_names, natural=params, ranges=_ranges(family),
                reason=reason, n_at_best=n_at_best, n_polished=len(out.values),
                iterations=iterations)
        except Exception as err:  # diagnostics must never fail a fit
            diagnostics = {"converged": converged, "reason": reason.name, "message": reason.message,
                           "warnings": [f"diagnostics failed: {err}"]}
        return FitResult(
            law=family,
            params=params,
            theta=theta,
            objective=value,
            n_points=n,
            n_starts=n_starts,
            n_polished=len(out.values),
            n_at_best=n_at_best,
            converged=converged,
            iterations=iterations,
            estimator=self.describe(),
            diagnostics=diagnostics,
        )


def _ranges(family) -> Dict[str, tuple]:
    """Each parameter's stated range in natural units: ``realistic``, else its init range."""
    out = {}
    for p in family.parameters:
        if p.realistic is not None:
            out[p.name] = tuple(p.realistic)
        elif len(p.init) > 1:
            lo, hi = p.to_natural(float(min(p.init))), p.to_natural(float(max(p.init)))
            out[p.name] = (min(lo, hi), max(lo, hi))
    return out
