"""Chinchilla's law in the average parameter count over pre-training (sparse and pruned training).

.. math::

    L(\\bar N, D) = E + \\frac{A}{\\bar N^{\\alpha}} + \\frac{B}{D^{\\beta}}, \\qquad
    \\bar N = \\frac{1}{D} \\int_0^{D} N(\\tau)\\, d\\tau

:math:`\\bar N` is the number of (non-zero) parameters averaged over the tokens of pre-training:
for dense training it is N; for a model pruned during training it lies between the final sparse
count and the dense count, weighted by how long each was trained. The claim of the paper is that
one law in :math:`(\\bar N, D)` describes dense and sparsely pre-trained models alike.

Reference: Jin, Humayun, Evci, Subramanian, Yazdanbakhsh, Alistarh, Dziugaite (2025), "The Journey
Matters: Average Parameter Count over Pre-training Unifies Sparse and Dense Scaling Laws"; the law
is Hoffmann et al. (2022)'s with N replaced by N-bar.

Inputs: ``N_avg`` (the average parameter count) and D. :func:`average_parameter_count` computes
N_avg for the common gradual magnitude-pruning schedule of Zhu & Gupta (2017): dense until a
fraction ``start`` of training, sparsity rising as :math:`s(u) = s_f (1 - (1 - u)^3)` over
:math:`u \\in [0, 1]` until ``end``, then constant at the final sparsity :math:`s_f`; the cubic
averages to 3/4 of :math:`s_f` over the pruning phase, so
:math:`\\bar N = N (1 - s_f (\\tfrac34 (\\text{end} - \\text{start}) + 1 - \\text{end}))`.

Differences from LAWS.md and from the paper:

* The paper itself could not be read here; this family implements LAWS.md's description
  (Chinchilla with N replaced by the average parameter count) and the paper's title claim. Its
  exact functional form, pruning schedule (e.g. where pruning starts and ends) and fitting recipe
  are unchecked; :func:`average_parameter_count` is a convenience for the Zhu & Gupta schedule,
  not the paper's code.
* Fitted like ``chinchilla`` (log-sum-exp form with analytic Jacobian; Huber delta 1e-3 on log
  residuals) but from a coarser default grid (3 x 5 x 5 x 3 x 3 = 675 starts instead of 4500),
  screened by successive halving.
"""

from __future__ import annotations

import numpy as np

from .base import PUBLISHED_HUBER, LawFamily, Parameter
from .chinchilla import log_predict, log_predict_and_jac


def average_parameter_count(n_dense, final_sparsity, start: float = 0.25, end: float = 0.75):
    """Average non-zero parameters over training under gradual (cubic) magnitude pruning.

    ``n_dense`` parameters, pruned from fraction ``start`` to ``end`` of the training tokens to
    ``final_sparsity`` (0 = dense, 0.9 = 90% of weights removed) along Zhu & Gupta's (2017) cubic
    schedule, then trained sparse to the end.
    """
    n = np.asarray(n_dense, dtype=np.float64)
    s = np.asarray(final_sparsity, dtype=np.float64)
    if not 0.0 <= start <= end <= 1.0:
        raise ValueError(f"need 0 <= start <= end <= 1, got start={start}, end={end}")
    return n * (1.0 - s * (0.75 * (end - start) + (1.0 - end)))


avg_params = LawFamily(
    name="avg_params",
    formula="L(N_avg, D) = E + A / N_avg^alpha + B / D^beta,  N_avg = parameters averaged over training",
    reference=("Jin et al. 2025, 'The Journey Matters: Average Parameter Count over Pre-training "
               "Unifies Sparse and Dense Scaling Laws'"),
    description=("Loss of a model pre-trained on D tokens with (possibly time-varying, e.g. pruned) "
                 "parameter count whose average over training is N_avg."),
    notes=("Chinchilla with N -> N_avg. N_avg for gradual cubic pruning: "
           "scalinglaws.laws.avg_params.average_parameter_count(n_dense, final_sparsity, start, "
           "end). Functional form taken from LAWS.md (paper not checked)."),
    inputs=("N_avg", "D"),
    parameters=(
        Parameter(name="E", transform="log", fit_name="e", init=(-1.0, 0.0, 1.0),
                  realistic=(1.5, 2.0), description="irreducible loss"),
        Parameter(name="A", transform="log", fit_name="a", init=(0.0, 5.0, 10.0, 15.0, 20.0),
                  realistic=(200.0, 2000.0), description="scale of the parameter term"),
        Parameter(name="B", transform="log", fit_name="b", init=(0.0, 5.0, 10.0, 15.0, 20.0),
                  realistic=(200.0, 3000.0), description="scale of the data term"),
        Parameter(name="alpha", init=(0.0, 0.5, 1.0), realistic=(0.25, 0.45),
                  description="exponent of N_avg"),
        Parameter(name="beta", init=(0.0, 0.5, 1.0), realistic=(0.25, 0.45),
                  description="exponent of D"),
    ),
    log_predict=log_predict,
    log_predict_and_jac=log_predict_and_jac,
    prepare=np.log,
    default_estimator=PUBLISHED_HUBER,
)
FAMILIES = (avg_params,)
