"""Loss along one training run: a power law in the step count, one exponent across curves.

Ye et al. (2024), "Data Mixing Laws: Optimizing Data Mixtures by Predicting Language Modeling
Performance", predict large runs with nested laws; the innermost, the step law, is fitted to the
intermediate checkpoints of each run:

    L(S) = E + (k / S)^alpha

with E, k per curve (a run, and a validation domain) and alpha shared across curves. Fit it with
``law: {family: step_power, groups: <curve column>, shared: [alpha]}``.

Differences from the paper and the authors' code (yegcjs/mixinglaws, ``pipeline/utils.py``,
``power_law_share_alpha``): they parametrise the same law as exp(log c) + exp(alpha (log k - log x))
with x the number of tokens seen (steps times tokens per batch), and fit it with L-BFGS on a
Huber loss (delta 0.02) of the loss itself, over steps 10k to 30k. Here x is whatever column the
input S maps to (steps or tokens; k has its unit), and the default fit is, as for the other built-in
families, Huber (delta 1e-3) on log residuals. Choshen et al. (2024, "A Hitchhiker's Guide to
Scaling Law Estimation") advise dropping roughly the first 10% of training before fitting such
curves: the early, fast-changing checkpoints follow no power law.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .base import PUBLISHED_HUBER, LawFamily, Parameter


def log_predict(theta, z):
    """log L = LSE(e, alpha (log k - log S)) with z = log S, theta = (e, log k, alpha)."""
    return jnp.logaddexp(theta[0], theta[2] * (theta[1] - z[:, 0]))


def log_predict_and_jac(theta, z):
    """The Jacobian of a log-sum-exp is its softmax weights times the inner derivatives."""
    inner = theta[1] - z[:, 0]
    t = theta[2] * inner
    y = jnp.logaddexp(theta[0], t)
    s_e, s_t = jnp.exp(theta[0] - y), jnp.exp(t - y)
    return y, jnp.stack([s_e, theta[2] * s_t, inner * s_t], axis=1)


step_power = LawFamily(
    name="step_power",
    formula="L(S) = E + (k / S)^alpha",
    reference=(
        "Ye et al. 2024, 'Data Mixing Laws: Optimizing Data Mixtures by Predicting Language "
        "Modeling Performance' (the step law of their nested laws)"
    ),
    description="Loss against training steps S along one run; alpha is shared across runs.",
    notes=(
        "Several curves: `law: {family: step_power, groups: <curve column>, shared: [alpha]}` fits "
        "one alpha and an E and k per curve (E[curve], k[curve]). Fitted as log L = LSE(e, "
        "alpha (log k - log S)). Drop roughly the first 10% of each run (Choshen et al. 2024). "
        "The authors' code uses tokens seen for S and Huber (delta 0.02) on the loss itself."
    ),
    inputs=("S",),
    parameters=(
        Parameter(name="E", transform="log", fit_name="e", init=(-1.0, -0.5, 0.0, 0.5, 1.0),
                  realistic=(1.5, 4.0), description="loss the curve tends to"),
        Parameter(name="k", transform="log", fit_name="log k", init=(0.0, 4.0, 8.0, 12.0, 16.0),
                  realistic=(10.0, 1e4),
                  description="step scale: the reducible loss is 1 at S = k (unit of S)"),
        Parameter(name="alpha", init=(0.25, 0.5, 0.75, 1.0), realistic=(0.3, 1.0),
                  description="exponent, shared across curves"),
    ),
    log_predict=log_predict,
    log_predict_and_jac=log_predict_and_jac,
    prepare=np.log,
    default_estimator=PUBLISHED_HUBER,
)
FAMILIES = (step_power,)
