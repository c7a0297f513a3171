"""projektor: performance scaling and data-source selection through optimal transport.

Kang, Just, Sahu & Jia (2023), "Performance Scaling via Optimal Transport: Enabling Data
Selection from Partially Revealed Sources", NeurIPS 2023, arXiv:2307.02460. LAWS.md section 5,
family ``ot_projection``.

Setting. S data sources each reveal a few samples (feature vectors x_k, n_i of them for source i);
a validation set y_1..y_m represents the test distribution. A mixture p on the simplex weights the
revealed samples: every sample of source i gets weight a_k = p_i / n_i (so sum_k a_k = 1), and the
validation points get b_j = 1 / m.

1. OT distance. W(p) = OT_eps(a(p), b) with squared Euclidean cost, computed with the log-domain
   Sinkhorn of :mod:`.sinkhorn` (``eps`` relative to the largest cost). We report the entropic
   dual value W = <f, a> + <g, b>, which equals <P, C> + eps KL(P | a x b) at convergence (the
   transport cost <P, C> alone is reported too). Its gradient is the dual potential (envelope
   theorem): dW/da_k = f_k - eps, so

       dW/dp_i = (1/n_i) sum_{k in source i} f_k  (+ a constant common to all sources),

   and on the simplex only the centred ("calibrated") gradient matters,

       G_i = mean_{k in i} f_k - (1/S) sum_j mean_{k in j} f_k.

   The paper calibrates differently: mean of f over source i minus the mean over the samples of
   all other sources (its eq. for the "calibrated gradient", as in the authors' code); for sources
   of equal size that is S/(S-1) G_i, the same direction with a larger step. We keep G, the exact
   projection of the gradient on the simplex's tangent space (tested against autodiff and finite
   differences). Potentials also give the gradient at p_i = 0 (where autodiff of log a breaks).

2. Performance at one pilot size N_k (stage one of the paper):

       L_k(p) = B_k(p) W(p) + C_k(p),
       B_k(p) = sum_i (b2_i p_i^2 + b1_i p_i) + b0,   C_k(p) = sum_i (c2_i p_i^2 + c1_i p_i) + c0.

   LAWS.md writes b0 and c0 inside the sum over sources; that is one constant (S b0), written once
   here. On the simplex (sum p_i = 1) the constants are not identifiable apart from the linear
   terms (b0 = sum_i b0 p_i), so the fit folds them in: b1_i <- b1_i + b0, b0 = 0 (and the same
   for c). The coefficients enter linearly, so they are fitted by ordinary least squares on the
   pilot runs of that size, with design columns [W p_i^2, W p_i, p_i^2, p_i] (4 S unknowns: at
   least 4 S distinct pilot mixtures per size). The authors' code regresses on a different feature
   set (OT and powers of the mixing ratio and of the size index, jointly over sizes); we follow the
   formula of LAWS.md and the paper's per-size quadratic model.

3. Scaling (stage two, the paper's "parameter-free mapping"): the prediction is linear in log N
   through the two pilot sizes N1 < N2,

       L(N, p) = [ln(N/N1) L_2(p) - ln(N/N2) L_1(p)] / ln(N2/N1),

   i.e. weights w2 = ln(N/N1) / ln(N2/N1) and w1 = 1 - w2 (extrapolation for N > N2). The paper
   maps predictions; its OT distances may differ between the two sizes (each pilot training set
   has its own). When both sizes share one set of revealed samples W is common and mapping the
   predictions is the same as mapping the coefficients, theta(N) = w1 theta_1 + w2 theta_2
   (:func:`interpolate`, :func:`select`). When each size has its own samples (clouds_1,
   clouds_2), L_k uses W_k(p), the distance to its own samples, and the predictions are mapped
   (:func:`predict_mapped`, :func:`select_mapped`).

4. Selection: minimise L(N, p) (or maximise, for accuracy) over {sum p = 1, l <= p <= u} by
   projected gradient with the exact projection of :mod:`.simplex`, the gradient

       dL/dp_i = (2 b2_i p_i + b1_i) W + B(p) dW/dp_i + 2 c2_i p_i + c1_i,

   dW/dp_i from the potentials (per size samples: w1 dL_1/dp + w2 dL_2/dp, each term with its own
   W_k and dW_k/dp, and one set of warm-started potentials per size). The paper's update uses (b2_i p_i^2
   + b1_i p_i + b0) G_i, the multiplier of source i alone, in place of B(p) G_i; we use the
   exact gradient. Steps are the mixture optimiser's projected-gradient kernel (:mod:`.kernel`:
   backtracking, grow 1.5 on acceptance, halve on rejection; the paper uses a fixed geometric
   decay). Every start is vmapped and the whole search is one jitted program. Sinkhorn is
   warm-started from the potentials of the previous iterate (``inner`` iterations per evaluation,
   at the target eps) instead of solved from scratch: successive mixtures are close, so a few
   sweeps suffice, and each iteration refreshes the current point's potentials before comparing
   values (so acceptance compares like with like).
   The chosen mixture is then re-evaluated with a full annealed Sinkhorn solve.

Everything here is a pure function of float64 arrays; the host-side helpers check shapes and
feasibility and raise :class:`.simplex.InfeasibleMixture` or :class:`ValueError` in words.
"""

