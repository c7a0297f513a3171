"""Mixture laws: validation loss per domain as a function of the mixture proportions r.

Every law here has the same shape, a constant plus a sum of exponentials of linear functions of
the (effective) proportions, per validation domain i:

    L_i(r) = c_i + sum_{h=1..H} exp(w_ih . r~),     r~ = r (or the effective proportions below)

* ``mixing_exp`` (H = 1): Ye et al. 2024, "Data Mixing Laws: Optimizing Data Mixtures by Predicting
  Language Modeling Performance", eq. (the mixing law) L_i(r) = c_i + k_i exp(sum_j t_ij r_j).
  Difference from the paper: on the simplex k_i is not identifiable apart from t_i (k exp(t.r) =
  exp((t + log k 1).r) because sum_j r_j = 1), so the fit absorbs it, w_i = t_i + log k_i, and
  reports the paper's form with the gauge sum_j t_ij = 0 (k_i = exp(mean_j w_ij), t_ij = w_ij -
  mean_j w_ij). The authors' code (yegcjs/mixinglaws, ``pipeline/utils.py: mixture_law_``) has both
  log k and t free, fitted with L-BFGS on a Huber loss (delta 0.02) of the loss itself; here log c
  and w are fitted by the core's Levenberg-Marquardt on log residuals, log L = logaddexp(log c,
  w.r), with an analytic Jacobian, from least-squares starts (log(L - c0) regressed on r for a few
  c0 below min L).
* ``mixing_exp_repetition``: the same law of the *effective* mixture under repetition. A source j
  with U_j unique tokens used for D_j = r_j T tokens of a budget T is repeated R_j = max(D_j / U_j
  - 1, 0) times; Muennighoff et al. 2023 ("Scaling Data-Constrained Language Models") count its
  effective tokens as D'_j = min(D_j, U_j) + U_j R* (1 - exp(-R_j / R*)), R* = 15.4 (their fitted
  R*_D). The law sees r~_j = D'_j / sum_k D'_k. Renormalising keeps the law gauge-free (w.r~ with
  sum r~ = 1, as above); the plain r'_j = D'_j / T would make predictions depend on the unidentified
  k_i whenever repetition occurs, and the loss of effective *total* tokens (sum D' < T) is a
  data-scale effect that belongs to a scale law, not to a mixing law at fixed T.
* ``mixing_mlp``: a regression surrogate for when no single exponential fits: the exp-activation
  network of Ye et al.'s code (``MixtureMLP``: h = exp(W r + b), output softmax(v).h + bias),
  which is exactly the H-term form above (softmax weights and b are absorbed into W on the
  simplex). Fitted with optax Adam on log residuals from the ``mixing_exp`` fit (each of the H
  terms starts at w_i - log H plus noise), all domains (and bootstrap draws) in one vmapped call.
  RegMix (Liu et al. 2024) fits LightGBM instead; positive output weights keep every law here
  convex in r, so the optimiser's optimum is global.

A fitted law is a pure function ``predict(params, r, context) -> (D,)`` (``context`` holds the
run's scale, e.g. [T] for the repetition law) plus its parameters; the bootstrap refits it on
resampled runs (the same resamples for every domain) and returns a stack of parameter draws.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple, Union

import attrs
import jax
import jax.numpy as jnp
import numpy as np

from .. import core
from ..core._jit import jit
from ..errors import FitError, closest
from .data import MixtureRuns

R_STAR_MUENNIGHOFF = 15.387756  # R*_D of Muennighoff et al. 2023 (datablations notebook)


class MixtureLaw(NamedTuple):
    """A mixture law, registered through the ``register_mixture_laws`` hook.

    ``predict(params, r (S,), context (k,)) -> (D,)`` losses, pure JAX (None for a law whose
    prediction is built from the data by its ``fit``, as the repetition law's from the sources'
    unique tokens); ``fit(runs, options) -> FittedMixture`` fits it to proxy runs
    (:class:`.data.MixtureRuns`, :class:`FitOptions`). ``requires`` names the ``fit_mixture``
    spec keys the law needs; ``budget_context``: its context is the run's token budget [T].

    Hashable (functions hash by identity): a static argument of the jitted optimiser, which
    compiles once per law and shape.
    """

    name: str
    formula: str
    reference: str
    predict: Optional[Callable]
    fit: Optional[Callable] = None
    parameters: Tuple[Tuple[str, str], ...] = ()  # (name, meaning)
    requires: Tuple[str, ...] = ()
    budget_context: bool = False
    description: str = ""


@attrs.frozen(kw_only=True)
class FitOptions:
    """What a mixture law's ``fit`` receives besides the runs."""

    loss: core.Loss = core.Loss("squared")  # per-point loss on log residuals
    n_bootstrap: int = 0  # resamples of the runs (0: none)
    bootstrap_domains: Optional[Sequence[int]] = None  # domains refitted in the bootstrap (all)
    seed: int = 0
    unique_tokens: Optional[np.ndarray] = None  # (S,) unique tokens per source (inf: unlimited)
    settings: Mapping[str, Any] = attrs.field(factory=dict)  # law-specific: hidden, steps, ...


