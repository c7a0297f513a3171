"""The target of a mixture search as arrays: the law, its parameters, the function G of the
predicted losses (weights over validation domains, G = sum_i s_i L_i, or any function, e.g. a
formula of the spec's grammar, :func:`target_function`) and the constraints of
:mod:`.optimise` (:func:`build` checks them on the host and raises
:class:`.simplex.InfeasibleMixture` with the numbers).

A target with max or min is convex for convex losses but not differentiable where its arguments
tie; the optimum often sits there, and then gradients (and the KKT check) are one-sided: prefer a
smooth maximum, t logsumexp(a / t, b / t), which is within t log 2 of max(a, b).
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import ExpressionError, closest
from ..formula import parse_formula
from .simplex import InfeasibleMixture, check_feasible, check_spend, project, project_spend_kkt


def target_function(text: str, domains: Sequence[str], column_pattern: str = "loss_{}") -> Callable:
    """The target ``text`` (the spec's restricted formula grammar, :mod:`scalinglaws.formula`;
    parsed with ``ast``, never evaluated) as a pure JAX function of the (D,) predicted losses.

    Names are validation domains (``code``) or their loss columns (``loss_code`` for the default
    ``column_pattern``): ``max(loss_code, loss_web) + 0.5 * loss_math``. Raises
    :class:`~scalinglaws.errors.ExpressionError` at the offending token (an unknown name, a
    construct outside the grammar). Cached: one text gives one function object, so the jitted
    optimiser, which takes it as a static argument, compiles once per target.
    """
    return _target_function(text, tuple(domains), column_pattern)


@functools.lru_cache(maxsize=64)
def _target_function(text: str, domains: tuple, column_pattern: str) -> Callable:
    formula = parse_formula(text)
    index: Dict[str, int] = {}
    for i, d in enumerate(domains):
        index[d] = i
        index[column_pattern.format(d)] = i
    for name, offset in formula.names.items():
        if name not in index:
            raise ExpressionError(
                f"{name!r} is not a validation domain{closest(name, list(index))}; the names are "
                f"the domains ({', '.join(domains)}) or their loss columns ("
                f"{', '.join(column_pattern.format(d) for d in domains)})", text=text, offset=offset)
    if not formula.names:
        raise ExpressionError("the target uses no validation domain; write e.g. "
                              f"0.5 * {domains[0]} + ...", text=text, offset=0)
    evaluate = formula.compile(jnp)
    used = {name: index[name] for name in formula.names}

    def target(losses):
        return evaluate({name: losses[i] for name, i in used.items()})

    target.expression = text  # type: ignore[attr-defined]  # reported as the target's text
    return target


class Target(NamedTuple):
    """The arguments of :func:`.optimise.optimise_mixture` resolved to one problem's pieces."""

    predict: Callable
    params: Any
    sources: List[str]
    domains: Optional[Sequence[str]]
    draws: Any
    weights: np.ndarray  # (D,), zeros with a target function
    function: Optional[Callable]  # G of the (D,) losses; None: weights @ losses
    expression: Optional[str]  # the target as written, when a formula or a named function


def resolve(predict, params, *, sources, domains, draws, weights, objective,
            per_source: Sequence) -> Target:
    """Resolve the law (a :class:`.laws.FittedMixture` in place of (predict, params) supplies
    params, sources, domains and, with ``draws=True``, its draws), the number of sources (from
    ``sources`` or the first of ``per_source`` given), and the target."""
    if hasattr(predict, "law") and hasattr(predict, "params"):
        fit = predict
        predict, params = fit.law.predict, fit.params if params is None else params
        sources = sources if sources is not None else fit.sources
        domains = domains if domains is not None else fit.domains
        draws = fit.draws if draws is True else draws
    elif params is None:
        raise TypeError("give the law's `params` (or pass a fitted mixture as the first argument)")
    elif draws is True:
        raise TypeError("draws=True takes the bootstrap draws of a fitted mixture; pass one as the "
                        "first argument, or pass the draws themselves")
    given = [x for x in (sources, *per_source) if x is not None]
    if not given:
        raise ValueError("give `sources` (or per-source bounds) so the number of sources is known")
    s = len(given[0]) if isinstance(given[0], (list, tuple)) else len(np.asarray(given[0]))
    names = list(sources) if sources is not None else [f"source {j}" for j in range(s)]
    w, function, expression = _weights_or_function(weights, objective, domains)
    if w is None:
        n_dom = len(domains) if domains is not None else int(jax.eval_shape(
            lambda p: predict(p, jnp.ones(s) / s, jnp.zeros(1)),
            jax.tree_util.tree_map(jnp.asarray, params)).shape[0])
        w = np.zeros(n_dom)
    return Target(predict, params, names, domains, draws, w, function, expression)


def _weights_or_function(weights, objective, domains):
    """(weights (D,) or None, static target function or None, expression text or None)."""
    if objective is None:
        if weights is None:
            raise ValueError("give the target: `weights` (one per validation domain) or "
                             "`objective` (a function of the (D,) losses, or a formula)")
        w = np.asarray(weights, dtype=np.float64).ravel()
        if np.any(w < 0) or not np.any(w > 0):
            raise ValueError("target weights must be >= 0 with at least one > 0")
        return w, None, None
    if weights is not None:
        raise ValueError("give `weights` or `objective`, not both")
    if isinstance(objective, str):
        if domains is None:
            raise ValueError("a target formula names validation domains: give `domains`")
        return None, target_function(objective, tuple(domains)), objective
    if not callable(objective):
        raise TypeError(f"`objective` is a function of the (D,) losses or a formula, got {objective!r}")
    return None, objective, getattr(objective, "expression", None) or getattr(
        objective, "__name__", "objective")


