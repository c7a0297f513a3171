"""Goyal et al. (2024): error against samples seen when a data pool's utility decays with repetition.

.. math::

    y(n, u) = d + (a\\,n_0)^{b_0} \\prod_{k \\ge 1} \\left(\\frac{n_k}{n_{k-1}}\\right)^{b_k},
    \\qquad b_k = b \\left(\\tfrac{1}{2}\\right)^{k / \\tau}

    n_k = \\min(n, (k + 1)\\,u), \\qquad n_{k-1} = k\\,u \\quad (k = 1, \\dots, \\lfloor n/u \\rfloor)

for y the error (1 - accuracy) of a model that has seen n samples drawn from a pool of u unique
samples, so that epoch k (k = 0 the first pass) ends after :math:`n_k` samples. Within the first
pass the law is the power law :math:`y = d + (a n)^b` (b < 0). The "utility" b of the pool's
samples halves every :math:`\\tau` repetitions, and epoch k moves the reducible error
:math:`y - d` along a power law of exponent :math:`b_k` from where the previous epoch left it
(the authors' code documents it as :math:`\\Delta y = y\\,b\\,\\delta / n`, the power law's
:math:`dy/dn = b\\,y/n` with b decayed by :math:`\\delta = (1/2)^{k/\\tau}` per epoch). The last epoch
may be partial: its ratio is :math:`n / (k u)`, as in the authors' code, so y is continuous in n
with a kink at every epoch boundary. Each pass adds less, so y tends to a floor above d.

Pools of different quality combine (:func:`pool_mixture_error`) into one pool of their total size
whose per-epoch exponent is the average of the pools' decayed exponents,
:math:`b^{\\mathrm{mix}}_k = \\sum_i w_i\\, b_i (1/2)^{k / (p \\tau_i)}` with :math:`w_i` pool i's
share of the samples (1/p for p equal pools) and a shared a and d; :func:`best_filtering_level`
ranks nested filtering levels (the best pool, the best two, ...) at each compute budget: the
best level changes with compute ("data curation cannot be compute agnostic").

Reference: Goyal, Maini, Lipton, Raghunathan, Kolter (2024), "Scaling Laws for Data Filtering --
Data Curation cannot be Compute Agnostic" (CVPR 2024, arXiv:2404.07177); code:
locuslab/scaling_laws_data_filtering (``objective.py``: ``func_effective_utility``,
``func_effective_utility_aggregation``; ``estimate_best_pool.py``; published fits in
``results/parameter_values.jsonl``). Published (DataComp medium, T-MARS buckets of 12.8M
samples, ImageNet error): a = 0.025 per 1e5 samples (2.5e-7 per sample here), d = 0.1 (fixed),
b from -0.16 (top 10%) to -0.085 (top 30-40%), tau from 2.3 to 8.5 (:data:`GOYAL_2024_TMARS`).

Source check and differences from LAWS.md:

* The paper's text could not be retrieved in the session that wrote this module; the equations
  were checked against the authors' code, which LAWS.md matches in the exponent decay
  :math:`b_k = b (1/2)^{k/\\tau}` (k counted from 0, so :math:`b_0 = b`), in :math:`(a n_0)^{b_0}`
  (a multiplies n inside the power) and in the product over epochs.
* d: LAWS.md (and the form here) adds d outside the product, so d is an irreducible floor and only
  the reducible error decays per epoch. The authors' ``func_effective_utility`` adds d *before*
  multiplying by the epoch ratios, :math:`y = (d + (a n_0)^{b_0}) \\prod_k (n_k/n_{k-1})^{b_k}`.
  The two agree without repetition (n <= u) and for d = 0; with d = 0.1 and repetition they
  differ, so published (a, b, tau) fitted with d = 0.1 do not carry over exactly.
* Units: the authors divide samples by 1e5 before multiplying by a; here n and u are plain sample
  counts, so a here = a (theirs) / 1e5.
* Fractional epochs: exactly the authors' convention (the partial last epoch contributes the
  ratio n / (k u) at exponent :math:`b_k`); LAWS.md leaves it unsaid. Prediction needs
  n / u <= :data:`MAX_EPOCHS` (prepare raises beyond it).
* Pools: LAWS.md says pools combine by "a delta-weighted average of exponents". The authors' main
  ("effective utility") aggregation takes the plain mean over pools of the decayed exponents
  :math:`b_i \\delta_{i,k}` (weights = sample shares); the normalised form
  :math:`\\sum_i b_i \\delta_{i,k} / \\sum_i \\delta_{i,k}` appears only in their alternative
  "effective data" objective (after Muennighoff et al.), not implemented here. When combining p
  pools their ``estimate_best_pool.py`` also multiplies every tau by p, with no reason stated in
  the code (the paper's text would say whether it is part of the law); that is the default here
  (``scale_tau=True``; ``False`` uses the pools' own tau). Their code requires one a for all
  pools; so does this module.
* Fit: the authors grid-search (a, b, tau) with d fixed at 0.1, minimising squared error of the
  error on linear residuals; ``default_estimator`` keeps the loss (squared, linear) and fits all
  four parameters by the multistart solver (b as it is, negative; a and d as logs; tau bounded).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import attrs
import jax.numpy as jnp
import numpy as np

from ..core import enable_float64
from .base import EstimatorRecipe, LawFamily, Parameter

MAX_EPOCHS = 4096
"""Largest n / u the law evaluates (the per-epoch exponents are summed over a fixed-length grid
of epochs so that the prediction stays one jittable expression)."""

TAU_BOUNDS = (0.1, 100.0)
"""Bounds of the half-life tau (in repetitions); the authors' grids span 1 to 100."""

