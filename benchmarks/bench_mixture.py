"""Time the mixture optimiser: a 17-source mixture under caps, 256 starts; 1000 bootstrap draws.

Targets (2-core CPU): under 1 s warm for the optimisation, under 10 s for 1000 draws. The law is
mixing_exp for 13 validation domains (RegMix's shape) with parameters drawn around a fit-like
point; the target is one domain; availability caps as RegMix's (15 epochs of each domain's token
share). Run: python benchmarks/bench_mixture.py
"""

from __future__ import annotations

import time

import numpy as np

from scalinglaws.mixture.laws import sum_exp_predict
from scalinglaws.mixture.optimise import optimise_mixture

S, D, B = 17, 13, 1000
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
    return params, draws, weights


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


def main():
    params, draws, weights = problem()
    common = dict(weights=weights, budget=1.0, unique_tokens=SHARES, max_epochs=15.0,
                  sources=[f"s{j}" for j in range(S)])
    opt, cold, warm = timed(lambda: optimise_mixture(sum_exp_predict, params, n_starts=256, **common))
    print(f"optimise 17 sources, 256 starts, caps:  cold {cold:6.2f} s   warm {warm:6.3f} s   "
          f"(target < 1 s warm); objective {opt.objective:.6f}, KKT violation {opt.kkt_violation:.1e},"
          f" {opt.n_at_best}/256 starts at the best")
    opt, cold, warm = timed(lambda: optimise_mixture(sum_exp_predict, params, n_starts=256,
                                                     draws=draws, **common),
                            repeats=1)
    d = opt.draws
    print(f"+ {B} bootstrap draws (4 starts each):   cold {cold:6.2f} s   warm {warm:6.3f} s   "
          f"(target < 10 s); max KKT violation {d['kkt_violation'].max():.1e}, objective spread "
          f"(std) {d['objective'].std():.4f}")


if __name__ == "__main__":
    main()