from __future__ import annotations

from typing import NamedTuple, Optional, Sequence, Tuple

import jax
import jax.numpy as jnp
import numpy as np

from ..core import enable_float64
from ..core._jit import jit
from ..errors import FitError
from . import kernel
from .simplex import bounds, check_feasible, project
from .sinkhorn import sinkhorn_cost, squared_distances, sweep

EPS = 0.05  # entropic regularisation, relative to the largest squared distance
ITERATIONS = 300  # Sinkhorn sweeps of a full (annealed) solve
ANNEAL = 100
ACTIVE_TOL = 1e-9
REFERENCE = ("Kang, Just, Sahu & Jia 2023, \"Performance Scaling via Optimal Transport: Enabling "
             "Data Selection from Partially Revealed Sources\" (NeurIPS 2023, arXiv:2307.02460)")
FORMULA = ("L(N, p) = B(p) OT(p) + C(p), B = sum_i (b2_i p_i^2 + b1_i p_i) + b0, "
           "C = sum_i (c2_i p_i^2 + c1_i p_i) + c0; linear in ln N between two pilot sizes")


# --- revealed samples -------------------------------------------------------------------------
class Clouds(NamedTuple):
    """The revealed samples of every source and the validation set (a pytree)."""

    points: jax.Array  # (n, d) samples of all sources, source after source
    source: jax.Array  # (n,) int32: the source of each sample
    counts: jax.Array  # (S,) samples per source (float64)
    validation: jax.Array  # (m, d)


def make_clouds(features: Sequence, validation) -> Clouds:
    """Stack per-source feature arrays ((n_i, d) each) and the validation set ((m, d))."""
    enable_float64()
    feats = [np.asarray(f, dtype=np.float64) for f in features]
    val = np.asarray(validation, dtype=np.float64)
    if not feats:
        raise ValueError("no sources: give at least one source's revealed samples")
    if val.ndim != 2 or len(val) == 0:
        raise ValueError(f"the validation set must be a non-empty (m, d) array, got shape {val.shape}")
    d = val.shape[1]
    for i, f in enumerate(feats):
        if f.ndim != 2 or len(f) == 0:
            raise ValueError(f"source {i}: expected a non-empty (n, d) array, got shape {f.shape}")
        if f.shape[1] != d:
            raise ValueError(f"source {i} has {f.shape[1]} features per sample, the validation set "
                             f"{d}; every file must describe samples with the same features")
    for name, arr in [(f"source {i}", f) for i, f in enumerate(feats)] + [("validation", val)]:
        if not np.all(np.isfinite(arr)):
            row = int(np.argwhere(~np.isfinite(arr))[0][0])
            raise ValueError(f"{name}: row {row + 1} has a value that is not finite")
    source = np.concatenate([np.full(len(f), i, dtype=np.int32) for i, f in enumerate(feats)])
    return Clouds(points=jnp.asarray(np.vstack(feats)), source=jnp.asarray(source),
                  counts=jnp.asarray([float(len(f)) for f in feats]), validation=jnp.asarray(val))


def sample_weights(p, clouds: Clouds):
    """a_k = p_i / n_i for every sample k of source i: the mixture as a point cloud's weights."""
    return p[clouds.source] / clouds.counts[clouds.source]


def _source_means(f, clouds: Clouds):
    """(1/n_i) sum_{k in i} f_k: the derivative of W with respect to p_i (up to a constant)."""
    sums = jax.ops.segment_sum(f, clouds.source, num_segments=clouds.counts.shape[0])
    return sums / clouds.counts


def _cost(clouds: Clouds):
    return squared_distances(clouds.points, clouds.validation)


