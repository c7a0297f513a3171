"""Generate the example data of projektor.yaml (run from anywhere; rewrites specs/mixture/projektor/).

Four sources (web, code, books, forum) reveal 40 samples each: Gaussian clouds in 4 feature
dimensions around different centres. The validation set (80 samples) is drawn from the mixture
0.45 web + 0.15 code + 0.30 books + 0.10 forum of the same distributions, so the OT distance is
smallest near that mixture. Pilot runs: 40 Dirichlet(0.7) mixtures at each of the sizes N1 = 1000
and N2 = 4000, plus 8 held-out runs at N = 16000, their performance (a validation loss) computed
from the projektor model with the known coefficients TRUTH_N1 and TRUTH_N2 below (and their
log-N interpolation for N = 16000), with Gaussian noise of standard deviation 0.001.

    /work/venv/bin/python specs/mixture/make_projektor_data.py
"""

from pathlib import Path

import numpy as np

from scalinglaws.mixture import projektor as pj

OUT = Path(__file__).resolve().parent / "projektor"
SOURCES = ("web", "code", "books", "forum")
CENTRES = np.array([[0.0, 0.0, 0.0, 0.0], [2.5, 0.0, 0.5, 0.0], [0.0, 2.0, 0.0, 1.0],
                    [1.0, 1.0, 2.0, 0.0]])
SPREAD = (0.8, 0.6, 0.7, 0.9)
MIX = np.array([0.45, 0.15, 0.30, 0.10])
N1, N2, N_HELD = 1000.0, 4000.0, 16000.0
# Canonical coefficients (b0 = c0 = 0): the loss grows with the OT distance (B > 0) and the
# quadratic C penalises concentrating on one source.
TRUTH_N1 = pj.coefficients(b2=[0.10, 0.15, 0.10, 0.20], b1=[0.30, 0.25, 0.35, 0.25],
                           c2=[0.40, 0.50, 0.45, 0.60], c1=[1.60, 1.70, 1.65, 1.75])
TRUTH_N2 = pj.coefficients(b2=[0.08, 0.12, 0.08, 0.16], b1=[0.26, 0.22, 0.30, 0.22],
                           c2=[0.35, 0.45, 0.40, 0.50], c1=[1.40, 1.48, 1.45, 1.52])
NOISE = 0.001
RUNS = 40  # pilot runs per pilot size (16 coefficients each)


def main():
    rng = np.random.default_rng(2023)
    OUT.mkdir(exist_ok=True)
    feats = [rng.normal(size=(40, 4)) * s + c for c, s in zip(CENTRES, SPREAD)]
    which = rng.choice(len(SOURCES), size=80, p=MIX)
    val = np.array([rng.normal(size=4) * SPREAD[k] + CENTRES[k] for k in which])
    header = "f1,f2,f3,f4"
    for name, f in zip(SOURCES, feats):
        np.savetxt(OUT / f"{name}.csv", f, delimiter=",", fmt="%.5f", header=header, comments="")
    np.savetxt(OUT / "validation.csv", val, delimiter=",", fmt="%.5f", header=header, comments="")
    clouds = pj.make_clouds([np.loadtxt(OUT / f"{s}.csv", delimiter=",", skiprows=1)
                             for s in SOURCES], np.loadtxt(OUT / "validation.csv", delimiter=",",
                                                           skiprows=1))
    sizes = np.repeat([N1, N2, N_HELD], [RUNS, RUNS, 8])
    p = np.round(rng.dirichlet(np.full(len(SOURCES), 0.7), len(sizes)), 4)
    p[:, -1] = 1.0 - p[:, :-1].sum(axis=1)  # rounded rows still sum to one
    ot = np.asarray(pj.ot_distances(p, clouds, eps=0.05).value)
    loss = np.empty(len(sizes))
    for n in (N1, N2, N_HELD):
        m = sizes == n
        theta = pj.interpolate(TRUTH_N1, TRUTH_N2, n, N1, N2)
        loss[m] = np.asarray(pj.predict(theta, p[m], ot[m]))
    loss += NOISE * rng.normal(size=len(loss))
    with (OUT / "pilot_runs.csv").open("w") as fh:
        fh.write(",".join([f"p_{s}" for s in SOURCES] + ["N", "loss"]) + "\n")
        for row, n, y in zip(p, sizes, loss):
            fh.write(",".join(f"{v:.4f}" for v in row) + f",{n:g},{y:.5f}\n")


if __name__ == "__main__":
    main()
