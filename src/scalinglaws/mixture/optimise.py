"""Choose a mixture: minimise the predicted target loss over the capped simplex.

Problem. With a fitted law L(r) (losses per validation domain), a target G of the losses (weights
s over domains, G = sum_i s_i L_i, or any function: a formula of the spec's grammar such as
max(L_code, L_web) + 0.5 L_math, compiled to JAX by :func:`target_function`), an optional penalty
p_j (loss units per unit of proportion), and optional prices c_j (money per training token of
source j) with a spending limit s:

    minimise  F(r) = G(L(r)) + sum_j p_j r_j
    over      sum_j r_j = 1,   l_j <= r_j <= u_j,   u_j = min(upper_j, E_max,j U_j / T),
              sum_j c_j r_j T <= s

where the availability cap says that source j (U_j unique tokens) may be seen at most E_max,j times
within a budget of T tokens (RegMix's cap of 15 epochs per domain; LAWS.md section 5), and the
spending limit is data selection under a budget (each token drawn from source j costs c_j; the
limit is normalised to c_j T / s . r <= 1 so that its tolerances do not depend on the currency).

Method (:mod:`.solve`): the projected-gradient kernel of :mod:`.kernel` from many projected
Dirichlet(1) starts, vmapped, then a Newton polish of the best and the KKT multipliers, which give
the marginal value of every source (:class:`.result.MixtureOptimum`). The problem's arrays, its
target and constraints, are built and checked by :mod:`.target`; :func:`mixture_frontier`
(:mod:`.frontier`) re-solves at several budgets T.

Uncertainty: the same pipeline vmapped over bootstrap draws of the law's parameters (one
compilation), from the point optimum and a few Dirichlet draws per draw; the spread of the optimal
mixture and of its predicted loss across draws.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from ..core import enable_float64
from .result import MixtureOptimum
from .solve import objective_rows, solve_draws, solve_point
from .target import build, epochs_cap, resolve


def optimise_mixture(predict, params=None, *, weights=None, objective=None, lower=None, upper=None,
                     budget=None, unique_tokens=None, max_epochs=None, penalty=None,
                     cost_per_token=None, spend=None, context=None, n_starts: int = 256,
                     seed: int = 0, iterations: int = 300, polish: int = 30, draws=None,
                     n_starts_draw: int = 4, draw_iterations: int = 100, draw_polish: int = 15,
                     sources: Optional[Sequence[str]] = None,
                     domains: Optional[Sequence[str]] = None) -> MixtureOptimum:
    """Minimise the predicted target loss over the capped simplex (with a spending limit).

    Args:
      predict: pure ``predict(params, r (S,), context) -> (D,)`` (a :class:`.laws.MixtureLaw`'s),
        or a fitted mixture (:class:`.laws.FittedMixture`), which supplies ``params``,
        ``sources``, ``domains`` and, with ``draws=True``, its bootstrap draws.
      params: the law's parameters (a pytree of arrays).
      weights: (D,) target weights over validation domains (nonnegative): F = weights . L(r).
      objective: instead of weights, the target as a pure JAX function of the (D,) losses
        (hashable: it is a static argument of the compiled solver), or a formula over the domain
        names (``"max(code, web) + 0.5 * math"``; :func:`target_function`).
      lower, upper: (S,) bounds on the proportions (default 0 and 1).
      budget: T, the token budget; unique_tokens (S,) U_j (``inf`` or nan for unlimited) and
        max_epochs E_max (scalar or (S,)) give the availability caps u_j = E_max U_j / T.
      penalty: (S,) loss units per unit of proportion, added to the objective (a soft price).
      cost_per_token, spend: (S,) money per training token drawn from each source and the
        spending limit: sum_j cost_per_token_j r_j T <= spend (data acquisition under a budget).
      context: the law's context (e.g. [T] for the repetition law); default [budget or 0].
      n_starts: projected Dirichlet(1) starts; seed: their seed.
      iterations: projected-gradient iterations for every start; polish: Newton/PG iterations
        for the best.
      draws: optional bootstrap draws of ``params`` (leading axis B): the problem is re-solved
        for each (vmapped), from the point optimum and ``n_starts_draw`` - 1 Dirichlet draws.

    Raises :class:`.simplex.InfeasibleMixture` when no mixture satisfies the constraints.
    """
    enable_float64()
    tg = resolve(predict, params, sources=sources, domains=domains, draws=draws,
                 weights=weights, objective=objective,
                 per_source=(lower, upper, unique_tokens, cost_per_token))
    s, names, draws, predict, w = len(tg.sources), tg.sources, tg.draws, tg.predict, tg.weights
    built = build(predict, tg.params, s=s, names=names, weights=w, target=tg.function, lower=lower,
                  upper=upper, budget=budget, unique_tokens=unique_tokens, max_epochs=max_epochs,
                  penalty=penalty, cost_per_token=cost_per_token, spend=spend, context=context)
    setup, prob = built.setup, built.prob
    k1, k2 = jax.random.split(jax.random.key(seed))
    starts = jax.random.dirichlet(k1, jnp.ones(s), (n_starts,), dtype=jnp.float64)
    sol = solve_point(setup, prob, starts, iterations=iterations, polish=polish)
    r = np.asarray(sol.r)
    values = np.asarray(sol.start_values)
    best = float(np.min(values))
    n_at_best = int(np.sum(values <= best + 1e-9 * max(abs(best), 1e-300)))
    predicted = np.asarray(predict(prob.params, jnp.asarray(r), prob.context))
    epochs = value_token = None
    if unique_tokens is not None and budget is not None:
        u = np.asarray(unique_tokens, dtype=np.float64)
        epochs = np.where(np.isfinite(u), r * budget / u, np.nan)  # nan: unlimited
        at_up = np.asarray(sol.at_upper)
        value_token = np.where(at_up & built.by_availability,
                               np.asarray(sol.marginal) * epochs_cap(s, max_epochs) / budget, 0.0)
    draw_out = None
    if draws is not None:
        b = int(jax.tree_util.tree_leaves(draws)[0].shape[0])
        extra = jax.random.dirichlet(k2, jnp.ones(s), (b, max(n_starts_draw - 1, 0)),
                                     dtype=jnp.float64)
        dstarts = jnp.concatenate([jnp.broadcast_to(jnp.asarray(r), (b, 1, s)), extra], axis=1)
        dprob = prob._replace(params=jax.tree_util.tree_map(jnp.asarray, draws))
        dsol = solve_draws(setup, dprob, dstarts, iterations=draw_iterations,
                                polish=draw_polish)
        draw_out = {"proportions": np.asarray(dsol.r), "objective": np.asarray(dsol.value),
                    "kkt_violation": np.asarray(dsol.kkt_violation)}
    spending: Dict[str, Any] = {}
    if built.cost is not None:
        mu = float(sol.spend_mu)
        spending = dict(cost_per_token=built.cost, spend=float(spend),
                        spent=float(built.cost @ r * budget), spend_binds=mu > 0,
                        # the limit is cost . r <= 1 in units of `spend`: dF*/dspend = -mu / spend
                        value_of_money=mu / float(spend))

    def evaluate(rows):
        return np.asarray(objective_rows(setup, prob, jnp.asarray(np.atleast_2d(rows),
                                                                        dtype=jnp.float64)))

    return MixtureOptimum(
        sources=tuple(names), domains=tuple(tg.domains) if tg.domains is not None else
        tuple(f"domain {i}" for i in range(len(w))),
        proportions=r, objective=float(sol.value), predicted=predicted, lower=built.lower,
        upper=built.upper, at_lower=np.asarray(sol.at_lower), at_upper=np.asarray(sol.at_upper),
        capped_by_availability=np.asarray(sol.at_upper) & built.by_availability,
        marginal_value=np.asarray(sol.marginal), simplex_multiplier=float(sol.nu),
        kkt_violation=float(sol.kkt_violation), epochs=epochs, value_per_unique_token=value_token,
        n_starts=n_starts, n_at_best=n_at_best, weights=w, budget=budget, draws=draw_out,
        expression=tg.expression, penalty=None if penalty is None else np.asarray(penalty, float),
        evaluate=evaluate, **spending)
