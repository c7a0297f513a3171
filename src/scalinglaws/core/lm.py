"""Levenberg-Marquardt with IRLS weights for robust losses, written to run vmapped over starts.

Each iteration solves (J^T W J + lam D) delta = -J^T W r with W = psi(r)/r the IRLS weights of the
loss (Holland & Welsch 1977) and D the Marquardt scaling diag(J^T W J). A step is kept only when the
true robust objective decreases; lam shrinks after a kept step and grows after a rejected one.
Residuals and the Jacobian at the candidate are computed in one pass, so a kept step costs one
model evaluation.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from .model import Model, predict_and_jacobian
from .objectives import Loss, irls_weights, objective

_TINY = 1e-300
LAMBDA_INIT = 1e-3
LAMBDA_MAX = 1e12


class LMState(NamedTuple):
    theta: jax.Array  # (P,)
    value: jax.Array  # objective at theta
    r: jax.Array  # (n,) residuals at theta
    jac: jax.Array  # (n, P)
    lam: jax.Array
    iterations: jax.Array  # int32
    small_steps: jax.Array  # consecutive kept steps with a negligible decrease
    done: jax.Array  # bool


def _residuals(model: Model, theta, x, target):
    y, jac = predict_and_jacobian(model, theta, x)
    return y - target, jac


def init_state(model: Model, theta, x, target, weights, loss: Loss) -> LMState:
    r, jac = _residuals(model, theta, x, target)
    value = objective(loss, r, weights)
    value = jnp.where(jnp.isfinite(value), value, jnp.inf)
    return LMState(
        theta=theta,
        value=value,
        r=r,
        jac=jac,
        lam=jnp.asarray(LAMBDA_INIT, theta.dtype),
        iterations=jnp.asarray(0, jnp.int32),
        small_steps=jnp.asarray(0, jnp.int32),
        done=~jnp.isfinite(value),
    )


def step(model: Model, state: LMState, x, target, weights, loss: Loss, ftol: float) -> LMState:
    """One damped Gauss-Newton step; a converged (done) state is returned unchanged."""
    w = irls_weights(loss, state.r) * weights
    r = jnp.where(w > 0, state.r, 0.0)  # padded points may hold non-finite residuals
    jac = jnp.where(w[:, None] > 0, state.jac, 0.0)
    grad = jac.T @ (w * r)
    hess = jac.T @ (w[:, None] * jac)
    diag = jnp.diagonal(hess)
    scale = jnp.maximum(diag, 1e-12 * (1.0 + jnp.max(diag)))
    delta = jnp.linalg.solve(hess + state.lam * jnp.diag(scale), -grad)
    theta_new = state.theta + delta
    r_new, jac_new = _residuals(model, theta_new, x, target)
    value_new = objective(loss, r_new, weights)
    ok = jnp.isfinite(value_new) & jnp.all(jnp.isfinite(delta)) & (value_new < state.value)

    decrease = (state.value - value_new) / jnp.maximum(state.value, _TINY)
    small = ok & (decrease < ftol)
    small_steps = jnp.where(ok, jnp.where(small, state.small_steps + 1, 0), state.small_steps)
    lam = jnp.where(ok, jnp.maximum(state.lam / 3.0, 1e-12), state.lam * 4.0)
    iterations = state.iterations + 1
    done = (small_steps >= 2) | (lam > LAMBDA_MAX) | (value_new == 0.0) & ok

    new = LMState(
        theta=jnp.where(ok, theta_new, state.theta),
        value=jnp.where(ok, value_new, state.value),
        r=jnp.where(ok, r_new, state.r),
        jac=jnp.where(ok, jac_new, state.jac),
        lam=lam,
        iterations=iterations,
        small_steps=small_steps,
        done=done,
    )
    return jax.tree_util.tree_map(lambda a, b: jnp.where(state.done, a, b), state, new)


def run_fixed(model, state, x, target, weights, loss, ftol, iterations: int) -> LMState:
    """A fixed number of steps (converged states stay put): the cheap screening stage."""
    body = lambda _, s: step(model, s, x, target, weights, loss, ftol)  # noqa: E731
    return jax.lax.fori_loop(0, iterations, body, state)


def run_to_convergence(model, state, x, target, weights, loss, ftol, max_iter: int) -> LMState:
    """Steps until converged or ``max_iter`` total iterations."""
    cond = lambda s: (~s.done) & (s.iterations < max_iter)  # noqa: E731
    body = lambda s: step(model, s, x, target, weights, loss, ftol)  # noqa: E731
    return jax.lax.while_loop(cond, body, state)
