"""Loss along a training run as a function of the learning-rate schedule (Tissue et al. 2024).

.. math::

    L(s) = L_0 + A \\, S_1(s)^{-\\alpha} - C \\, S_2(s)

with, for the learning rates :math:`\\eta_1, \\eta_2, \\dots` of one run,

* :math:`S_1(s) = \\sum_{i=1}^{s} \\eta_i`, the *forward area* under the schedule, and
* :math:`S_2(s) = \\sum_{i=1}^{s} m_i`, :math:`m_i = \\lambda m_{i-1} + (\\eta_{i-1} - \\eta_i)`,
  the *annealing area* in its momentum form, i.e.
  :math:`S_2(s) = \\sum_{i=1}^{s} \\sum_{k=1}^{i} (\\eta_{k-1} - \\eta_k) \\lambda^{i-k}`.

Reference: Tissue, Wang, Wang, Shao, Cheng, Su, Zeng, Zhang (2024), "Scaling Law with Learning Rate
Annealing" (arXiv:2408.11029). The decay factor :math:`\\lambda` is a fixed constant of the law,
not a fitted parameter; the paper recommends 0.999 (and finds 0.99 to 0.999 works), which is
:data:`DEFAULT_DECAY`. :func:`lr_annealing_family` builds the family for another value.

Inputs are per-step rows of one or more training curves: a run id (a number or a name such as
``"cosine-1e-3"``; names are coded 0, 1, ... in order of first appearance), the step and the
learning rate used at that step. :func:`annealing_areas` (the family's ``prepare``, plain numpy on
the host) sorts the rows by (run, step), accumulates S1 and S2 within each run and returns them in
the rows' original order, so rows may come in any order and runs may be interleaved. ``step`` must
count optimisation steps (the momentum decays by lambda per step), not tokens.

Predicting (``FitResult.predict``, the ``predict`` task's ``at:``) takes the same per-step rows:
the areas are computed from the rows given, never from the fit's data, so a run's prediction at
a step needs the run's schedule up to that step. Rows with equal run ids are one run from step 0;
one row ``(run, s, eta)`` is a constant schedule at eta for s steps, and a schedule that changes
needs a row per change (or per logged step). Run ids are the fit's names (mapped to its codes)
or numbers; a name the fit did not see is a new run (its own code), since a run id only groups
rows.

Differences from LAWS.md and from the paper, by design:

* LAWS.md gives the same formula; nothing to correct.
* The paper's sums run over every optimisation step. Logged curves often keep every k-th step
  only. Rows need not be consecutive steps: between two recorded steps the learning rate is taken
  to be piecewise constant, equal to the value recorded at the later step (a drop happens right
  after the earlier recorded step). S1 then adds ``gap * eta`` and S2 uses the closed form of the
  momentum recursion over the gap, so consecutive steps give exactly the paper's sums and sparser
  logs the sums of that piecewise-constant schedule. For exact areas of a schedule that changes
  at every step (cosine) but is logged sparsely, give a row for every step with the learning rate
  and any finite loss, and weight the rows without a measured loss 0.
* The first recorded step of a run counts ``max(step, 1)`` steps at its learning rate (steps
  numbered from 1, or from 0 with step 0 counted once), and :math:`\\eta_0 = \\eta_1` (no drop
  before the first step). Warmup rows are used as given: they add to S1, and the rising learning
  rate enters S2 as negative "drops". To keep warmup in the areas but out of the fit, weight its
  rows 0.
* Rows with S1 = 0 (a schedule warming up from a learning rate of exactly 0) give an infinite
  prediction; give such rows zero weight or drop them.

Source check: the formula and lambda = 0.999 are the paper's as we know it; the paper's text could
not be retrieved in the session that wrote this module (only a follow-up paper's code was), so
check the warmup convention against the paper before comparing fitted constants with it.
"""

from __future__ import annotations

from typing import Optional

import attrs
import jax.numpy as jnp
import numpy as np

from .base import PUBLISHED_HUBER, LawFamily, Parameter

DEFAULT_DECAY = 0.999
"""lambda, the decay factor of the annealing momentum (Tissue et al. 2024 recommend 0.999)."""