def sum_exp_predict(params, r, context=None):
    """L = c + sum_h exp(w_h . r): params {"c": (D,), "w": (D, H, S)}."""
    return params["c"] + jnp.sum(jnp.exp(params["w"] @ r), axis=-1)


def effective_proportions(r, budget, unique, r_star):
    """Muennighoff's effective tokens per source, renormalised to proportions (jnp, (S,))."""
    used = r * budget
    repeats = jnp.maximum(used / unique - 1.0, 0.0)
    eff = jnp.minimum(used, unique) + unique * r_star * (1.0 - jnp.exp(-repeats / r_star))
    return eff / jnp.sum(eff)


@functools.lru_cache(maxsize=64)
def repetition_law(unique: Tuple[float, ...], r_star: float = R_STAR_MUENNIGHOFF) -> MixtureLaw:
    """``mixing_exp`` of the effective mixture, for sources with ``unique`` tokens (context [T])."""
    u = np.asarray(unique, dtype=np.float64)

    def predict(params, r, context):
        return sum_exp_predict(params, effective_proportions(r, context[0], jnp.asarray(u), r_star))

    return MIXING_EXP_REPETITION._replace(predict=predict)


# --- the core's view of one domain of mixing_exp: log L = logaddexp(log c, w . r) ---------------


def _log_mixing(theta, x):
    return jnp.logaddexp(theta[0], x @ theta[1:])


def _log_mixing_and_jac(theta, x):
    lin = x @ theta[1:]
    y = jnp.logaddexp(theta[0], lin)
    s_c = jnp.exp(theta[0] - y)
    s_w = jnp.exp(lin - y)
    return y, jnp.concatenate([s_c[:, None], s_w[:, None] * x], axis=1)


CORE_MODEL = core.Model(_log_mixing, _log_mixing_and_jac)
START_FRACTIONS = (0.0, 0.5, 0.8, 0.9, 0.95, 0.98)


