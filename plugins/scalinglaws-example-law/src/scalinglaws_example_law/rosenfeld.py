r"""The envelope law of Rosenfeld et al. (2020) for error across model and data scale.

Rosenfeld, Rosenfeld, Belinkov and Shavit, "A Constructive Prediction of the Generalization Error
Across Scales", ICLR 2020 (arXiv:1909.12673), eqs. 4-5. With model size m (here ``N``) and data
size n (here ``D``), a power law in each plus a floor,

    eps~(m, n) = a n^-alpha + b m^-beta + c_inf,

is passed through an envelope that saturates at the random-guess error eps_0 for small models or
little data (a complex pole at i eta):

    eps^(m, n) = eps_0 |eps~ / (eps~ - i eta)| = eps_0 eps~ / sqrt(eps~^2 + eta^2).

For eps~ >> eta the error is eps_0 (the random-guess region); for eps~ << eta it is the power law
eps_0 eps~ / eta. The paper fixes a = 1: scaling a, b, c_inf and eta together leaves eps^
unchanged, so a free a could not be identified. The remaining six parameters are fitted here;
eps_0 is usually known (0.9 for top-1 error on 10 classes) and can be held with
``law: {family: rosenfeld_envelope, fixed: {eps0: 0.9}}``.

Fitted in log space, stably for any scale:

    log eps^ = log eps_0 + t - 0.5 * LSE(2 t, 2 log eta),
    t = log eps~ = LSE(-alpha log n, log b - beta log m, log c_inf).

The paper fits least squares on the relative divergence (eps^ - eps) / eps, which squared log
residuals approximate to first order; that is the default estimator here.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax.scipy.special import logsumexp
from scalinglaws import LawFamily, Parameter


def log_predict(theta, z):
    """log eps^ at z = (log m, log n) for theta = (alpha, beta, log b, log c_inf, log eta, log eps_0)."""
    alpha, beta, log_b, log_c, log_eta, log_eps0 = (theta[i] for i in range(6))
    log_m, log_n = z[:, 0], z[:, 1]
    terms = jnp.stack([-alpha * log_n, log_b - beta * log_m, jnp.broadcast_to(log_c, log_n.shape)])
    t = logsumexp(terms, axis=0)
    return log_eps0 + t - 0.5 * jnp.logaddexp(2.0 * t, 2.0 * log_eta)


def _log_inputs(x):
    return np.log(x)


rosenfeld_envelope = LawFamily(
    name="rosenfeld_envelope",
    formula="eps(N, D) = eps0 |e / (e - i eta)|,  e = D^-alpha + b N^-beta + c_inf",
    reference=("Rosenfeld et al. 2020, 'A Constructive Prediction of the Generalization Error "
               "Across Scales' (ICLR), eqs. 4-5"),
    description="Error against model size N and data size D, saturating at random-guess error.",
    notes=("a = 1 as in the paper (a free a is not identifiable). Fitted in log space as "
           "log eps0 + t - LSE(2t, 2 log eta)/2 with t = LSE(-alpha log D, log b - beta log N, "
           "log c_inf). Hold eps0 at the random-guess error with `fixed: {eps0: ...}` when known."),
    inputs=("N", "D"),
    parameters=(
        Parameter(name="alpha", init=(0.3, 0.8), description="data exponent"),
        Parameter(name="beta", init=(0.3, 0.8), description="model exponent"),
        Parameter(name="b", transform="log", init=(-2.0, 2.0), description="model-term scale"),
        Parameter(name="c_inf", transform="log", init=(-10.0, -6.0),
                  description="floor of the power-law region"),
        Parameter(name="eta", transform="log", init=(-6.0, -3.0),
                  description="pole of the envelope: where the power-law region begins"),
        Parameter(name="eps0", transform="log", init=(-1.0, 0.5),
                  description="random-guess error, the plateau at small scale"),
    ),
    log_predict=log_predict,
    prepare=_log_inputs,
    default_estimator={"loss": "squared", "space": "log"},
)