GOYAL_2024_TMARS = {
    "a": 0.025 / 1e5, "d": 0.1,
    "b": (-0.16, -0.125, -0.1, -0.085),
    "tau": (6.7272727272727275, 8.545454545454547, 5.2727272727272725, 2.2727272727272725),
    "u": 12_800_000,
}
"""The authors' fit to T-MARS buckets top 0-10%, 10-20%, 20-30%, 30-40% of DataComp medium
(ImageNet error; ``results/parameter_values.jsonl``, id ``tmars_imagenet1k_utility``), a per
sample. Fitted with the code's placement of d (see the module docstring)."""

_K = np.arange(MAX_EPOCHS + 1, dtype=np.float64)
# log((k + 1) / k) for k = 1..MAX_EPOCHS: the full-epoch ratio n_k / n_{k-1} of epoch k.
_FULL_RATIO = np.log1p(1.0 / _K[1:])


def epochs_prepare(x):
    """(n, u) rows -> (log n, log u, k, log(n / (k u))), k = floor(n / u) the current epoch.

    Host-side numpy: k is data, so the fit only gathers at it. log(n / (k u)) is the partial last
    epoch's ratio (0 for k = 0, where the first pass is still running).
    """
    x = np.asarray(x, dtype=np.float64)
    n, u = x[:, 0], x[:, 1]
    if np.any(n <= 0) or np.any(u <= 0):
        raise ValueError("data_filtering needs samples seen n > 0 and pool sizes u > 0")
    k = np.floor(n / u)
    if np.any(k > MAX_EPOCHS):
        raise ValueError(f"data_filtering evaluates at most {MAX_EPOCHS} epochs (n / u), got "
                         f"{float(np.max(n / u)):g}")
    partial = np.where(k >= 1, np.log(n) - np.log(u) - np.log(np.maximum(k, 1.0)), 0.0)
    return np.column_stack([np.log(n), np.log(u), k, partial])


def log_reducible(log_a, bk, z):
    """log(y - d) for per-epoch exponents ``bk`` (b_0 .. b_MAX_EPOCHS) at prepared rows ``z``."""
    log_n, log_u, k, partial = z[:, 0], z[:, 1], z[:, 2].astype(jnp.int32), z[:, 3]
    # Completed repetition epochs 1..k-1 contribute b_j log((j + 1) / j) each: a cumulative sum
    # over the epoch grid (independent of the rows) gathered at k - 1.
    done = jnp.concatenate([jnp.zeros(1), jnp.cumsum(bk[1:] * _FULL_RATIO)])
    first = bk[0] * (log_a + jnp.minimum(log_n, log_u))
    return first + done[jnp.maximum(k - 1, 0)] + bk[k] * partial


def decayed_exponents(b, tau):
    """b_k = b (1/2)^(k / tau) for k = 0..MAX_EPOCHS."""
    return b * jnp.exp(-jnp.log(2.0) * _K / tau)


_TAU = Parameter(name="tau", transform="bounded", lower=TAU_BOUNDS[0], upper=TAU_BOUNDS[1],
                 realistic=(1.5, 10.0), description="half-life of the utility, in repetitions")
_TAU = attrs.evolve(_TAU, init=tuple(float(_TAU.to_fit(v)) for v in (2.0, 6.0, 20.0)))


def _tau(v):
    """tau from its fitting value (the `bounded` transform's scaled sigmoid)."""
    return _TAU.to_natural(v)


def log_predict(theta, z):
    """log y; theta = (log a, b, log d, bounded tau)."""
    log_a, b, log_d, tau = theta[0], theta[1], theta[2], _tau(theta[3])
    return jnp.logaddexp(log_d, log_reducible(log_a, decayed_exponents(b, tau), z))