class Problem(NamedTuple):
    """Arrays of one optimisation problem (a pytree: vmappable over draws and budgets)."""

    params: Any
    weights: jax.Array  # (D,) target weights over domains (unused with an objective function)
    penalty: jax.Array  # (S,) loss units per unit of proportion, added to the objective
    lower: jax.Array  # (S,)
    upper: jax.Array  # (S,) including availability caps
    cost: jax.Array  # (S,) spending per unit of proportion over the limit: c_j T / spend
    limit: jax.Array  # () the spending limit in those units (1; 0-d so it vmaps like the rest)
    context: jax.Array  # (k,)


class Setup(NamedTuple):
    """The static (compile-time) part of a problem: hashable, one compilation per value."""

    predict: Callable  # predict(params, r, context) -> (D,)
    target: Optional[Callable] = None  # target(losses (D,)) -> scalar; None: weights @ losses
    spend: bool = False  # the spending constraint is present


def objective(setup: Setup, prob: Problem, r):
    """F(r) = G(L(r)) + penalty . r."""
    losses = setup.predict(prob.params, r, prob.context)
    value = prob.weights @ losses if setup.target is None else setup.target(losses)
    return value + prob.penalty @ r


def project_onto(setup: Setup, prob: Problem, v):
    """The feasible point nearest to ``v`` (with the spending limit when there is one)."""
    if setup.spend:
        return project_spend_kkt(v, prob.lower, prob.upper, prob.cost, prob.limit)[0]
    return project(v, prob.lower, prob.upper)


def epochs_cap(n: int, max_epochs) -> np.ndarray:
    """E_max per source (default 4)."""
    return np.broadcast_to(np.asarray(4.0 if max_epochs is None else max_epochs,
                                      dtype=np.float64), (n,))


def availability_caps(n: int, *, budget: Optional[float], unique_tokens=None, max_epochs=None):
    """u_j = E_max,j U_j / T (inf where a source's availability is not given)."""
    if unique_tokens is None:
        return np.full(n, np.inf)
    if budget is None or not budget > 0:
        raise InfeasibleMixture("availability caps need a token budget T > 0 (`budget`)")
    u = np.asarray(unique_tokens, dtype=np.float64)
    return np.where(np.isfinite(u), epochs_cap(n, max_epochs) * u / budget, np.inf)


class Built(NamedTuple):
    setup: Setup
    prob: Problem
    lower: np.ndarray
    upper: np.ndarray  # effective caps
    by_availability: np.ndarray  # bool (S,)
    cost: Optional[np.ndarray]  # cost per token (S,), or None


def build(predict, params, *, s: int, names: List[str], weights, target, lower, upper, budget,
          unique_tokens, max_epochs, penalty, cost_per_token, spend, context) -> Built:
    """Check the constraints (raising :class:`InfeasibleMixture` with the numbers) and build the
    arrays of one problem."""
    lo = np.zeros(s) if lower is None else np.asarray(lower, dtype=np.float64)
    up = np.ones(s) if upper is None else np.asarray(upper, dtype=np.float64)
    caps = availability_caps(s, budget=budget, unique_tokens=unique_tokens, max_epochs=max_epochs)
    up_eff = np.minimum(np.minimum(up, caps), 1.0)
    by_avail = caps < np.minimum(up, 1.0)
    e = epochs_cap(s, max_epochs)
    if unique_tokens is not None and np.sum(np.minimum(caps, 1.0)) < 1.0 - 1e-12:
        avail = float(np.sum(np.where(np.isfinite(unique_tokens), e * np.asarray(unique_tokens), 0)))
        raise InfeasibleMixture(
            f"the budget T = {budget:.6g} tokens exceeds the available data times the maximum epochs "
            f"(sum_j E_max U_j = {avail:.6g}); lower the budget, allow more epochs or add data")
    reasons = [f"availability: {e[j]:g} epochs x {float(np.asarray(unique_tokens)[j]):.4g}"
               f" unique tokens / budget {budget:.4g}" if by_avail[j] else "" for j in range(s)]
    check_feasible(lo, up_eff, names, cap_reason=reasons)
    cost = None
    norm = np.zeros(s)
    if cost_per_token is not None or spend is not None:
        if cost_per_token is None or spend is None or budget is None:
            raise InfeasibleMixture("a spending limit needs `cost_per_token` (per source), `spend` "
                                    "(the limit) and `budget` (T, the tokens the costs apply to)")
        cost = np.asarray(cost_per_token, dtype=np.float64)
        check_spend(cost, float(spend), float(budget), lo, up_eff, names)
        # In units of the limit: c_j T / spend, so the constraint reads cost . r <= 1 at any scale.
        norm = cost * budget / spend
    ctx = np.asarray([budget if budget is not None else 0.0] if context is None else context,
                     dtype=np.float64)
    pen = np.zeros(s) if penalty is None else np.asarray(penalty, dtype=np.float64)
    prob = Problem(params=jax.tree_util.tree_map(jnp.asarray, params),
                   weights=jnp.asarray(weights), penalty=jnp.asarray(pen), lower=jnp.asarray(lo),
                   upper=jnp.asarray(up_eff), cost=jnp.asarray(norm),
                   limit=jnp.asarray(1.0), context=jnp.asarray(ctx))
    setup = Setup(predict=predict, target=target, spend=cost is not None)
    return Built(setup, prob, lo, up_eff, by_avail, cost)