# --- OT distance and its gradient --------------------------------------------------------------
class OTDistance(NamedTuple):
    value: jax.Array  # W = <f, a> + <g, b>: entropic OT between mixture and validation
    grad: jax.Array  # (S,) dW/dp_i = mean of f over source i (one representative of the class)
    calibrated: jax.Array  # (S,) grad minus its mean: the gradient on the simplex
    transport_cost: jax.Array  # <P, C>
    marginal_error: jax.Array
    f: jax.Array
    g: jax.Array


def _distance(p, clouds: Clouds, eps: float, iterations: int, anneal: int) -> OTDistance:
    a = sample_weights(p, clouds)
    m = clouds.validation.shape[0]
    b = jnp.full(m, 1.0 / m)
    t = sinkhorn_cost(_cost(clouds), a, b, eps=eps, iterations=iterations, anneal=anneal)
    grad = _source_means(t.f, clouds)
    return OTDistance(t.f @ a + t.g @ b, grad, grad - jnp.mean(grad), t.cost, t.marginal_error,
                      t.f, t.g)


_distance_jit = jit(_distance, static_argnames=("eps", "iterations", "anneal"))
_distances_jit = jit(jax.vmap(_distance, in_axes=(0, None, None, None, None)),
                     static_argnames=("eps", "iterations", "anneal"))


def ot_distance(p, clouds: Clouds, *, eps: float = EPS, iterations: int = ITERATIONS,
                anneal: int = ANNEAL) -> OTDistance:
    """OT between the mixture ``p`` (S,) of the revealed samples and the validation set."""
    enable_float64()
    return _distance_jit(jnp.asarray(p, jnp.float64), clouds, float(eps), int(iterations),
                         int(anneal))


def ot_distances(ps, clouds: Clouds, *, eps: float = EPS, iterations: int = ITERATIONS,
                 anneal: int = ANNEAL) -> OTDistance:
    """:func:`ot_distance` for every row of ``ps`` (K, S), vmapped (one compilation)."""
    enable_float64()
    return _distances_jit(jnp.asarray(ps, jnp.float64), clouds, float(eps), int(iterations),
                          int(anneal))


# --- performance model at one size -------------------------------------------------------------
class Coefficients(NamedTuple):
    """theta of L(p) = B(p) W + C(p) (a pytree; scalars b0, c0)."""

    b2: jax.Array
    b1: jax.Array
    b0: jax.Array
    c2: jax.Array
    c1: jax.Array
    c0: jax.Array


def coefficients(b2, b1, c2, c1, b0=0.0, c0=0.0) -> Coefficients:
    enable_float64()
    as64 = lambda v: jnp.asarray(v, jnp.float64)  # noqa: E731
    return Coefficients(as64(b2), as64(b1), as64(b0), as64(c2), as64(c1), as64(c0))


def canonical(theta: Coefficients) -> Coefficients:
    """Fold b0, c0 into the linear terms (equal on the simplex): the identifiable form."""
    return theta._replace(b1=theta.b1 + theta.b0, b0=jnp.zeros_like(theta.b0),
                          c1=theta.c1 + theta.c0, c0=jnp.zeros_like(theta.c0))


def multiplier(theta: Coefficients, p):
    return jnp.sum(theta.b2 * p ** 2 + theta.b1 * p, axis=-1) + theta.b0


def offset(theta: Coefficients, p):
    return jnp.sum(theta.c2 * p ** 2 + theta.c1 * p, axis=-1) + theta.c0


def predict(theta: Coefficients, p, ot):
    """L(p) = B(p) W + C(p) for mixtures ``p`` (..., S) with OT distances ``ot`` (...)."""
    return multiplier(theta, p) * ot + offset(theta, p)


def predict_grad(theta: Coefficients, p, ot, ot_grad):
    """dL/dp for one mixture, given W and dW/dp (any representative: constants cancel on the
    simplex only after centring, so centre the result if you compare it)."""
    return ((2 * theta.b2 * p + theta.b1) * ot + multiplier(theta, p) * ot_grad
            + 2 * theta.c2 * p + theta.c1)


def design(p, ot) -> np.ndarray:
    """Least-squares design [W p^2, W p, p^2, p] (K, 4 S) of the canonical coefficients."""
    p = np.asarray(p, dtype=np.float64)
    w = np.asarray(ot, dtype=np.float64)[:, None]
    return np.hstack([w * p ** 2, w * p, p ** 2, p])


