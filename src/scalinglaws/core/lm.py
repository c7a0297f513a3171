"""Levenberg-Marquardt for robust losses, written to run vmapped over starts.

Each iteration solves the damped normal equations

    (H + lam D) delta = -g,   g = J^T (w psi(r)),   H = J^T diag(w c(r)) J,   D = diag(H_irls)

with r the residuals, J their Jacobian, w the point weights, psi = rho' and c the curvature
weights (see ``objectives``):

* ``irls``: c = psi(r) / r (Holland & Welsch 1977). The quadratic model majorises the robust loss
  of the linearised residuals, so steps are safe from anywhere; but it gives Huber's linear-region
  points a curvature delta / |r| they do not have, and converges only linearly near the optimum
  (about 80 iterations to reach ftol = 1e-12 on the Chinchilla data).
* ``hybrid`` (losses that declare it, e.g. Huber; squared error has rho'' = psi/r, so IRLS is
  already exact): the exact Gauss-Newton curvature c = rho''(r) (Huber: 1 for |r| <= delta, else
  0) whenever at least P points (by weight) are in the quadratic region, IRLS otherwise. Near the
  optimum the points in the linear region contribute only their constant slope, the problem is a
  weighted least squares on the others, and the steps converge like Gauss-Newton (about 10
  iterations from the basin instead of 80). With fewer than P quadratic-region points the exact
  matrix is singular, hence the IRLS fallback; the Marquardt scaling D always comes from the IRLS
  matrix, whose diagonal is positive for every parameter the points see.

A step is kept only when the true robust objective decreases; lam shrinks (/3) after a kept step
and grows (x4) after a rejected one.

The state carries the normal equations (g and H: P + P^2 numbers) instead of the residuals and
the Jacobian (n + nP numbers): under ``vmap`` over thousands of starts, selecting and copying
(S, n, P) arrays every iteration costs more than the arithmetic. The candidate's residuals,
Jacobian, objective and normal equations come from one pass (``evaluate``), so a step costs one
model evaluation, kept or not (under ``vmap`` both branches of a choice are computed anyway).

Stopping (a start that stops keeps its state while the others go on):

* MINPACK's relative-reduction test (More 1978): both the actual relative change of the
  objective, |f - f_new| / f, and the relative decrease predicted by the quadratic model,
  (-g.delta - delta.H.delta / 2) / f, are at most ``ftol``. The predicted decrease is what makes
  this cheap at the optimum: when the next step could only gain rounding noise, the start stops at
  once instead of rejecting steps until lam overflows;
* two consecutive kept steps that each decrease the objective by less than ``ftol`` relatively
  (slow linear convergence that is no longer worth its cost);
* lam above ``LAMBDA_MAX`` (no descent step found) or a zero objective.

Relative tests divide by the objective (a sum over points, never a mean), floored at 1e-300, not
at 1: see ``objectives``.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from .model import Model, predict_and_jacobian
from .objectives import Loss, curvature_weights, loss_kind, psi, rho

CURVATURES = ("irls", "hybrid")
_TINY = 1e-300
LAMBDA_INIT = 1e-3
LAMBDA_MIN = 1e-12
LAMBDA_MAX = 1e12
# Unrolled sums and Cholesky up to this many parameters: under vmap they are a few dozen
# elementwise ops over the batch, ~10x faster than a batched LAPACK LU on (S, 5, 5) and a batched
# matmul for J^T W J. Beyond, the unrolled code grows as P^2 (sums) and P^3 (Cholesky) and
# matrix products and LAPACK's Cholesky take over.
UNROLL_MAX_P = 8


class LMState(NamedTuple):
    # theta, then the fields of Normal (the objective and its normal equations at theta)
    theta: jax.Array  # (P,)
    value: jax.Array  # objective at theta (inf if not finite)
    grad: jax.Array  # (P,) gradient of the objective at theta
    hess: jax.Array  # (P, P) IRLS Gauss-Newton matrix J^T diag(w psi(r)/r) J
    hess_exact: jax.Array  # (P, P) J^T diag(w rho''(r)) J ("hybrid"); the same as hess for "irls"
    n_quadratic: jax.Array  # weight of the points in the quadratic region ("hybrid" only)
    lam: jax.Array
    iterations: jax.Array  # int32
    small_steps: jax.Array  # consecutive kept steps with a negligible decrease
    done: jax.Array  # bool


class Normal(NamedTuple):
    """The objective and its normal equations at one parameter vector."""

    value: jax.Array
    grad: jax.Array
    hess: jax.Array
    hess_exact: jax.Array
    n_quadratic: jax.Array


def _symmetric(upper, p: int):
    """(P, P) matrix from its upper triangle given row by row."""
    it = iter(upper)
    rows: list = [[None] * p for _ in range(p)]
    for i in range(p):
        for j in range(i, p):
            rows[i][j] = rows[j][i] = next(it)
    return jnp.stack([jnp.stack(row) for row in rows])


def evaluate(model: Model, theta, x, target, weights, loss: Loss, curvature: str = "irls") -> Normal:
    """Objective, gradient and Gauss-Newton matrices at ``theta``, from one model evaluation.

    value = sum_i w_i rho(r_i), g = J^T (w psi(r)), H = J^T diag(w c(r)) J with r = f(theta, x) -
    target; for ``hybrid`` H is split into its quadratic-region part (the exact matrix) and the
    rest, whose sum is the IRLS matrix. Zero-weight points are masked before any product, so
    padding rows may hold anything, even non-finite values.

    For P <= ``UNROLL_MAX_P`` all the sums (1 + P + P(P+1)/2, or twice the matrix part for
    ``hybrid``) are one variadic ``lax.reduce``: XLA fuses it with the elementwise products into a
    single pass over the points. Written as ``J.T @ (c J)``, XLA:CPU under ``vmap`` runs a batched
    matmul or materialises an (S, n) array per product and reduces each separately, which cost as
    much as the model (about 2x slower overall on the Chinchilla fit).
    """
    y, jac = predict_and_jacobian(model, theta, x)
    p = theta.shape[0]
    live = weights > 0
    r = jnp.where(live, y - target, 0.0)
    kind = loss_kind(loss.kind)
    split = curvature == "hybrid" and kind.hybrid  # otherwise IRLS throughout
    wpsi = weights * psi(loss, r)
    if split:
        w_quad = weights * curvature_weights(loss, r, "newton")
        w_lin = weights * curvature_weights(loss, r, "irls") - w_quad
        curv: tuple = (w_quad, w_lin)
        # The weight of the quadratic-region points (not of their curvature, which may exceed 1).
        w_count = weights * kind.quadratic_region(loss, r).astype(r.dtype)
    else:
        curv = (weights * curvature_weights(loss, r, "irls"),)
        w_count = curv[0]
    if p > UNROLL_MAX_P:
        # Many parameters: the unrolled sums would grow as P^2 terms; matrix products instead.
        jac = jnp.where(live[:, None], jac, 0.0)
        value = jnp.sum(weights * rho(loss, r))
        grad = jac.T @ wpsi
        mats = [jac.T @ (c[:, None] * jac) for c in curv]
        n_quadratic = jnp.sum(w_count)
    else:
        cols = [jax.lax.select(live, c, jnp.zeros_like(c)) for c in _columns(jac, p)]
        pairs = [(i, j) for i in range(p) for j in range(i, p)]
        mul = jax.lax.mul  # lax, not operators: tracing every `*` of this unrolled code costs
        terms = [weights * rho(loss, r)] + [mul(c, wpsi) for c in cols]
        for c in curv:
            wcols = [mul(c, col) for col in cols]
            terms += [mul(wcols[i], cols[j]) for i, j in pairs]
        terms.append(w_count)  # the weight of the quadratic region ("hybrid")
        zeros = [jnp.zeros((), r.dtype)] * len(terms)
        sums = jax.lax.reduce(terms, zeros,
                              lambda a, b: [jax.lax.add(u, v) for u, v in zip(a, b)], (0,))
        value = sums[0]
        grad = jnp.stack(sums[1:1 + p])
        m = len(pairs)
        mats = [_symmetric(sums[1 + p + k * m:1 + p + (k + 1) * m], p) for k in range(len(curv))]
        n_quadratic = sums[-1]
    value = jnp.where(jnp.isfinite(value), value, jnp.inf)
    if curvature == "irls":
        return Normal(value, grad, mats[0], mats[0], jnp.zeros((), r.dtype))
    if not split:  # squared error: every point is in the quadratic region, IRLS is exact
        return Normal(value, grad, mats[0], mats[0], n_quadratic)
    return Normal(value, grad, mats[0] + mats[1], mats[0], n_quadratic)


def solve_spd(a, b):
    """Solve a x = b for a symmetric positive definite (P, P) ``a`` by Cholesky.

    Unrolled for small P: a fixed sequence of scalar operations, which ``vmap`` turns into
    elementwise operations over the batch. ``jax.scipy.linalg.cho_solve`` beyond ``UNROLL_MAX_P``.
    A matrix that is not numerically positive definite gives nan, which the caller treats as a
    rejected step (and so raises the damping).
    """
    p = a.shape[-1]
    if p > UNROLL_MAX_P:
        return jax.scipy.linalg.cho_solve(jax.scipy.linalg.cho_factor(a, lower=True), b)
    # jax.lax arithmetic, not operators: each traced `*` costs a jit-wrapper call, and this
    # unrolled code has ~P^3 of them per stage.
    sub, mul, div = jax.lax.sub, jax.lax.mul, jax.lax.div
    el = _columns(jnp.reshape(a, (p * p,)), p * p)
    rhs = _columns(b, p)
    low = [[None] * p for _ in range(p)]
    for j in range(p):
        d = el[j * p + j]
        for k in range(j):
            d = sub(d, mul(low[j][k], low[j][k]))
        low[j][j] = jnp.sqrt(d)
        for i in range(j + 1, p):
            s = el[i * p + j]
            for k in range(j):
                s = sub(s, mul(low[i][k], low[j][k]))
            low[i][j] = div(s, low[j][j])
    y = [None] * p
    for i in range(p):
        s = rhs[i]
        for k in range(i):
            s = sub(s, mul(low[i][k], y[k]))
        y[i] = div(s, low[i][i])
    out = [None] * p
    for i in reversed(range(p)):
        s = y[i]
        for k in range(i + 1, p):
            s = sub(s, mul(low[k][i], out[k]))
        out[i] = div(s, low[i][i])
    return jnp.stack(out)


def _columns(a, m: int):
    """The m slices a[..., i] of the last axis, as separate arrays (one op each, no jit wrapper)."""
    return [jax.lax.index_in_dim(a, i, axis=a.ndim - 1, keepdims=False) for i in range(m)]


def _check_curvature(curvature: str) -> None:
    if curvature not in CURVATURES:
        raise ValueError(f"curvature must be one of {CURVATURES}, got {curvature!r}")


def init_state(model: Model, theta, x, target, weights, loss: Loss,
               curvature: str = "irls", lam=LAMBDA_INIT) -> LMState:
    _check_curvature(curvature)
    ev = evaluate(model, theta, x, target, weights, loss, curvature)
    return LMState(theta, *ev, lam=jnp.asarray(lam, theta.dtype),
                   iterations=jnp.asarray(0, jnp.int32), small_steps=jnp.asarray(0, jnp.int32),
                   done=~jnp.isfinite(ev.value))


def step(model: Model, state: LMState, x, target, weights, loss: Loss, ftol: float,
         curvature: str = "irls") -> LMState:
    """One damped Gauss-Newton step; a converged (done) state is returned unchanged."""
    g = state.grad
    p = g.shape[0]
    if curvature == "irls":
        h = state.hess
    else:
        h = jnp.where(state.n_quadratic >= p, state.hess_exact, state.hess)
    diag = jnp.diagonal(state.hess)
    # Floor the scaling so a parameter the points do not see (zero column) is still damped.
    scale = jnp.maximum(diag, 1e-12 * (1.0 + jnp.max(diag)))
    delta = solve_spd(h + jnp.diag(state.lam * scale), -g)
    theta_new = state.theta + delta
    ev = evaluate(model, theta_new, x, target, weights, loss, curvature)
    finite = jnp.isfinite(ev.value) & jnp.all(jnp.isfinite(delta))
    ok = finite & (ev.value < state.value)

    f = jnp.maximum(state.value, _TINY)
    actual = (state.value - ev.value) / f
    predicted = -(g @ delta + 0.5 * delta @ (h @ delta)) / f
    small = ok & (actual < ftol)
    small_steps = jnp.where(ok, jnp.where(small, state.small_steps + 1, 0), state.small_steps)
    flat = finite & (jnp.abs(actual) <= ftol) & (predicted <= ftol)
    lam = jnp.where(ok, jnp.maximum(state.lam / 3.0, LAMBDA_MIN), state.lam * 4.0)
    done = (small_steps >= 2) | flat | (lam > LAMBDA_MAX) | ((ev.value == 0.0) & ok)

    keep = lambda new, old: jax.lax.select(ok, new, old)  # noqa: E731
    new = LMState(
        theta=keep(theta_new, state.theta),
        value=keep(ev.value, state.value),
        grad=keep(ev.grad, g),
        hess=keep(ev.hess, state.hess),
        hess_exact=keep(ev.hess_exact, state.hess_exact),
        n_quadratic=keep(ev.n_quadratic, state.n_quadratic),
        lam=lam,
        iterations=state.iterations + 1,
        small_steps=small_steps,
        done=done,
    )
    return jax.tree_util.tree_map(lambda a, b: jax.lax.select(state.done, a, b), state, new)


def _batched_step(model, x, target, weights, loss, ftol, curvature, weights_batched: bool):
    """vmap of ``step`` over states (and over weights, one row per state, if ``weights_batched``)."""
    one = lambda s, w: step(model, s, x, target, w, loss, ftol, curvature)  # noqa: E731
    vstep = jax.vmap(one, in_axes=(0, 0 if weights_batched else None))
    return lambda s: vstep(s, weights)


def run_fixed(model, states: LMState, x, target, weights, loss, ftol, iterations: int,
              curvature: str = "irls", weights_batched: bool = False) -> LMState:
    """A fixed number of steps for a batch of states (converged ones stay put): screening.

    ``states`` is batched along axis 0; so is ``weights`` (S, n) when ``weights_batched``
    (bootstrap resamples), otherwise all states share ``weights`` (n,). The loop is outside the
    ``vmap`` (a loop over batched states, not a batch of loops): JAX then traces the step once
    instead of batching a loop body to a fixed point, which halves the tracing time.
    """
    vstep = _batched_step(model, x, target, weights, loss, ftol, curvature, weights_batched)
    return jax.lax.fori_loop(0, iterations, lambda _, s: vstep(s), states)


def run_to_convergence(model, states: LMState, x, target, weights, loss, ftol, max_iter: int,
                       curvature: str = "irls", weights_batched: bool = False) -> LMState:
    """Steps for a batch of states until each has converged or made ``max_iter`` iterations.

    The loop runs while any state is still going (as a vmapped ``while_loop`` would); a state
    that has stopped is left unchanged by further steps. Batching as in ``run_fixed``.
    """
    vstep = _batched_step(model, x, target, weights, loss, ftol, curvature, weights_batched)
    going = lambda s: (~s.done) & (s.iterations < max_iter)  # noqa: E731

    def body(s):
        new = vstep(s)
        run = going(s)
        return jax.tree_util.tree_map(
            lambda a, b: jnp.where(jnp.reshape(run, run.shape + (1,) * (a.ndim - 1)), a, b), new, s)

    return jax.lax.while_loop(lambda s: jnp.any(going(s)), body, states)