def linear_predict(theta, z):
    log_a, b, d, tau = theta[0], theta[1], jnp.exp(theta[2]), _tau(theta[3])
    return d + jnp.exp(log_reducible(log_a, decayed_exponents(b, tau), z))


data_filtering = LawFamily(
    name="data_filtering",
    formula=("y = d + (a n_0)^b_0 prod_{k>=1} (n_k / n_{k-1})^b_k; b_k = b (1/2)^(k / tau); "
             "n_k = min(n, (k + 1) u), n_{k-1} = k u, k = 1..floor(n / u)"),
    reference=("Goyal et al. 2024, 'Scaling Laws for Data Filtering -- Data Curation cannot be "
               "Compute Agnostic' (CVPR 2024, arXiv:2404.07177); locuslab/scaling_laws_data_filtering"),
    description=("Error of a model after n samples seen from a pool of u unique samples, whose "
                 "utility (exponent b) halves every tau repetitions."),
    notes=("Authors' T-MARS fits (ImageNet error, 12.8M-sample pools): a = 2.5e-7 per sample, d = "
           "0.1 fixed, b -0.16 to -0.085, tau 2.3 to 8.5. d is added outside the epoch product (the "
           "authors' code multiplies it too). The partial last epoch uses the ratio n / (k u). n / "
           f"u <= {MAX_EPOCHS}. Pools combine with data_filtering.pool_mixture_error; "
           "best_filtering_level ranks nested filtering levels per compute budget."),
    inputs=("n", "u"),
    parameters=(
        Parameter(name="a", transform="log", fit_name="log a",
                  init=tuple(np.log([1e-8, 1e-7, 1e-6, 1e-5])), realistic=(1.5e-7, 5e-7),
                  description="inverse sample scale: (a n)^b is the first pass's reducible error"),
        Parameter(name="b", init=(-0.05, -0.15, -0.4), realistic=(-0.2, -0.08),
                  description="utility of the pool: exponent of the first pass (negative)"),
        Parameter(name="d", transform="log", fit_name="log d", init=tuple(np.log([0.03, 0.1, 0.3])),
                  realistic=(0.05, 0.3), description="irreducible error"),
        _TAU,
    ),
    log_predict=log_predict,
    linear_predict=linear_predict,
    prepare=epochs_prepare,
    default_estimator=EstimatorRecipe(loss="squared", space="linear"),
)


def pool_mixture_error(pools: Sequence[Mapping[str, float]], a: float, d: float, n,
                       scale_tau: bool = True) -> np.ndarray:
    """Error after ``n`` samples seen from the union of ``pools`` (dicts with ``b``, ``tau`` and
    pool size ``u``), each pool's samples seen in proportion to its size.

    The union is one pool of size sum(u_i) whose per-epoch exponent is the sample-share-weighted
    mean of the pools' decayed exponents, b_k = sum_i (u_i / U) b_i (1/2)^(k / (p tau_i)), with
    tau_i multiplied by the number of pools p when ``scale_tau`` (as the authors'
    ``estimate_best_pool.py`` does). One pool gives the ``data_filtering`` law itself.
    """
    enable_float64()  # before arrays are made
    if not pools:
        raise ValueError("pool_mixture_error needs at least one pool")
    sizes = np.array([float(p["u"]) for p in pools])
    weights = sizes / sizes.sum()
    scale = float(len(pools)) if scale_tau else 1.0
    bk = sum(w * decayed_exponents(float(p["b"]), scale * float(p["tau"]))
             for w, p in zip(weights, pools))
    n = np.atleast_1d(np.asarray(n, dtype=np.float64))
    z = jnp.asarray(epochs_prepare(np.column_stack([n, np.full_like(n, sizes.sum())])))
    return np.asarray(d + jnp.exp(log_reducible(np.log(a), bk, z)))


def best_filtering_level(pools: Sequence[Mapping[str, float]], a: float, d: float, n,
                         scale_tau: bool = True):
    """Errors of the nested filtering levels at each budget ``n`` and the best level per budget.

    ``pools`` are ordered from the highest quality down (e.g. the top 10% bucket, then 10-20%,
    ...); level l trains on the union of the first l pools. Returns ``(errors, best)``: errors of
    shape (levels, len(n)) from :func:`pool_mixture_error`, and the index of the lowest-error level
    for each n (0 = the most aggressive filter). The best level grows with the compute budget.
    """
    n = np.atleast_1d(np.asarray(n, dtype=np.float64))
    errors = np.stack([pool_mixture_error(pools[:level], a, d, n, scale_tau)
                       for level in range(1, len(pools) + 1)])
    return errors, np.argmin(errors, axis=0)


FAMILIES = (data_filtering,)
