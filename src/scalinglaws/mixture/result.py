"""The chosen mixture (:class:`MixtureOptimum`): where it is, why (active bounds, KKT multipliers,
the marginal value of each source) and how sure we are of it (bootstrap draws).

For a source capped by availability, u_j = E_max U_j / T, so one more unique token is worth
``marginal_value`` * E_max / T of target loss (``value_per_unique_token``); one more unit of money
is worth ``value_of_money`` = mu / s (dF*/ds = -mu / s for the limit normalised to 1).
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Optional

import attrs
import numpy as np

from ..results import jsonable


@attrs.frozen(kw_only=True, eq=False)
class MixtureOptimum:
    """The chosen mixture, why it is where it is, and how sure we are of it."""

    sources: tuple
    domains: tuple
    proportions: np.ndarray  # (S,)
    objective: float  # F(r*): target loss (+ penalty . r)
    predicted: np.ndarray  # (D,) predicted loss per domain at r*
    lower: np.ndarray
    upper: np.ndarray  # effective caps, availability included
    at_lower: np.ndarray  # bool (S,)
    at_upper: np.ndarray
    capped_by_availability: np.ndarray  # bool (S,): the active upper bound is the availability cap
    marginal_value: np.ndarray  # (S,) -(g_j + nu + mu cost_j)
    simplex_multiplier: float
    kkt_violation: float
    epochs: Optional[np.ndarray]  # (S,) r_j T / U_j, or None without availability
    value_per_unique_token: Optional[np.ndarray]  # (S,) for availability-capped sources, else 0
    n_starts: int
    n_at_best: int  # starts within 1e-9 (relative) of the best after screening
    weights: np.ndarray  # (D,) (zeros with an expression target)
    budget: Optional[float] = None
    draws: Optional[Dict[str, np.ndarray]] = None  # proportions (B, S), objective (B,)
    expression: Optional[str] = None  # the target as written, when a formula
    penalty: Optional[np.ndarray] = None  # (S,) loss units per unit of proportion
    cost_per_token: Optional[np.ndarray] = None  # (S,) money per training token of the source
    spend: Optional[float] = None  # the spending limit
    spent: Optional[float] = None  # sum_j cost_per_token_j r_j T at the optimum
    spend_binds: bool = False
    value_of_money: Optional[float] = None  # target loss gained per extra unit of `spend`
    evaluate: Optional[Callable] = attrs.field(default=None, repr=False)  # (n, S) -> (n,)

    def feasible(self, rows, tol: float = 1e-12) -> np.ndarray:
        """Which mixtures (rows (n, S) summing to one) satisfy the bounds, caps and spending
        limit of this problem."""
        rows = np.atleast_2d(np.asarray(rows, dtype=np.float64))
        ok = np.all((rows >= self.lower - tol) & (rows <= self.upper + tol), axis=1)
        if self.cost_per_token is not None and self.budget is not None and self.spend is not None:
            ok &= rows @ self.cost_per_token * self.budget <= self.spend * (1.0 + tol)
        return ok

    def interval(self, level: float = 0.9) -> Optional[Dict[str, np.ndarray]]:
        """Percentile intervals over bootstrap draws of the optimal mixture and its loss."""
        if self.draws is None:
            return None
        q = [(1 - level) / 2 * 100, (1 + level) / 2 * 100]
        lo, hi = np.percentile(self.draws["proportions"], q, axis=0)
        flo, fhi = np.percentile(self.draws["objective"], q)
        return {"proportions_lower": lo, "proportions_upper": hi,
                "objective_lower": float(flo), "objective_upper": float(fhi)}

    def to_json(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {
            "proportions": dict(zip(self.sources, self.proportions)),
            "objective": self.objective,
            "predicted_loss": dict(zip(self.domains, self.predicted)),
            "target_weights": dict(zip(self.domains, self.weights)),
            "target_expression": self.expression,
            "lower": dict(zip(self.sources, self.lower)),
            "upper": dict(zip(self.sources, self.upper)),
            "active_lower": [s for s, a in zip(self.sources, self.at_lower) if a],
            "active_upper": [s for s, a in zip(self.sources, self.at_upper) if a],
            "capped_by_availability": [s for s, a in zip(self.sources, self.capped_by_availability)
                                       if a],
            "marginal_value": dict(zip(self.sources, self.marginal_value)),
            "simplex_multiplier": self.simplex_multiplier,
            "kkt_violation": self.kkt_violation,
            "n_starts": self.n_starts,
            "n_at_best": self.n_at_best,
            "budget": self.budget,
        }
        if self.penalty is not None:
            out["penalty"] = dict(zip(self.sources, self.penalty))
        if self.cost_per_token is not None:
            out["spending"] = {"cost_per_token": dict(zip(self.sources, self.cost_per_token)),
                               "limit": self.spend, "spent": self.spent,
                               "binds": self.spend_binds, "value_of_money": self.value_of_money}
        if self.epochs is not None:
            out["epochs"] = dict(zip(self.sources, self.epochs))
        if self.value_per_unique_token is not None:
            out["value_per_unique_token"] = dict(zip(self.sources, self.value_per_unique_token))
        iv = self.interval()
        if iv is not None and self.draws is not None:
            out["bootstrap"] = {
                "n_draws": int(self.draws["objective"].shape[0]),
                "level": 0.9,
                "proportions_lower": dict(zip(self.sources, iv["proportions_lower"])),
                "proportions_upper": dict(zip(self.sources, iv["proportions_upper"])),
                # column by column, as params.csv's se always was (std over axis 0 sums in
                # another order: 1e-16 instead of 0 for a source at its cap in every draw)
                "proportions_std": {s: float(self.draws["proportions"][:, j].std())
                                    for j, s in enumerate(self.sources)},
                "objective_lower": iv["objective_lower"],
                "objective_upper": iv["objective_upper"],
                "objective_std": float(self.draws["objective"].std()),
            }
        return jsonable(out)
