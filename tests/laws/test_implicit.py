"""The root finder behind the implicit laws (m4, kaplan_steps): safeguarded Newton, IFT derivatives."""

import jax
import jax.numpy as jnp
import numpy as np

from scalinglaws.laws.implicit import monotone_root

# arctan: plain Newton diverges from |y| > 1.39, so the bracket has to catch it.
solve_atan = monotone_root(lambda y, p: jnp.arctan(y) - p,
                           lambda p: (jnp.full_like(p, -1e6), jnp.full_like(p, 1e6)),
                           init=lambda p: jnp.full_like(p, 50.0))

# a root that depends on two parameters and an input: y^3 + a y = b x
solve_cubic = monotone_root(lambda y, a, b, x: y ** 3 + a * y - b * x,
                            lambda a, b, x: (jnp.zeros_like(x) - 10.0, jnp.zeros_like(x) + 10.0))


def test_newton_is_safeguarded_by_the_bracket():
    p = jnp.array([-1.4, -0.3, 0.0, 0.7, 1.5])
    np.testing.assert_allclose(solve_atan(p), np.tan(np.asarray(p)), rtol=1e-12, atol=1e-14)


def test_derivatives_follow_the_implicit_function_theorem():
    a, b, x = 1.3, 0.7, jnp.array([0.5, 1.0, 2.0, 4.0])
    y = solve_cubic(a, b, x)
    np.testing.assert_allclose(y ** 3 + a * y, b * x, rtol=1e-12)
    # dy/da = -y / (3 y^2 + a), dy/db = x / (3 y^2 + a)
    da, db = jax.jacfwd(lambda ab: solve_cubic(ab[0], ab[1], x))(jnp.array([a, b])).T
    np.testing.assert_allclose(da, -y / (3 * y ** 2 + a), rtol=1e-12)
    np.testing.assert_allclose(db, x / (3 * y ** 2 + a), rtol=1e-12)
    # and under vmap over parameter sets, as the core runs many starts at once
    batch = jax.vmap(lambda ab: solve_cubic(ab[0], ab[1], x))(jnp.array([[a, b], [2.0, 0.1]]))
    np.testing.assert_allclose(batch[0], y, rtol=1e-14)
