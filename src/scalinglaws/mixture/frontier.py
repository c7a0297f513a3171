"""The frontier: the optimal mixture re-solved at several token budgets T, in one compiled call
vmapped over T (:func:`.solve.solve_budgets`)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

import attrs
import jax
import jax.numpy as jnp
import numpy as np

from ..core import enable_float64
from .simplex import InfeasibleMixture
from .solve import BUDGET_FIELDS, solve_budgets
from .target import Built, build, resolve


@attrs.frozen(kw_only=True, eq=False)
class MixtureFrontier:
    """The optimum re-solved at every token budget T: the predicted target against T."""

    sources: tuple
    budgets: np.ndarray  # (P,)
    feasible: np.ndarray  # bool (P,)
    objective: np.ndarray  # (P,), nan where infeasible
    proportions: np.ndarray  # (P, S), nan where infeasible
    capped: List[List[str]]  # sources at an upper bound (availability or upper) per budget
    spend_binds: np.ndarray  # bool (P,)
    kkt_violation: np.ndarray  # (P,)
    reasons: List[str]  # why a budget is infeasible ("" where feasible)

    def rows(self) -> List[Dict[str, Any]]:
        out = []
        for p, t in enumerate(self.budgets):
            row: Dict[str, Any] = {"budget": float(t), "feasible": bool(self.feasible[p])}
            if self.feasible[p]:
                row.update(objective=float(self.objective[p]),
                           proportions=dict(zip(self.sources, map(float, self.proportions[p]))),
                           capped=self.capped[p], spend_binds=bool(self.spend_binds[p]),
                           kkt_violation=float(self.kkt_violation[p]))
            else:
                row["reason"] = self.reasons[p]
            out.append(row)
        return out


def mixture_frontier(predict, params=None, *, budgets, weights=None, objective=None, lower=None,
                     upper=None, unique_tokens=None, max_epochs=None, penalty=None,
                     cost_per_token=None, spend=None, context_of_budget: bool = True,
                     n_starts: int = 32, seed: int = 0, iterations: int = 300, polish: int = 30,
                     sources: Optional[Sequence[str]] = None,
                     domains: Optional[Sequence[str]] = None) -> MixtureFrontier:
    """The optimal mixture and its predicted target at every budget T of ``budgets``.

    The arguments are those of :func:`.optimise.optimise_mixture`; the law's context is [T] when
    ``context_of_budget`` (else [0]). Budgets whose constraints admit no mixture are reported with
    the reason; the others are solved in one jitted call vmapped over budgets (and, inside, over
    ``n_starts`` starts).
    """
    enable_float64()
    tg = resolve(predict, params, sources=sources, domains=domains, draws=None,
                 weights=weights, objective=objective,
                 per_source=(lower, upper, unique_tokens, cost_per_token))
    s, names = len(tg.sources), tg.sources
    budgets = np.asarray(budgets, dtype=np.float64)
    built: List[Optional[Built]] = []
    reasons = []
    for t in budgets:
        try:
            built.append(build(tg.predict, tg.params, s=s, names=names, weights=tg.weights,
                               target=tg.function, lower=lower, upper=upper, budget=float(t),
                               unique_tokens=unique_tokens, max_epochs=max_epochs,
                               penalty=penalty, cost_per_token=cost_per_token, spend=spend,
                               context=None if context_of_budget else [0.0]))
            reasons.append("")
        except InfeasibleMixture as exc:
            built.append(None)
            reasons.append(str(exc))
    ok = [b for b in built if b is not None]
    p_n, feasible = len(budgets), np.array([b is not None for b in built])
    obj = np.full(p_n, np.nan)
    props = np.full((p_n, s), np.nan)
    binds = np.zeros(p_n, bool)
    kkt = np.full(p_n, np.nan)
    capped: List[List[str]] = [[] for _ in range(p_n)]
    if ok:
        stacked = ok[0].prob._replace(**{f: jnp.stack([getattr(b.prob, f) for b in ok])
                                         for f in BUDGET_FIELDS})
        starts = jax.random.dirichlet(jax.random.key(seed), jnp.ones(s), (n_starts,),
                                      dtype=jnp.float64)
        sol = solve_budgets(ok[0].setup, stacked, starts, iterations=iterations, polish=polish)
        idx = np.flatnonzero(feasible)
        obj[idx] = np.asarray(sol.value)
        props[idx] = np.asarray(sol.r)
        binds[idx] = np.asarray(sol.spend_mu) > 0
        kkt[idx] = np.asarray(sol.kkt_violation)
        for k, p in enumerate(idx):
            capped[p] = [names[j] for j in np.flatnonzero(np.asarray(sol.at_upper)[k])]
    return MixtureFrontier(sources=tuple(names), budgets=budgets, feasible=feasible, objective=obj,
                           proportions=props, capped=capped, spend_binds=binds,
                           kkt_violation=kkt, reasons=reasons)
