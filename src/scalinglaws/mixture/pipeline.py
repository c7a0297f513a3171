"""The nested data-mixing-law pipeline of Ye et al. 2024 (arXiv:2403.16952): step law, size law,
mixing law, each fitted to the predictions of the one before.

Ye et al., "Data Mixing Laws: Optimizing Data Mixtures by Predicting Language Modeling
Performance", section 4 ("nested use of scaling laws"), predict the loss of a large model trained
long on a mixture it never trained, from small models trained briefly on a few mixtures:

1. **step stage**, per (model size N, mixture r, validation domain i), on the checkpoints up to
   ``fit_steps_max``::

       L(S) = E + B S^-beta

   predicted at the target step S*. Where a checkpoint at S* exists, prediction minus loss is the
   step stage's held-out (extrapolation) error.
2. **size stage**, per (mixture, domain), across model sizes, on the step-stage predictions::

       L(N) = E + A N^-alpha

   predicted at the target size N*. *Two sizes* give two points per curve, which cannot determine
   three parameters; the default shares E and alpha per domain across the training mixtures (A per
   mixture: 2 + M parameters from 2 M points, determined for M >= 2 mixtures). It is the sound
   choice because mixtures change what is learnable *within* a domain (the multiplicative A, as
   the mixing law's k_i exp(t_i . r) does) more plausibly than the domain's irreducible loss or
   how fast loss falls with scale; Ye et al. likewise fit one exponent across curves in their
   code (``power_law_share_alpha``). ``size_fixed`` holds parameters at given values instead
   (e.g. alpha from a larger study). With a single size equal to the target the stage is skipped.
3. **mixing stage**, per domain, over the training mixtures' size-stage predictions::

       L_i(r) = c_i + k_i exp(sum_j t_ij r_j)

   (``mixing_exp``, fitted by :func:`~scalinglaws.mixture.laws.fit_mixing_exp`), predicted at the
   held-out mixtures and scored against their actual loss at (N*, S*): MAE and mean absolute
   relative error per domain.

The held-out mixtures take no part in any fit of their fold (shared step parameters are fitted
on the training mixtures only), so the final error is a genuine held-out error. A leave-one-out
run repeats the pipeline once per mixture. For comparison the mixing law is also fitted directly
to the *actual* losses at (N*, S*) of the training mixtures, when they exist (``mixing_only``):
the difference between the two errors is what the step and size extrapolations cost.

Fits use :func:`scalinglaws.fit` with the ``power_law`` family (its published recipe: Huber
delta 1e-3 on log residuals, multi-start grid, Levenberg-Marquardt), shared parameters through
``groups``/``shared``; this module only arranges arrays. Predictions are evaluated here as
E + B S^-beta so that an E fitted to ~0 (a pure power law) stays usable.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import attrs
import numpy as np

from ..errors import FitError

# The step law is written E + B S^-beta (Ye et al.); the core fits the power_law family
# E + A x^-alpha, so the names are translated at the edges.
STEP_NAMES = {"E": "E", "B": "A", "beta": "alpha"}
SIZE_NAMES = ("E", "A", "alpha")
REFERENCE = ("Ye et al. 2024, 'Data Mixing Laws: Optimizing Data Mixtures by Predicting Language "
             "Modeling Performance' (arXiv:2403.16952), nested step, size and mixing laws")
FORMULAS = {"step": "L(S) = E + B S^-beta", "size": "L(N) = E + A N^-alpha",
            "mixing": "L_i(r) = c_i + k_i exp(sum_j t_ij r_j)"}


@attrs.frozen(kw_only=True, eq=False)
class Curves:
    """Losses on a grid: ``losses[n, m, i, s]`` of size ``sizes[n]``, mixture ``mixtures[m]``,
    domain ``domains[i]`` at step ``steps[s]`` (NaN where there is no checkpoint)."""

    sizes: np.ndarray  # (nN,)
    mixtures: np.ndarray  # (M, S) proportions, rows summing to one
    sources: Tuple[str, ...]
    domains: Tuple[str, ...]
    steps: np.ndarray  # (nS,)
    losses: np.ndarray  # (nN, M, D, nS)

    @property
    def labels(self) -> Tuple[str, ...]:
        """A mixture's name: its proportions, `0.25/0.75` (sources in order)."""
        return tuple("/".join(f"{v:g}" for v in r) for r in self.mixtures)

    def at(self, size: float, step: float) -> np.ndarray:
        """Losses (M, D) at (size, step); NaN where that run or checkpoint is absent."""
        n = np.flatnonzero(np.isclose(self.sizes, size, rtol=1e-9))
        s = np.flatnonzero(np.isclose(self.steps, step, rtol=1e-9))
        if len(n) == 0 or len(s) == 0:
            return np.full(self.losses.shape[1:3], np.nan)
        return self.losses[n[0], :, :, s[0]]