def least_squares_starts(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Starts (K, S + 1): log(y - c0) regressed on r for c0 = fractions of min y."""
    out = []
    ymin = float(np.min(y))
    for frac in START_FRACTIONS:
        c0 = frac * ymin
        w, *_ = np.linalg.lstsq(x, np.log(y - c0), rcond=None)
        out.append(np.concatenate([[np.log(max(c0, 1e-3 * ymin))], w]))
    return np.asarray(out, dtype=np.float64)


@attrs.frozen(kw_only=True, eq=False)
class FittedMixture:
    """A fitted mixture law: point parameters, bootstrap draws and per-domain diagnostics."""

    law: MixtureLaw
    params: Dict[str, np.ndarray]  # {"c": (D,), "w": (D, H, S)}
    sources: Tuple[str, ...]
    domains: Tuple[str, ...]
    draws: Optional[Dict[str, np.ndarray]] = None  # leading axis B
    context: np.ndarray = attrs.field(factory=lambda: np.zeros(1))
    diagnostics: List[Dict[str, Any]] = attrs.field(factory=list)
    estimator: Dict[str, Any] = attrs.field(factory=dict)

    @property
    def n_draws(self) -> int:
        return 0 if self.draws is None else int(self.draws["c"].shape[0])

    def predict(self, r, context=None) -> np.ndarray:
        """Predicted losses (n, D) at mixtures ``r`` (n, S) under ``context`` (the fit's)."""
        r = np.atleast_2d(np.asarray(r, dtype=np.float64))
        return self.predict_each(r, self._contexts(len(r), context))

    def predict_each(self, r, contexts) -> np.ndarray:
        """Predicted losses (n, D) at mixtures ``r`` (n, S), row i under its own context
        ``contexts[i]`` ((n,) or (n, k); e.g. each run's token budget): one vmapped call."""
        r = np.atleast_2d(np.asarray(r, dtype=np.float64))
        ctx = np.asarray(contexts, dtype=np.float64).reshape(r.shape[0], -1)
        return np.asarray(_predict(self.law, _jnp_tree(self.params), jnp.asarray(r),
                                   jnp.asarray(ctx)))

    def predict_draws(self, r, context=None) -> np.ndarray:
        """Predicted losses of every bootstrap draw (B, n, D)."""
        if self.draws is None:
            raise ValueError("this fit has no bootstrap draws; fit with n_bootstrap > 0")
        r = np.atleast_2d(np.asarray(r, dtype=np.float64))
        return np.asarray(_predict_draws(self.law, _jnp_tree(self.draws), jnp.asarray(r),
                                         jnp.asarray(self._contexts(len(r), context))))

    def _contexts(self, n: int, context) -> np.ndarray:
        ctx = self.context if context is None else np.asarray(context, dtype=np.float64)
        return np.broadcast_to(ctx, (n, ctx.size))

    def paper_params(self) -> List[Dict[str, Any]]:
        """Per domain: c, and for one-term laws k and t in the paper's gauge (sum_j t_j = 0);
        the parameters of other laws (leading axis: the domain) as they are."""
        out = []
        sum_exp = set(self.params) == {"c", "w"}
        for i, d in enumerate(self.domains):
            if not sum_exp:
                out.append({"domain": d, **{k: np.asarray(v[i]).tolist()
                                            for k, v in self.params.items()}})
                continue
            row: Dict[str, Any] = {"domain": d, "c": float(self.params["c"][i])}
            w = self.params["w"][i]
            if w.shape[0] == 1:
                mean = float(np.mean(w[0]))
                row["k"] = float(np.exp(mean))
                row["t"] = {s: float(v - mean) for s, v in zip(self.sources, w[0])}
            else:
                row["terms"] = int(w.shape[0])
            out.append(row)
        return out


@attrs.frozen(kw_only=True, eq=False)
class RecordedMixture:
    """A fitted mixture law known only from its record in results.json (a re-rendered report, a
    replayed pipeline fold): its parameters in the published form and its diagnostics, no
    predictions."""

    params: List[Dict[str, Any]]  # FittedMixture.paper_params()
    diagnostics: List[Dict[str, Any]] = attrs.field(factory=list)
    law: Any = None  # scalinglaws.results.RecordedLaw: name, formula, reference
    sources: Tuple[str, ...] = ()
    domains: Tuple[str, ...] = ()
    estimator: Dict[str, Any] = attrs.field(factory=dict)

    def paper_params(self) -> List[Dict[str, Any]]:
        return self.params


def _jnp_tree(tree):
    return jax.tree_util.tree_map(jnp.asarray, tree)


def _predict_impl(law, params, r, ctx):
    """Losses (n, D): row i of ``r`` under the context ``ctx[i]``."""
    return jax.vmap(lambda x, c: law.predict(params, x, c))(r, ctx)


def _predict_draws_impl(law, draws, r, ctx):
    return jax.vmap(lambda p: _predict_impl(law, p, r, ctx))(draws)


_predict = jit(_predict_impl, static_argnames=("law",))
_predict_draws = jit(_predict_draws_impl, static_argnames=("law",))


def _check_data(r: np.ndarray, losses: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    r = np.asarray(r, dtype=np.float64)
    losses = np.asarray(losses, dtype=np.float64)
    if losses.ndim == 1:
        losses = losses[:, None]
    if r.ndim != 2 or losses.shape[0] != r.shape[0]:
        raise FitError(f"need proportions (n, S) and losses (n, D) for the same runs; got {r.shape} "
                       f"and {losses.shape}")
    if not (np.all(np.isfinite(losses)) and np.all(losses > 0)):
        raise FitError("every loss must be a finite number > 0 (the fit takes logs)")
    if r.shape[0] <= r.shape[1] + 1:
        raise FitError(f"{r.shape[0]} runs cannot determine a mixing law over {r.shape[1]} sources "
                       f"({r.shape[1] + 1} parameters per domain); add runs")
    return r, losses


def fit_mixing_exp(runs: MixtureRuns, options: Optional[FitOptions] = None, *,
                   law: Optional[MixtureLaw] = None, inputs=None, context=None) -> FittedMixture:
    """``mixing_exp``'s fit: ``L_i = c_i + exp(w_i . x)`` per domain with the core (one compilation
    for all domains).

    ``inputs`` (n, S), when given, is what the law (``law``, with its ``context``) sees instead of
    the runs' proportions (the effective proportions of the repetition law). The bootstrap
    (``options.n_bootstrap`` > 0) resamples runs with the same counts for every domain (same seed)
    and refits the domains in ``options.bootstrap_domains`` (all by default); the others repeat
    the point estimate in every draw. ``options.settings["max_iter"]``: iterations (500).
    """
    o = options or FitOptions()
    r, losses = _check_data(runs.r, runs.losses)
    domains, loss, n_bootstrap, seed = runs.domains, o.loss, o.n_bootstrap, o.seed
    max_iter = int(o.settings.get("max_iter", 500))
    x = r if inputs is None else np.asarray(inputs, dtype=np.float64)
    n_dom = losses.shape[1]
    thetas, diags = [], []
    boot_sel = set(range(n_dom)) if o.bootstrap_domains is None else set(o.bootstrap_domains)
    draws_theta = []
    for i in range(n_dom):
        y = losses[:, i]
        target = np.log(y)
        starts = least_squares_starts(x, y)
        res = core.fit(CORE_MODEL, starts, x, target, loss=loss, max_iter=max_iter)
        theta = np.asarray(res.theta)
        if not np.isfinite(float(res.value)):
            raise FitError(f"mixing_exp for domain {domains[i]!r}: no start gave a finite objective")
        resid = np.asarray(_log_mixing(jnp.asarray(theta), jnp.asarray(x))) - target
        diags.append({"domain": domains[i], "objective": float(res.value),
                      "rmse_log": float(np.sqrt(np.mean(resid ** 2))),
                      "converged": bool(np.asarray(res.converged)[0]),
                      "n_at_best": int(res.n_at_best), "n_starts": len(starts)})
        thetas.append(theta)
        if n_bootstrap > 0:
            if i in boot_sel:
                b = core.bootstrap(CORE_MODEL, starts, x, target, n_resamples=n_bootstrap,
                                   seed=seed, loss=loss, max_iter=max_iter, result=res)
                draws_theta.append(np.asarray(b.thetas))
            else:
                draws_theta.append(np.broadcast_to(theta, (n_bootstrap, theta.size)))
    th = np.stack(thetas)  # (D, S + 1)
    params = {"c": np.exp(th[:, 0]), "w": th[:, None, 1:]}
    draws = None
    if n_bootstrap > 0:
        dt = np.stack(draws_theta, axis=1)  # (B, D, S + 1)
        draws = {"c": np.exp(dt[..., 0]), "w": dt[:, :, None, 1:]}
    ctx = np.zeros(1) if context is None else np.asarray(context, dtype=np.float64)
    return FittedMixture(law=law or MIXING_EXP, params=params, sources=tuple(runs.sources),
                         domains=tuple(domains), draws=draws, context=ctx, diagnostics=diags,
                         estimator={"method": "levenberg-marquardt", "loss": loss.kind,
                                    "delta": loss.delta, "space": "log",
                                    "n_bootstrap": n_bootstrap, "seed": seed})


# --- the regression surrogate ----------------------------------------------------------------


def _surrogate_loss(p, x, target, weights, loss: core.Loss):
    pred = jnp.logaddexp(p["log_c"], jax.nn.logsumexp(p["w"] @ x.T, axis=0))
    r = pred - target
    from ..core.objectives import rho

    return jnp.sum(weights * rho(loss, r)) / jnp.sum(weights)


def _adam_fit(p0, x, target, weights, *, loss: core.Loss, steps: int, lr: float):
    import optax

    opt = optax.adam(lr)
    grad = jax.grad(_surrogate_loss)

    def step(carry, _):
        p, state = carry
        g = grad(p, x, target, weights, loss)
        upd, state = opt.update(g, state, p)
        return (optax.apply_updates(p, upd), state), None

    (p, _), _ = jax.lax.scan(step, (p0, opt.init(p0)), None, length=steps)
    return p, _surrogate_loss(p, x, target, weights, loss)


def _fit_surrogates(p0, x, targets, weights, *, loss, steps, lr):
    """vmapped over domains (p0 and targets have a leading D axis; weights (D, n) or (n,))."""
    w_axis = 0 if weights.ndim == 2 else None
    return jax.vmap(lambda p, t, w: _adam_fit(p, x, t, w, loss=loss, steps=steps, lr=lr),
                    in_axes=(0, 1, w_axis))(p0, targets, weights)


def _fit_surrogates_boot(p0, x, targets, counts, *, loss, steps, lr):
    """vmapped over bootstrap resamples (counts (B, n)) and domains."""
    return jax.vmap(lambda w: _fit_surrogates(p0, x, targets, w, loss=loss, steps=steps, lr=lr))(
        counts)


_fit_surrogates_jit = jit(_fit_surrogates, static_argnames=("loss", "steps", "lr"))
_fit_surrogates_boot_jit = jit(_fit_surrogates_boot, static_argnames=("loss", "steps", "lr"))


def fit_mixing_mlp(runs: MixtureRuns, options: Optional[FitOptions] = None, *,
                   base: Optional[FittedMixture] = None) -> FittedMixture:
    """``mixing_mlp``'s fit: the exp-activation surrogate, fitted with Adam from the ``mixing_exp``
    fit (``base``; fitted here when not given). ``options.settings``: ``hidden`` (4 terms),
    ``steps`` (2000), ``learning_rate`` (0.01), ``init_scale`` (0.1).

    All domains are fitted in one vmapped call; the bootstrap refits the domains in
    ``bootstrap_domains`` on resampled runs (the core's resample counts for ``seed``, so the same
    runs as ``fit_mixing_exp`` with that seed) from the same initial point, in one more call.
    """
    o = options or FitOptions()
    r, losses = _check_data(runs.r, runs.losses)
    loss, n_bootstrap, seed, settings = o.loss, o.n_bootstrap, o.seed, o.settings
    hidden, steps = int(settings.get("hidden", 4)), int(settings.get("steps", 2000))
    learning_rate = float(settings.get("learning_rate", 0.01))
    init_scale = float(settings.get("init_scale", 0.1))
    if base is None:
        base = fit_mixing_exp(runs, FitOptions(loss=loss))
    n_dom, s = losses.shape[1], r.shape[1]
    key = jax.random.key(seed)
    noise = init_scale * jax.random.normal(key, (n_dom, hidden, s), dtype=jnp.float64)
    w0 = jnp.asarray(base.params["w"][:, :1, :]) - np.log(hidden) + noise
    p0 = {"log_c": jnp.log(jnp.asarray(base.params["c"])), "w": w0}
    x = jnp.asarray(r)
    targets = jnp.log(jnp.asarray(losses))
    ones = jnp.ones(r.shape[0])
    p, values = _fit_surrogates_jit(p0, x, targets, ones, loss=loss, steps=steps, lr=learning_rate)
    params = {"c": np.exp(np.asarray(p["log_c"])), "w": np.asarray(p["w"])}
    pred = np.log(np.asarray(_predict(MIXING_MLP, _jnp_tree(params), x, jnp.zeros((len(r), 1)))))
    diags = [{"domain": d, "objective": float(values[i]),
              "rmse_log": float(np.sqrt(np.mean((pred[:, i] - np.log(losses[:, i])) ** 2))),
              "converged": True, "n_starts": 1} for i, d in enumerate(runs.domains)]
    draws = None
    if n_bootstrap > 0:
        from ..core.bootstrap import resample_counts

        sel = list(range(n_dom)) if o.bootstrap_domains is None else sorted(o.bootstrap_domains)
        counts = resample_counts(jax.random.key(seed), ones, n_bootstrap)
        sub = {"log_c": p0["log_c"][jnp.asarray(sel)], "w": p0["w"][jnp.asarray(sel)]}
        pb, _ = _fit_surrogates_boot_jit(sub, x, targets[:, jnp.asarray(sel)], counts, loss=loss,
                                         steps=steps, lr=learning_rate)
        c = np.broadcast_to(params["c"], (n_bootstrap, n_dom)).copy()
        w = np.broadcast_to(params["w"], (n_bootstrap,) + params["w"].shape).copy()
        c[:, sel] = np.exp(np.asarray(pb["log_c"]))
        w[:, sel] = np.asarray(pb["w"])
        draws = {"c": c, "w": w}
    return FittedMixture(law=MIXING_MLP, params=params, sources=tuple(runs.sources),
                         domains=tuple(runs.domains), draws=draws, diagnostics=diags,
                         estimator={"method": "adam", "hidden": hidden, "steps": steps,
                                    "learning_rate": learning_rate, "loss": loss.kind,
                                    "delta": loss.delta, "space": "log",
                                    "n_bootstrap": n_bootstrap, "seed": seed})


def fit_mixture(r, losses, *, sources: Sequence[str], domains: Sequence[str],
                law: Union[str, MixtureLaw] = "mixing_exp", n_bootstrap: int = 0, seed: int = 0,
                loss: core.Loss = core.Loss("squared"), budget=None, unique_tokens=None,
                bootstrap_domains: Optional[Sequence[int]] = None, **settings: Any) -> FittedMixture:
    """Fit a mixture law to proxy runs: ``r`` (n, S) proportions, ``losses`` (n, D).

    ``law`` is a built-in law's name (``"mixing_exp"``, Ye et al. 2024; ``"mixing_mlp"``, the
    exp-activation surrogate started from the ``mixing_exp`` fit, ``settings`` taking its
    ``hidden``, ``steps``, ``learning_rate``; ``"mixing_exp_repetition"``, which needs each run's
    token ``budget`` (n,) and the sources' ``unique_tokens`` (S,)) or any :class:`MixtureLaw`,
    e.g. one a plugin registers. The result feeds :func:`.optimise.optimise_mixture` directly:
    ``optimise_mixture(fit, weights=...)``.
    """
    core.enable_float64()
    if isinstance(law, str):
        known = {m.name: m for m in BUILTIN_LAWS}
        if law not in known:
            raise ValueError(f"unknown mixture law {law!r}{closest(law, list(known))}; built in: "
                             f"{', '.join(known)} (or pass a MixtureLaw)")
        law = known[law]
    r, losses = _check_data(r, losses)
    runs = MixtureRuns(r=r, losses=losses, sources=tuple(sources), domains=tuple(domains),
                       budget=None if budget is None else np.asarray(budget, dtype=np.float64))
    return law.fit(runs, FitOptions(loss=loss, n_bootstrap=n_bootstrap, seed=seed,
                                    bootstrap_domains=bootstrap_domains, settings=settings,
                                    unique_tokens=None if unique_tokens is None else
                                    np.asarray(unique_tokens, dtype=np.float64)))


# --- the built-in laws: what a fit_mixture task (or a plugin's law) runs -------------------------


def _fit_repetition(runs: MixtureRuns, o: FitOptions) -> FittedMixture:
    if o.unique_tokens is None or runs.budget is None:
        raise FitError("mixing_exp_repetition needs the unique tokens of every source and the "
                       "token budget of every run")
    r_star = float(o.settings.get("r_star", R_STAR_MUENNIGHOFF))
    u = np.asarray(o.unique_tokens, dtype=np.float64)
    eff = np.asarray(jax.vmap(lambda r, t: effective_proportions(r, t, jnp.asarray(u), r_star))(
        jnp.asarray(runs.r), jnp.asarray(runs.budget)))
    return fit_mixing_exp(runs, o, law=repetition_law(tuple(u), r_star), inputs=eff,
                          context=np.array([float(np.median(runs.budget))]))


_EXP_PARAMETERS = (
    ("c", "per domain: the loss the mixture cannot remove (c_i > 0)"),
    ("k", "per domain: the scale of the reducible loss, k_i = exp(mean_j w_ij)"),
    ("t", "per domain and source: the effect of the source's proportion, gauge sum_j t_ij = 0"))

MIXING_EXP = MixtureLaw(
    name="mixing_exp",
    formula="L_i(r) = c_i + k_i exp(sum_j t_ij r_j)",
    reference="Ye et al. 2024, 'Data Mixing Laws: Optimizing Data Mixtures by Predicting Language "
              "Modeling Performance'",
    predict=sum_exp_predict, fit=fit_mixing_exp, parameters=_EXP_PARAMETERS,
    description="Validation loss per domain against the training mixture's proportions; fitted "
                "per domain by Levenberg-Marquardt on log residuals.",
)

MIXING_EXP_REPETITION = MixtureLaw(
    name="mixing_exp_repetition",
    formula="L_i(r) = c_i + k_i exp(sum_j t_ij r~_j), r~_j = D'_j / sum_k D'_k, "
            "D'_j = min(r_j T, U_j) + U_j R* (1 - exp(-R_j / R*)), R_j = max(r_j T / U_j - 1, 0)",
    reference="Ye et al. 2024 (mixing law) with Muennighoff et al. 2023 (effective data under "
              "repetition)",
    predict=None, fit=_fit_repetition, parameters=_EXP_PARAMETERS,
    requires=("unique_tokens", "budget_column"), budget_context=True,
    description="mixing_exp of the effective mixture when sources repeat within the budget T "
                "(R* = 15.39, Muennighoff's R*_D; spec key r_star).",
)

MIXING_MLP = MixtureLaw(
    name="mixing_mlp",
    formula="L_i(r) = c_i + sum_h exp(w_ih . r)  (exp-activation network, positive output weights)",
    reference="Ye et al. 2024 (MixtureMLP in yegcjs/mixinglaws); RegMix, Liu et al. 2024 "
              "(regression on proxy runs)",
    predict=sum_exp_predict, fit=fit_mixing_mlp,
    parameters=(("c", "per domain: the loss floor"),
                ("w", "per domain, term h and source: the exponent's weights (spec key hidden: H)")),
    description="A regression surrogate with H exponential terms, fitted with Adam from the "
                "mixing_exp fit (spec keys hidden, steps, learning_rate).",
)

BUILTIN_LAWS = (MIXING_EXP, MIXING_EXP_REPETITION, MIXING_MLP)
