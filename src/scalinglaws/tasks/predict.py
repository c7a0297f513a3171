"""The `predict` task: the fitted law's value at given points, with confidence and prediction
intervals.

* Confidence interval (of the law's mean prediction): percentiles of the prediction over the
  bootstrap draws (``uncertainty: {method: bootstrap}``), or the delta method on the log
  prediction (``sandwich`` / ``hessian``), exp(log f +- z SE).
* Prediction interval (of a new run's observed value), when residual noise is modelled: the noise
  model is multiplicative, log y = log f(x) + e with e ~ Normal(0, s^2) and s the robust scale of
  the fit's log residuals (1.4826 x their median absolute deviation; Huber-fitted residuals have
  heavy tails, which the MAD ignores). For the bootstrap, each draw's log prediction gets an
  independent e (seeded), and the interval is the percentiles of exp(log f_b + e_b); for the delta
  method, exp(log f +- z sqrt(SE^2 + s^2)). ``noise: none`` turns prediction intervals off.
"""

from __future__ import annotations

from typing import Any, ClassVar, Dict, List, Mapping, Optional, Tuple, Union

import attrs
import jax.numpy as jnp
import numpy as np

from ..draws import predict_draws
from ..errors import FitError
from ..fields import field, one_of
from ..observations import resolve_law
from ..results import FitResult, jsonable, missing_inputs_message
from ..spec.model import EstimatorSpec, LawSpec
from ..uncertainty import UncertaintySpec, delta_se
from .fit import fit_from_json, fit_table, law_problems, parameter_rows


def _points(_inst, attribute, value) -> None:
    if not value:
        raise ValueError("`at` must list at least one point, e.g. [{N: 7.0e+10, D: 1.4e+12}]")


@attrs.frozen(kw_only=True)
class PredictTask:
    """Predict a fitted law at given points (e.g. a planned run), with intervals."""

    dataset: str = field(doc="Name of a dataset under `datasets`.")
    law: LawSpec = field(doc="Law family name, or `{family | expression, inputs, target, ...}`.")
    estimator: Optional[EstimatorSpec] = field(default=None, doc=(
        "How to fit; the family's published recipe when omitted."))
    uncertainty: UncertaintySpec = field(factory=UncertaintySpec, doc=(
        "Intervals: `{method: bootstrap | sandwich | hessian | none, n: 1000, level: 0.95}`."))
    at: Tuple[Dict[str, Union[float, str]], ...] = field(validator=_points, doc=(
        "Points to predict at, by input name: `[{N: 7.0e+10, D: 1.4e+12}]`. Run-id inputs "
        "(lr_annealing's `run`) take the names of the fitted runs or numbers; a curve law reads "
        "the points as per-step rows, rows with equal run ids forming one run from its start."))
    noise: str = field(default="log_residual", validator=one_of("log_residual", "none"), doc=(
        "Noise model of prediction intervals: `log_residual` (multiplicative, scale = 1.4826 MAD "
        "of the fit's log residuals) or `none` (confidence intervals only)."))

    def check(self, spec, registry) -> List[tuple]:
        out: List[tuple] = []
        if self.dataset not in spec.datasets:
            out.append((("dataset",), f"no dataset {self.dataset!r}; the spec defines "
                        f"{', '.join(sorted(spec.datasets)) or 'none'}"))
        out += law_problems(self.law, registry, ("law",))
        if not out and self.law.expression is None and self.law.groups is None:
            family = resolve_law(self.law, registry)
            for i, point in enumerate(self.at):
                out += point_problems(family, point, ("at", i))
        return out

    def run(self, ctx, name: str) -> PredictResult:
        table = ctx.table(self.dataset)
        family, estimator, obs, fit = fit_table(self, ctx, table)
        missing = sorted({n for p in self.at for n in family.inputs if n not in p})
        if missing:
            raise FitError(f"task {name!r}: every point of `at` needs {', '.join(missing)} "
                           f"(inputs of {family.name}); grouped laws are not supported yet")
        try:  # run names -> the fit's codes; the rows show the names again
            coded = fit.coded({n: [p[n] for p in self.at] for n in family.inputs})
            points = {n: np.asarray(v, dtype=np.float64) for n, v in coded.items()}
        except ValueError as e:
            raise FitError(f"task {name!r}: `at`: {e}") from None
        rows = predict_rows(family, obs, fit, points, noise=self.noise, seed=ctx.seed)
        for row, point in zip(rows, self.at):
            row.update({n: point[n] for n in family.id_inputs})
        return PredictResult(name=name, dataset=self.dataset, law=self.law, fit=fit, predictions=rows,
                             noise=self.noise, inputs=obs.columns, target=obs.y,
                             notes=list(table.notes))


