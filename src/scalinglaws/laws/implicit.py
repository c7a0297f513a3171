"""Implicit laws: predictions defined as the root of an equation, with exact derivatives.

Some laws do not give the target in closed form but as the solution y of ``g(y, p) = 0`` for
parameters and inputs ``p`` (the M4 estimator of Alabdulmohsin et al. 2022; Kaplan et al.'s
``L(N, S_min)`` with a loss-dependent critical batch size). :func:`monotone_root` turns such an
equation into a pure JAX function ``p -> y`` that

* solves it pointwise by a safeguarded Newton iteration (Newton steps that leave the current
  bracket are replaced by bisection) inside ``lax.while_loop``, which runs until every point has
  converged (or an iteration cap), so it vectorises over points, starts and resamples and compiles
  to a single loop, and
* differentiates by the implicit function theorem through ``jax.custom_jvp``:
  ``dy = -(dg/dp . dp) / (dg/dy)`` at the root. The core's forward-mode Jacobian
  (``jax.jacfwd``) therefore never differentiates through the iterations, and the derivatives are
  exact at the converged root.

It is a helper module: it registers no family.
"""

from __future__ import annotations

from typing import Callable, Optional

import jax
import jax.numpy as jnp

DEFAULT_ITERATIONS = 100
RTOL = 1e-9


def monotone_root(g: Callable, bracket: Callable, init: Optional[Callable] = None,
                  iterations: int = DEFAULT_ITERATIONS, rtol: float = RTOL) -> Callable:
    """A differentiable solver ``solve(*p) -> y`` of ``g(y, *p) = 0``.

    ``g`` must be strictly increasing in ``y`` on the bracket ``bracket(*p) -> (lo, hi)``, with
    ``g(lo) <= 0 <= g(hi)`` elementwise (arrays broadcast against each other; the root has their
    broadcast shape). ``init(*p)`` gives the starting point (the bracket's midpoint when omitted).
    Each iteration costs one evaluation of ``g`` and of its derivative in ``y`` (forward mode);
    a Newton step is taken when it lands within the current bracket, a bisection step
    otherwise, so the iteration cannot diverge and converges quadratically near the root. It
    stops when every point's last step was below ``rtol * (1 + |y|)`` (one more Newton step is
    then taken, which at quadratic convergence reaches rounding level), or after ``iterations``.
    """

    def _iterate(p):
        lo, hi = bracket(*p)
        lo, hi = jnp.broadcast_arrays(lo, hi)
        y = 0.5 * (lo + hi) if init is None else jnp.clip(init(*p), lo, hi)
        y = jnp.broadcast_to(y, lo.shape)
        ones = jnp.ones_like(y)

        def step(y, lo, hi):
            gy, dgy = jax.jvp(lambda v: g(v, *p), (y,), (ones,))
            lo = jnp.where(gy < 0, y, lo)
            hi = jnp.where(gy > 0, y, hi)
            newton = y - gy / dgy
            inside = (newton >= lo) & (newton <= hi)  # False for nan; = y at convergence
            nxt = jnp.where(inside, newton, 0.5 * (lo + hi))
            return jnp.where(gy == 0, y, nxt), lo, hi

        def cond(state):
            i, y, prev, _, _ = state
            moving = jnp.abs(y - prev) > rtol * (1.0 + jnp.abs(y))
            return (i < iterations) & jnp.any(moving)

        def body(state):
            i, y, _, lo, hi = state
            nxt, lo, hi = step(y, lo, hi)
            return i + 1, nxt, y, lo, hi

        state = (jnp.asarray(0), y, jnp.full_like(y, jnp.inf), lo, hi)
        _, y, _, lo, hi = jax.lax.while_loop(cond, body, state)
        return step(y, lo, hi)[0]

    @jax.custom_jvp
    def solve(*p):
        return _iterate(p)

    @solve.defjvp
    def _solve_jvp(primals, tangents):
        y = solve(*primals)
        dg_dy = jax.jvp(lambda v: g(v, *primals), (y,), (jnp.ones_like(y),))[1]
        dg_dp = jax.jvp(lambda *q: g(y, *q), primals, tangents)[1]
        return y, -dg_dp / dg_dy

    return solve


__all__ = ["monotone_root", "DEFAULT_ITERATIONS", "RTOL"]