def annealing_areas(run, step, lr, decay: float = DEFAULT_DECAY):
    """Forward area S1 and annealing area S2 at every row, in the rows' order.

    Args:
      run: (n,) run identifier of each row (any numbers; rows with equal ids form one curve).
      step: (n,) optimisation step of each row.
      lr: (n,) learning rate at that step.
      decay: lambda of the momentum form, in [0, 1).

    Returns:
      (S1, S2), two (n,) float64 arrays.

    >>> s1, s2 = annealing_areas([0, 0, 0], [1, 2, 3], [1.0, 0.5, 0.5], decay=0.5)
    >>> s1.tolist(), s2.tolist()
    ([1.0, 1.5, 2.0], [0.0, 0.5, 0.75])
    """
    run = np.asarray(run, dtype=np.float64)
    step = np.asarray(step, dtype=np.float64)
    lr = np.asarray(lr, dtype=np.float64)
    if not 0.0 <= decay < 1.0:
        raise ValueError(f"the annealing decay factor lambda must lie in [0, 1), got {decay}")
    order = np.lexsort((step, run))
    r, s, eta = run[order], step[order], lr[order]
    s1 = np.empty_like(eta)
    s2 = np.empty_like(eta)
    geometric = 1.0 / (1.0 - decay)
    for i in range(len(eta)):
        if i == 0 or r[i] != r[i - 1]:
            area1 = max(s[i], 1.0) * eta[i]
            area2 = 0.0
            momentum = 0.0
        else:
            gap = s[i] - s[i - 1]
            if gap > 0:
                drop = eta[i - 1] - eta[i]
                power = decay ** gap
                # m over the gap: the drop lands on the first step after the earlier record, then
                # every step decays m by lambda; S2 adds m at each of the `gap` steps.
                area2 += (drop + momentum * decay) * (1.0 - power) * geometric
                momentum = power * momentum + decay ** (gap - 1.0) * drop
                area1 += gap * eta[i]
        s1[i] = area1
        s2[i] = area2
    out1 = np.empty_like(s1)
    out2 = np.empty_like(s2)
    out1[order] = s1
    out2[order] = s2
    return out1, out2


def _prepare_for(decay: float):
    def prepare(x):
        """(run, step, lr) rows -> (S1, S2) per row; host-side numpy."""
        x = np.asarray(x, dtype=np.float64)
        s1, s2 = annealing_areas(x[:, 0], x[:, 1], x[:, 2], decay)
        return np.column_stack([s1, s2])

    return prepare


def _linear_predict(theta, z):
    l0, a, alpha, c = jnp.exp(theta[0]), jnp.exp(theta[1]), theta[2], jnp.exp(theta[3])
    return l0 + a * z[:, 0] ** (-alpha) - c * z[:, 1]


def lr_annealing_family(decay: float = DEFAULT_DECAY, name: Optional[str] = None) -> LawFamily:
    """The learning-rate annealing law with annealing-momentum decay ``decay`` (lambda).

    The default family ``lr_annealing`` uses :data:`DEFAULT_DECAY`; another value gives a new
    family (named ``lr_annealing[lambda=...]`` unless ``name`` is given) that can be registered by
    a plugin or passed to :func:`scalinglaws.fit` directly.
    """
    if not 0.0 <= decay < 1.0:
        raise ValueError(f"the annealing decay factor lambda must lie in [0, 1), got {decay}")
    if name is None:
        name = "lr_annealing" if decay == DEFAULT_DECAY else f"lr_annealing[lambda={decay:g}]"
    return LawFamily(
        name=name,
        formula="L(s) = L0 + A * S1^-alpha - C * S2; S1 = sum_i eta_i, "
                "S2 = sum_i sum_k<=i (eta_{k-1} - eta_k) lambda^(i-k)",
        reference=(
            "Tissue et al. 2024, 'Scaling Law with Learning Rate Annealing' (arXiv:2408.11029)"
        ),
        description=(
            "Loss at every step of training runs with any learning-rate schedule, from the forward "
            "area S1 and the annealing area S2 of the schedule."
        ),
        notes=(
            f"Inputs are per-step rows (run id, a number or a name; step; learning rate); S1 "
            f"and S2 are computed per run after sorting by (run, step), with lambda = "
            f"{decay:g} fixed. Steps may be "
            "logged sparsely: the schedule is then taken as piecewise constant between records. "
            "Predictions take the same rows: each run's schedule from its start, named as in "
            "the fit (or numbered). "
            "Fitted on linear residuals (Huber, delta 1e-3 in loss units) with L0, A, C on a log "
            "scale."
        ),
        inputs=("run", "step", "lr"),
        parameters=(
            Parameter(name="L0", transform="log", fit_name="log L0", init=(0.0, 0.5, 1.0, 1.5),
                      realistic=(1.8, 3.5),
                      description="loss after infinite forward area (irreducible part)"),
            Parameter(name="A", transform="log", fit_name="log A", init=(-2.0, -1.0, 0.0, 1.0),
                      realistic=(0.2, 1.0),
                      description="scale of the forward-area power law"),
            Parameter(name="alpha", realistic=(0.3, 0.8), init=(0.2, 0.5, 1.0), description="exponent of S1"),
            Parameter(name="C", realistic=(0.5, 3.0), transform="log", fit_name="log C",
                      init=(-2.0, 0.0, 2.0, 4.0, 6.0),
                      description="loss reduction per unit of annealing area"),
        ),
        linear_predict=_linear_predict,
        prepare=_prepare_for(decay),
        positive_inputs=False,  # run ids and steps may be 0; learning rates may reach 0
        id_inputs=("run",),  # runs may be named ("cosine-1e-3"); the fit codes them 0, 1, ...
        plot_x="step",  # the fit figure: loss against step, one curve per run
        default_estimator=attrs.evolve(PUBLISHED_HUBER, space="linear"),
    )


lr_annealing = lr_annealing_family()
FAMILIES = (lr_annealing,)