def point_problems(family, point: Dict[str, Any], at: tuple) -> List[tuple]:
    """A point of `at` lacking inputs, or with text where a number belongs (only run-id inputs
    take names; whether a name was fitted is known once the data are loaded)."""
    missing = [n for n in family.inputs if n not in point]
    if missing:
        return [(at, f"point {missing_inputs_message(family, missing)}")]
    names = f" (only {', '.join(family.id_inputs)} takes names)" if family.id_inputs else ""
    return [(at + (n,), f"expected a number, got {v!r}{names}")
            for n, v in point.items() if isinstance(v, str) and n not in family.id_inputs]


def noise_scale(fit: FitResult, obs) -> float:
    """Robust scale of the log residuals: 1.4826 x median absolute deviation from their median."""
    r = np.log(obs.y) - np.log(fit.predict(obs.columns))
    return float(1.4826 * np.median(np.abs(r - np.median(r))))


def predict_rows(family, obs, fit: FitResult, points: Dict[str, np.ndarray], *,
                 noise: str, seed: int) -> List[Dict[str, Any]]:
    """One row per point: the prediction, and with the fit's uncertainty its confidence and
    prediction intervals (draws pushed through the law, or the delta method on log f)."""
    from scipy.stats import norm

    unc = fit.uncertainty
    pred = np.asarray(fit.predict(points), dtype=float)
    s = noise_scale(fit, obs) if noise != "none" else None
    rows = [{**{n: float(points[n][i]) for n in family.inputs}, "prediction": float(pred[i])}
            for i in range(len(pred))]
    if s is not None:
        for row in rows:
            row["noise_scale"] = s
    if unc is None:
        return rows
    level = unc.level
    q = [50 * (1 - level), 50 * (1 + level)]
    if unc.draws is not None:
        draws = predict_draws(family, unc.draw_thetas(family), points)  # (B, n)
        logd = np.log(draws)
        ci = np.nanpercentile(draws, q, axis=0)
        se = np.nanstd(draws, axis=0, ddof=1)
        pi = None
        if s is not None:
            rng = np.random.default_rng(seed)
            noisy = np.exp(logd + s * rng.standard_normal(logd.shape))
            pi = np.nanpercentile(noisy, q, axis=0)
    else:
        z_pts = jnp.asarray(family.prepare(np.column_stack([points[n] for n in family.inputs])))
        logf = family.predict_fn("log")
        se_log, _ = delta_se(lambda th: logf(th, z_pts), fit.theta, unc.cov)
        zq = float(norm.ppf(0.5 * (1 + level)))
        ci = np.array([pred * np.exp(-zq * se_log), pred * np.exp(zq * se_log)])
        se = pred * se_log
        pi = None
        if s is not None:
            tot = np.sqrt(se_log ** 2 + s ** 2)
            pi = np.array([pred * np.exp(-zq * tot), pred * np.exp(zq * tot)])
    for i, row in enumerate(rows):
        row.update(se=float(se[i]), ci_lower=float(ci[0, i]), ci_upper=float(ci[1, i]))
        if pi is not None:
            row.update(pi_lower=float(pi[0, i]), pi_upper=float(pi[1, i]))
    return rows


@attrs.frozen(kw_only=True, eq=False)
class PredictResult:
    """Predictions at the requested points, with the fit behind them."""

    name: str
    dataset: str
    law: LawSpec
    fit: FitResult
    predictions: List[Dict[str, Any]]
    noise: str
    inputs: Dict[str, np.ndarray]
    target: np.ndarray
    notes: List[str] = attrs.field(factory=list)
    truth: Optional[Dict[str, float]] = None
    kind: ClassVar[str] = "predict"

    def to_json(self) -> Dict[str, Any]:
        return jsonable({
            "name": self.name, "kind": self.kind, "dataset": self.dataset,
            "law_spec": attrs.asdict(self.law), "fit": self.fit.to_json(), "noise": self.noise,
            "predictions": self.predictions, "notes": self.notes,
            "data": {"inputs": self.inputs, "target": self.target,
                     **({"labels": self.labels} if self.labels else {})},
        })

    @property
    def labels(self) -> Dict[str, tuple]:
        """Text run ids by input (code i is labels[name][i]), as the fit task keeps them."""
        return self.fit.labels

    def rows(self) -> List[Dict[str, Any]]:
        """The fitted parameters (params.csv), as the fit task gives them."""
        return parameter_rows(self.name, self.fit)

    @classmethod
    def from_json(cls, data: Mapping[str, Any], registry=None) -> PredictResult:
        """Rebuild from results.json (for `scalinglaws report`), the fit as the fit task's."""
        law, fit, inputs, target, _ = fit_from_json(data, registry)
        return cls(name=data["name"], dataset=data["dataset"], law=law, fit=fit,
                   predictions=data["predictions"], noise=data["noise"], inputs=inputs,
                   target=target, notes=data.get("notes", []))


PredictTask.result_type = PredictResult  # what `scalinglaws report` rebuilds entries with