@attrs.frozen(kw_only=True)
class PipelineConfig:
    """What to fit and where to predict (see the module docstring)."""

    target_step: float
    target_size: float
    fit_steps_max: float
    fit_steps_min: float = 0.0
    fit_sizes_max: Optional[float] = None  # sizes above it are not fitted (held out)
    step_shared: Tuple[str, ...] = ()  # among E, B, beta: common to the mixtures of a (size, domain)
    size_shared: Tuple[str, ...] = ("E", "alpha")
    size_fixed: Mapping[str, float] = attrs.field(factory=dict)
    estimator: Optional[Mapping[str, Any]] = None  # MultiStart options; power_law's recipe if None


@attrs.frozen(kw_only=True, eq=False)
class StepStage:
    sizes: np.ndarray  # the fitted sizes (nF,)
    params: List[List[List[Dict[str, float]]]]  # [size][mixture][domain] -> {E, B, beta}
    predicted: np.ndarray  # (nF, M', D) at the target step
    actual: np.ndarray  # (nF, M', D), NaN when no checkpoint at the target step


@attrs.frozen(kw_only=True, eq=False)
class SizeStage:
    params: List[Dict[str, Any]]  # per domain: {E, alpha, A: {label: value}}
    predicted: np.ndarray  # (M', D) at the target size
    skipped: bool = False


@attrs.frozen(kw_only=True, eq=False)
class Fold:
    """One run of the pipeline: training mixtures ``train``, held-out ``test`` (indices)."""

    train: Tuple[int, ...]
    test: Tuple[int, ...]
    step: StepStage
    size: SizeStage
    mixing: Any  # FittedMixture
    predicted: np.ndarray  # (T, D) at the held-out mixtures
    actual: np.ndarray  # (T, D) at (target size, target step), NaN when absent
    mixing_only: Optional[np.ndarray] = None  # (T, D): mixing law on actual target losses


def errors(predicted: np.ndarray, actual: np.ndarray) -> Dict[str, float]:
    """MAE and mean absolute relative error over the finite pairs (signed mean too)."""
    ok = np.isfinite(actual) & np.isfinite(predicted)
    if not ok.any():
        return {"n": 0}
    d = (predicted - actual)[ok]
    rel = d / actual[ok]
    return {"n": int(ok.sum()), "mae": float(np.mean(np.abs(d))),
            "rel": float(np.mean(np.abs(rel))), "max_rel": float(np.max(np.abs(rel))),
            "mean_signed_rel": float(np.mean(rel))}


def _power(params: Mapping[str, float], x) -> np.ndarray:
    """E + A x^-alpha for power_law's natural parameters."""
    return params["E"] + params["A"] * np.asarray(x, dtype=np.float64) ** -params["alpha"]


def _fit_power(table: Dict[str, Any], cfg: PipelineConfig, *, groups: Optional[str] = None,
               shared: Sequence[str] = (), fixed: Optional[Mapping[str, float]] = None,
               what: str) -> Dict[str, float]:
    import scalinglaws as sl

    try:
        res = sl.fit("power_law", sl.Table.from_columns(table, source=what), cfg.estimator,
                     groups=groups, shared=shared, fixed=fixed)
    except FitError as exc:
        raise FitError(f"{what}: {exc}") from None
    if not np.isfinite(res.objective):
        raise FitError(f"{what}: no start gave a finite objective")
    return dict(res.params)


def _group(b: int) -> str:
    """Positional group labels: every fold with as many mixtures fits the same grouped family,
    which the law cache and the jit compile once (mixture names would make a new one per fold)."""
    return f"g{b:03d}"