class ModelFit(NamedTuple):
    theta: Coefficients  # canonical (b0 = c0 = 0)
    fitted: np.ndarray  # (K,) predictions at the pilot mixtures
    rmse: float
    max_abs_error: float
    condition: float  # of the column-scaled design: large means coefficients poorly determined
    n_runs: int


def fit_coefficients(p, ot, performance, *, size: Optional[float] = None) -> ModelFit:
    """Least squares for (b2, b1, c2, c1) from pilot mixtures ``p`` (K, S), their OT distances
    ``ot`` (K,) and observed ``performance`` (K,), all at one data size."""
    p = np.asarray(p, dtype=np.float64)
    y = np.asarray(performance, dtype=np.float64)
    k, s = p.shape
    x = design(p, ot)
    at = f" at size {size:g}" if size is not None else ""
    if k < 4 * s:
        raise FitError(f"the performance model has {4 * s} coefficients for {s} sources (b2, b1, c2, "
                       f"c1 per source) but there are {k} pilot runs{at}; add runs (different "
                       "mixtures) at that size")
    scale = np.linalg.norm(x, axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    xs = x / scale
    sv = np.linalg.svd(xs, compute_uv=False)
    cond = float(sv[0] / sv[-1]) if sv[-1] > 0 else float("inf")
    rank = int(np.sum(sv > sv[0] * 1e-12))
    if rank < 4 * s:
        raise FitError(f"the pilot mixtures{at} do not determine the {4 * s} coefficients (design rank "
                       f"{rank}); use more varied mixtures (e.g. Dirichlet draws), not repeats or "
                       "mixtures on one line")
    beta = np.linalg.lstsq(xs, y, rcond=None)[0] / scale
    b2, b1, c2, c1 = np.split(beta, 4)
    theta = coefficients(b2, b1, c2, c1)
    fitted = x @ beta
    res = fitted - y
    return ModelFit(theta, fitted, float(np.sqrt(np.mean(res ** 2))), float(np.max(np.abs(res))),
                    cond, k)


# --- scaling between two pilot sizes -----------------------------------------------------------
def size_weights(size, n1, n2):
    """(w1, w2) with w2 = ln(N/N1) / ln(N2/N1): L(N) = w1 L_1 + w2 L_2 (linear in ln N)."""
    if not (n1 > 0 and n2 > 0 and n1 != n2):
        raise ValueError(f"the pilot sizes must be two different positive numbers, got {n1}, {n2}")
    w2 = jnp.log(jnp.asarray(size, jnp.float64) / n1) / np.log(n2 / n1)
    return 1.0 - w2, w2


def interpolate(theta1: Coefficients, theta2: Coefficients, size, n1, n2) -> Coefficients:
    """Coefficients at size N from those at N1 and N2 (the paper's mapping of predictions, which
    is the same thing when both sizes share the OT distance)."""
    w1, w2 = size_weights(size, n1, n2)
    return jax.tree_util.tree_map(lambda x1, x2: w1 * x1 + w2 * x2, theta1, theta2)


def project_performance(size, n1, n2, perf1, perf2):
    """The paper's mapping of two predictions: [ln(N/N1) L_2 - ln(N/N2) L_1] / ln(N2/N1)."""
    return (np.log(size / n1) * perf2 - np.log(size / n2) * perf1) / np.log(n2 / n1)


def predict_mapped(theta1: Coefficients, theta2: Coefficients, p, ot1, ot2, size, n1, n2):
    """L(N, p) = w1 L_1(p) + w2 L_2(p) (:func:`size_weights`), each pilot size's prediction with
    its own OT distance ``ot_k`` (revealed samples that differ by size). With ot1 == ot2 this is
    ``predict(interpolate(theta1, theta2, size, n1, n2), p, ot1)``."""
    w1, w2 = size_weights(size, n1, n2)
    return w1 * predict(theta1, p, ot1) + w2 * predict(theta2, p, ot2)


# --- selection ---------------------------------------------------------------------------------
class _Term(NamedTuple):
    """One pilot size's model in the objective: weight * L_k(p) with its own revealed samples."""

    weight: jax.Array  # log-N weight (1 for a single model)
    theta: Coefficients
    clouds: Clouds
    cost: jax.Array
    lb: jax.Array  # log validation weights
    e: jax.Array  # absolute eps


class _Setup(NamedTuple):
    terms: Tuple[_Term, ...]
    lower: jax.Array
    upper: jax.Array
    sign: jax.Array  # +1 minimise, -1 maximise


def _sweeps(cost, la, lb, f, g, e, n: int):
    """``n`` log-domain Sinkhorn sweeps at fixed eps from (f, g) (the update of :mod:`.sinkhorn`)."""

    return jax.lax.fori_loop(0, n, lambda _, fg: sweep(cost, la, lb, fg[0], fg[1], e), (f, g))


def _evaluate(st: _Setup, p, pots, inner: int):
    """Refine every term's potentials at ``p`` by ``inner`` sweeps; objective value and gradient
    there (a single term: L(p); two: w1 L_1(p) + w2 L_2(p), each with its own W_k and dW_k/dp)."""
    single = len(st.terms) == 1
    new, vals, grads = [], [], []
    for t, (f, g) in zip(st.terms, pots):
        a = sample_weights(p, t.clouds)
        f, g = _sweeps(t.cost, jnp.log(a), t.lb, f, g, t.e, inner)
        w = f @ a + g @ jnp.exp(t.lb)
        dw = _source_means(f, t.clouds)
        v, d = predict(t.theta, p, w), predict_grad(t.theta, p, w, dw)
        if not single:
            v, d = t.weight * v, t.weight * d
        vals.append(v)
        grads.append(d)
        new.append((f, g))
    val, grad = vals[0], grads[0]
    for v, d in zip(vals[1:], grads[1:]):
        val, grad = val + v, grad + d
    return st.sign * val, st.sign * grad, tuple(new)


def _pg_step(st: _Setup, inner: int, state: kernel.PGState) -> kernel.PGState:
    """The kernel's step, after refreshing the potentials (and so the value) at the current point
    so that acceptance compares like with like."""
    val, grad, pots = _evaluate(st, state.x, state.aux, inner)
    return kernel.pg_step(lambda x, aux: _evaluate(st, x, aux, inner),
                          lambda v: project(v, st.lower, st.upper),
                          state._replace(value=val, grad=grad, aux=pots), slack=1e-13)


def _init(st: _Setup, p, eps: float, iterations: int, anneal: int) -> kernel.PGState:
    pots = []
    for t in st.terms:
        a = sample_weights(p, t.clouds)
        s = sinkhorn_cost(t.cost, a, jnp.exp(t.lb), eps=eps, iterations=iterations, anneal=anneal)
        pots.append((s.f, s.g))
    return kernel.pg_init(lambda x, aux: _evaluate(st, x, aux, 0), p, tuple(pots))


class Selection(NamedTuple):
    p: jax.Array  # chosen mixture
    predicted: jax.Array  # L(N, p) with a full Sinkhorn solve at p (per size when mapped)
    ots: Tuple[OTDistance, ...]  # at p: one (shared samples), or one per pilot size (N1, N2)
    grad: jax.Array  # dL/dp (centred on the free coordinates: ~0 there at an optimum)
    stationarity: jax.Array  # max violation of the first-order conditions on the capped simplex
    at_lower: jax.Array
    at_upper: jax.Array
    start_values: jax.Array  # (K,) predicted value of every start after screening

    @property
    def ot(self) -> OTDistance:
        """The OT distance at ``p`` (one set of revealed samples; see ``ots`` when mapped)."""
        if len(self.ots) != 1:
            raise ValueError("this selection has one OT distance per pilot size (different "
                             "revealed samples); read `ots[0]` (N1) and `ots[1]` (N2)")
        return self.ots[0]


def _select(models, lower, upper, starts, sign, *, eps: float, iterations: int, anneal: int,
            steps: int, inner: int, polish: int, polish_inner: int) -> Selection:
    """``models``: a tuple of (weight, theta, clouds), the objective sum_k weight_k L_k(p)."""
    terms = []
    for weight, theta, clouds in models:
        cost = _cost(clouds)
        m = clouds.validation.shape[0]
        terms.append(_Term(weight, theta, clouds, cost, jnp.full(m, -jnp.log(m)),
                           jnp.maximum(jnp.max(cost), 1e-300) * eps))
    st = _Setup(tuple(terms), lower, upper, sign)
    starts = jax.vmap(lambda v: project(v, lower, upper))(starts)
    states = kernel.screen(lambda p: _init(st, p, eps, iterations, anneal),
                           lambda s: _pg_step(st, inner, s), starts, steps)
    state = jax.lax.fori_loop(0, polish, lambda _, s: _pg_step(st, polish_inner, s),
                              kernel.best(states))
    p = state.x
    ots = tuple(_distance(p, t.clouds, eps, iterations, anneal) for t in terms)
    if len(terms) == 1:
        predicted = predict(terms[0].theta, p, ots[0].value)
        grad = predict_grad(terms[0].theta, p, ots[0].value, ots[0].grad)
    else:
        predicted = sum(t.weight * predict(t.theta, p, ot.value) for t, ot in zip(terms, ots))
        grad = sum(t.weight * predict_grad(t.theta, p, ot.value, ot.grad)
                   for t, ot in zip(terms, ots))
    # kernel.kkt's marginal value is -(g + nu): the centred gradient is its negative.
    _, marginal, at_lower, at_upper, viol = kernel.kkt(p, sign * grad, lower, upper, ACTIVE_TOL)
    return Selection(p, predicted, ots, -sign * marginal, viol, at_lower, at_upper,
                     sign * states.value)


_select_jit = jit(_select, static_argnames=("eps", "iterations", "anneal", "steps", "inner",
                                            "polish", "polish_inner"))


def _run_select(models, s: int, *, lower=None, upper=None, maximise: bool = False,
                n_starts: int = 16, seed: int = 0, steps: int = 150, inner: int = 10,
                polish: int = 100, polish_inner: int = 40, eps: float = EPS,
                iterations: int = ITERATIONS, anneal: int = ANNEAL,
                names: Optional[Sequence[str]] = None) -> Selection:
    enable_float64()
    lo, up = bounds(s, lower, upper)
    up = np.minimum(up, 1.0)
    check_feasible(lo, up, names)
    starts = jax.random.dirichlet(jax.random.key(seed), jnp.ones(s), (int(n_starts),),
                                  dtype=jnp.float64)
    models = tuple((jnp.asarray(w, jnp.float64),
                    jax.tree_util.tree_map(lambda x: jnp.asarray(x, jnp.float64), theta), clouds)
                   for w, theta, clouds in models)
    return _select_jit(models, jnp.asarray(lo), jnp.asarray(up), starts,
                       jnp.asarray(-1.0 if maximise else 1.0), steps=int(steps), inner=int(inner),
                       polish=int(polish), polish_inner=int(polish_inner), eps=float(eps),
                       iterations=int(iterations), anneal=int(anneal))


def select(theta: Coefficients, clouds: Clouds, **options) -> Selection:
    """The mixture minimising (or, with ``maximise=True``, maximising) the predicted performance
    B(p) W(p) + C(p) with coefficients ``theta`` (e.g. :func:`interpolate` at the target size)
    over {sum p = 1, lower <= p <= upper}.

    Options: ``lower``, ``upper`` (S,) bounds (0 and 1); ``n_starts`` (16) projected Dirichlet(1)
    starts, drawn with ``seed`` (0), run ``steps`` (150) projected-gradient iterations each
    (``inner``, 10, warm Sinkhorn sweeps per evaluation), vmapped; the best runs ``polish`` (100)
    more with ``polish_inner`` (40) sweeps; ``eps``, ``iterations``, ``anneal``: the OT distance's
    (:func:`ot_distance`); ``names``: the sources, for messages. One compilation per problem shape
    and set of static options. Raises :class:`.simplex.InfeasibleMixture` when no mixture meets
    the bounds.
    """
    return _run_select(((1.0, theta, clouds),), int(clouds.counts.shape[0]), **options)


def select_mapped(theta1: Coefficients, clouds1: Clouds, theta2: Coefficients, clouds2: Clouds,
                  size, n1, n2, **options) -> Selection:
    """:func:`select` (with its options) for the log-N mapping of predictions when each pilot size
    has its own revealed samples: minimise L(N, p) = w1 L_1(p) + w2 L_2(p)
    (:func:`predict_mapped`), L_k with coefficients ``theta_k`` and the OT distance to
    ``clouds_k``. The gradient is w1 dL_1/dp + w2 dL_2/dp, each with its own size's OT gradient.
    ``ots`` of the result holds the distance at each pilot size (N1, N2)."""
    s1, s2 = int(clouds1.counts.shape[0]), int(clouds2.counts.shape[0])
    if s1 != s2:
        raise ValueError(f"the two pilot sizes have revealed samples of {s1} and {s2} sources; "
                         "give every size the same sources")
    w1, w2 = size_weights(size, n1, n2)
    return _run_select(((w1, theta1, clouds1), (w2, theta2, clouds2)), s1, **options)
