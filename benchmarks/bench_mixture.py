"""Time the mixture optimiser against scipy SLSQP: 17 sources, 256 starts; 1000 bootstrap draws.

Targets (2-core CPU): under 1 s warm for the optimisation (with availability caps, and with caps
and a spending limit), under 10 s for 1000 bootstrap draws. The law is mixing_exp for 13
validation domains (RegMix's shape) with parameters drawn around a fit-like point; the target is
one domain; availability caps as RegMix's (15 epochs of each domain's token share); the spending
limit gives each source a price per token and allows 80% of what the caps-only optimum spends.

The reference is scipy's SLSQP (analytic gradient, the same bounds, the sum as an equality and
the spending as an inequality constraint), one ``minimize`` per start from the same kind of
projected Dirichlet starts; it runs ``--ref-starts`` starts (default 32) and its time is scaled
to 256; for the bootstrap it re-solves the first ``--ref-draws`` draws (4 starts each, as ours) and
is scaled to 1000. Run: python benchmarks/bench_mixture.py [--ref-starts 256] [--ref-draws 1000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.optimize import minimize

from scalinglaws.mixture.laws import sum_exp_predict
from scalinglaws.mixture.optimise import optimise_mixture

S, D, B, STARTS = 17, 13, 1000, 256
SHARES = np.array([0.113285273, 0.079608651, 0.003913491, 0.185375901, 0.051081359, 0.015962925,
                   0.101750772, 0.003707518, 0.066529351, 0.001750772, 0.027085479, 0.236869207,
                   0.01184346, 0.007929969, 0.008032956, 0.038825953, 0.046446962])


def problem(seed=0):
    rng = np.random.default_rng(seed)
    params = {"c": rng.uniform(2.0, 5.0, D), "w": rng.normal(0.0, 1.5, (D, 1, S))}
    draws = {"c": params["c"] + 0.02 * rng.normal(size=(B, D)),
             "w": params["w"] + 0.1 * rng.normal(size=(B, D, 1, S))}
    weights = np.zeros(D)
    weights[8] = 1.0
    cost = rng.uniform(0.5, 2.0, S)  # money per token (budget T = 1: RegMix's normalisation)
    return params, draws, weights, cost


def timed(fn, repeats=3):
    t0 = time.perf_counter()
    out = fn()
    cold = time.perf_counter() - t0
    warm = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        warm.append(time.perf_counter() - t0)
    return out, cold, min(warm)


def slsqp(params, weights, upper, cost=None, spend=None, starts=32, seed=0):
    """Best of ``starts`` SLSQP runs and the time it took."""
    t = params["w"][:, 0, :]

    def f(r):
        return weights @ (params["c"] + np.exp(t @ r))

    def grad(r):
        return (weights * np.exp(t @ r)) @ t

    cons = [{"type": "eq", "fun": lambda r: r.sum() - 1.0, "jac": lambda r: np.ones(S)}]
    if cost is not None:
        cons.append({"type": "ineq", "fun": lambda r: spend - cost @ r, "jac": lambda r: -cost})
    rng = np.random.default_rng(seed)
    best = None
    t0 = time.perf_counter()
    for _ in range(starts):
        x0 = np.minimum(rng.dirichlet(np.ones(S)), upper)
        res = minimize(f, x0 / x0.sum(), jac=grad, bounds=[(0.0, u) for u in upper],
                       method="SLSQP", constraints=cons, options={"ftol": 1e-14, "maxiter": 1000})
        if res.success and (best is None or res.fun < best.fun):
            best = res
    return best, time.perf_counter() - t0


def report(label, opt, cold, warm, ref, ref_time, ref_starts, target):
    scaled = ref_time * STARTS / ref_starts
    gap = (opt.objective - ref.fun) / abs(ref.fun)
    print(f"{label}: cold {cold:6.2f} s   warm {warm:6.3f} s   (target < {target} s warm); "
          f"objective {opt.objective:.10f}, KKT violation {opt.kkt_violation:.1e}, "
          f"{opt.n_at_best}/{STARTS} starts at the best")
    print(f"    scipy SLSQP, {STARTS} starts (timed {ref_starts}, scaled): {scaled:7.2f} s; "
          f"ratio SLSQP / ours warm {scaled / warm:6.1f}x, cold {scaled / cold:5.1f}x; "
          f"(ours - SLSQP) / SLSQP objective {gap:+.1e}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ref-starts", type=int, default=32, help="SLSQP starts actually run")
    ap.add_argument("--ref-draws", type=int, default=100, help="bootstrap draws SLSQP re-solves")
    args = ap.parse_args()
    params, draws, weights, cost = problem()
    common = dict(weights=weights, budget=1.0, unique_tokens=SHARES, max_epochs=15.0,
                  sources=[f"s{j}" for j in range(S)])
    caps = np.minimum(15.0 * SHARES, 1.0)

    opt, cold, warm = timed(lambda: optimise_mixture(sum_exp_predict, params, n_starts=STARTS,
                                                     **common))
    ref, ref_time = slsqp(params, weights, caps, starts=args.ref_starts)
    report("optimise 17 sources, 256 starts, caps", opt, cold, warm, ref, ref_time,
           args.ref_starts, 1)

    spend = 0.8 * float(cost @ opt.proportions)
    sopt, cold, warm = timed(lambda: optimise_mixture(sum_exp_predict, params, n_starts=STARTS,
                                                      cost_per_token=cost, spend=spend, **common))
    ref, ref_time = slsqp(params, weights, caps, cost, spend, starts=args.ref_starts)
    report("+ spending limit (binding)            ", sopt, cold, warm, ref, ref_time,
           args.ref_starts, 1)
    print(f"    spent {sopt.spent:.6f} of {spend:.6f}; value of money {sopt.value_of_money:.4g} "
          f"target loss per unit")

    dopt, cold, warm = timed(lambda: optimise_mixture(sum_exp_predict, params, n_starts=STARTS,
                                                      draws=draws, **common), repeats=1)
    d = dopt.draws
    print(f"+ {B} bootstrap draws (4 starts each):   cold {cold:6.2f} s   warm {warm:6.3f} s   "
          f"(target < 10 s); max KKT violation {d['kkt_violation'].max():.1e}, objective spread "
          f"(std) {d['objective'].std():.4f}")
    # SLSQP per draw, 4 starts as ours, on the first --ref-draws draws; time scaled to B.
    t_ref, worst = 0.0, 0.0
    for b in range(args.ref_draws):
        pb = {"c": draws["c"][b], "w": draws["w"][b]}
        res, secs = slsqp(pb, weights, caps, starts=4, seed=b)
        t_ref += secs
        worst = max(worst, (d["objective"][b] - res.fun) / abs(res.fun))
    scaled = t_ref * B / args.ref_draws
    print(f"    scipy SLSQP, 4 starts per draw (timed {args.ref_draws} draws, scaled to {B}): "
          f"{scaled:6.2f} s; ratio SLSQP / ours warm {scaled / warm:5.1f}x; worst (ours - SLSQP) "
          f"/ SLSQP objective over those draws {worst:+.1e}")


if __name__ == "__main__":
    main()