def _split(params: Mapping[str, float], label: str, names: Sequence[str]) -> Dict[str, float]:
    """One group's natural parameters from a grouped fit (``E`` if shared, else ``E[label]``)."""
    return {n: float(params[n] if n in params else params[f"{n}[{label}]"]) for n in names}


def step_stage(curves: Curves, mixtures: Sequence[int], cfg: PipelineConfig) -> StepStage:
    """L(S) = E + B S^-beta per (size, mixture, domain) on steps in [fit_steps_min,
    fit_steps_max], predicted at ``target_step``; only sizes up to ``fit_sizes_max``."""
    keep_n = np.ones(len(curves.sizes), bool) if cfg.fit_sizes_max is None \
        else curves.sizes <= cfg.fit_sizes_max * (1 + 1e-9)
    sizes = curves.sizes[keep_n]
    in_range = (curves.steps >= cfg.fit_steps_min) & (curves.steps <= cfg.fit_steps_max)
    shared = tuple(STEP_NAMES[n] for n in cfg.step_shared)
    labels = curves.labels
    s_target = cfg.target_step
    pred = np.full((len(sizes), len(mixtures), len(curves.domains)), np.nan)
    params: List[List[List[Dict[str, float]]]] = [
        [[{} for _ in curves.domains] for _ in mixtures] for _ in sizes]
    for a, n in enumerate(np.flatnonzero(keep_n)):
        for i, dom in enumerate(curves.domains):
            rows: Dict[str, list] = {"x": [], "loss": [], "mix": []}
            for b, m in enumerate(mixtures):
                y = curves.losses[n, m, i]
                ok = in_range & np.isfinite(y)
                where = f"step law, size {curves.sizes[n]:g}, mixture {labels[m]}, domain {dom}"
                if ok.sum() < (1 if shared else 3):
                    raise FitError(f"{where}: {int(ok.sum())} checkpoints in steps "
                                   f"[{cfg.fit_steps_min:g}, {cfg.fit_steps_max:g}]; a 3-parameter "
                                   "step law needs at least 3; raise `fit_steps_max`")
                if not shared:
                    p = _fit_power({"x": curves.steps[ok], "loss": y[ok]}, cfg, what=where)
                    params[a][b][i] = p
                    continue
                rows["x"] += list(curves.steps[ok])
                rows["loss"] += list(y[ok])
                rows["mix"] += [_group(b)] * int(ok.sum())
            if shared:
                where = (f"step law, size {curves.sizes[n]:g}, domain {dom} "
                         f"({', '.join(cfg.step_shared)} shared by the mixtures)")
                p = _fit_power(rows, cfg, groups="mix", shared=shared, what=where)
                for b in range(len(mixtures)):
                    params[a][b][i] = _split(p, _group(b), SIZE_NAMES)
            for b in range(len(mixtures)):
                pred[a, b, i] = _power(params[a][b][i], s_target)
    actual = np.stack([curves.at(n, s_target)[list(mixtures)] for n in sizes])
    # Report the step law under its own names: E + B S^-beta.
    named = [[[{"E": p["E"], "B": p["A"], "beta": p["alpha"]} for p in row] for row in per_n]
             for per_n in params]
    return StepStage(sizes=sizes, params=named, predicted=pred, actual=actual)


def size_stage(sizes: np.ndarray, predicted: np.ndarray, labels: Sequence[str],
               domains: Sequence[str], cfg: PipelineConfig) -> SizeStage:
    """L(N) = E + A N^-alpha per (mixture, domain) across ``sizes`` on the step-stage
    ``predicted`` (nN, M', D), with ``size_shared`` common to the mixtures of a domain and
    ``size_fixed`` held; predicted at ``target_size``."""
    n_sizes, n_mix, n_dom = predicted.shape
    if n_sizes == 1:
        if np.isclose(sizes[0], cfg.target_size, rtol=1e-9):
            # Nothing to extrapolate: the target size is the one size trained.
            return SizeStage(params=[{} for _ in domains], predicted=predicted[0], skipped=True)
        raise FitError(f"size law: one model size ({sizes[0]:g}) cannot be extrapolated to "
                       f"{cfg.target_size:g}; add runs of another size")
    fixed = {k: float(v) for k, v in cfg.size_fixed.items()}
    shared = tuple(n for n in cfg.size_shared if n not in fixed)
    free = [n for n in SIZE_NAMES if n not in fixed]
    n_params = sum(1 if n in shared else n_mix for n in free)
    if n_params > n_sizes * n_mix:
        own = ", ".join(n for n in free if n not in shared)
        raise FitError(
            f"size law: {n_sizes} sizes x {n_mix} mixtures = {n_sizes * n_mix} points cannot "
            f"determine {n_params} parameters (per mixture: {own}); "
            "share parameters across mixtures (`size_shared: [E, alpha]`) or fix some "
            "(`size_fixed: {alpha: 0.3}`)")
    out_params, out = [], np.empty((n_mix, n_dom))
    grouped = n_mix > 1 and any(n not in shared for n in free)
    for i, dom in enumerate(domains):
        where = f"size law, domain {dom}"
        table = {"x": np.repeat(sizes, n_mix), "loss": predicted[:, :, i].ravel(),
                 "mix": np.tile(np.asarray([_group(b) for b in range(n_mix)], dtype=object),
                                n_sizes)}
        if grouped:
            p = _fit_power(table, cfg, groups="mix", shared=shared, fixed=fixed, what=where)
        else:
            p = _fit_power({k: v for k, v in table.items() if k != "mix"}, cfg, fixed=fixed,
                           what=where)
        p = {**p, **fixed}
        row: Dict[str, Any] = {}
        for n in SIZE_NAMES:
            row[n] = float(p[n]) if n in p else {lb: float(p[f"{n}[{_group(b)}]"])
                                                  for b, lb in enumerate(labels)}
        for b in range(n_mix):
            out[b, i] = _power(_split(p, _group(b), SIZE_NAMES), cfg.target_size)
        out_params.append(row)
    return SizeStage(params=out_params, predicted=out)


def run_fold(curves: Curves, test: Sequence[int], cfg: PipelineConfig,
             step: Optional[StepStage] = None) -> Fold:
    """The three stages on the mixtures not in ``test``, scored on those in ``test``.

    ``step`` may carry an unshared step stage already fitted on *all* mixtures (curves are
    independent, so reusing them leaks nothing); it is cut down to the training mixtures.
    """
    from .data import MixtureRuns
    from .laws import fit_mixing_exp

    test = tuple(sorted(int(t) for t in test))
    train = tuple(m for m in range(len(curves.mixtures)) if m not in test)
    if step is None or cfg.step_shared:
        step = step_stage(curves, train, cfg)
    else:
        step = StepStage(sizes=step.sizes, params=[[row[m] for m in train] for row in step.params],
                         predicted=step.predicted[:, list(train)],
                         actual=step.actual[:, list(train)])
    labels = [curves.labels[m] for m in train]
    size = size_stage(step.sizes, step.predicted, labels, curves.domains, cfg)
    r_train, r_test = curves.mixtures[list(train)], curves.mixtures[list(test)]
    try:
        mixing = fit_mixing_exp(MixtureRuns(r=r_train, losses=size.predicted,
                                            sources=curves.sources, domains=curves.domains))
    except FitError as exc:
        raise FitError(f"mixing law: {exc}") from None
    target = curves.at(cfg.target_size, cfg.target_step)
    only = None
    if np.all(np.isfinite(target[list(train)])):
        only = fit_mixing_exp(MixtureRuns(r=r_train, losses=target[list(train)],
                                          sources=curves.sources,
                                          domains=curves.domains)).predict(r_test)
    return Fold(train=train, test=test, step=step, size=size, mixing=mixing,
                predicted=mixing.predict(r_test), actual=target[list(test)], mixing_only=only)


def run_pipeline(curves: Curves, cfg: PipelineConfig, held_out: Sequence[int],
                 leave_one_out: bool = False) -> Tuple[Fold, List[Fold]]:
    """The fold holding out ``held_out``, and (``leave_one_out``) one fold per mixture."""
    shared_steps = None
    if not cfg.step_shared:
        # Independent curves: fit every mixture's once and let each fold take its training ones.
        shared_steps = step_stage(curves, range(len(curves.mixtures)), cfg)
    main = run_fold(curves, held_out, cfg, shared_steps)
    loo = [run_fold(curves, (m,), cfg, shared_steps) for m in range(len(curves.mixtures))] \
        if leave_one_out else []
    return main, loo
