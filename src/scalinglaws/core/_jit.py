"""``jax.jit`` with XLA:CPU options that cut the core's compile time, and a fallback without them.

The core's programs are many small elementwise fusions (an unrolled Cholesky, one variadic
reduction per evaluation, the bookkeeping of the LM state) repeated once per stage. XLA:CPU's
newer MLIR fusion emitters take about twice as long as its classic LLVM IR emitters to compile
them, for a run time that differs by less than the noise of a shared 2-core machine (jaxlib 0.10,
the Chinchilla fit: ~2.7 s vs ~1.4 s of compilation, 0.07-0.10 s warm either way). The option
applies to our jitted functions only, never to the process (no ``XLA_FLAGS``). A jax without
``compiler_options`` or an XLA that no longer knows the option (it rejects it at compile time)
gets a plain ``jax.jit``, for good.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Optional

import jax

CPU_COMPILER_OPTIONS = {"xla_cpu_use_fusion_emitters": False}


class Jitted:
    """A jitted function compiled with ``options`` on CPU when jax and XLA accept them."""

    def __init__(self, fun: Callable, static_argnames: tuple,
                 options: Optional[Mapping[str, Any]] = None):
        self._plain = jax.jit(fun, static_argnames=static_argnames)
        self._tuned: Any = None
        try:
            self._tuned = jax.jit(fun, static_argnames=static_argnames,
                                  compiler_options=dict(CPU_COMPILER_OPTIONS if options is None
                                                        else options))
        except TypeError:  # a jax.jit without compiler_options
            pass
        self.use_tuned: Optional[bool] = None if self._tuned is not None else False

    def __call__(self, *args: Any, **kwargs: Any):
        if self.use_tuned is None:  # decided on the first call, once the backend is known
            self.use_tuned = jax.default_backend() == "cpu"
        if self.use_tuned:
            try:
                return self._tuned(*args, **kwargs)
            except RuntimeError as err:  # jax.errors.JaxRuntimeError (XlaRuntimeError before)
                if "compile option" not in str(err):
                    raise
                self.use_tuned = False
        return self._plain(*args, **kwargs)


def jit(fun: Callable, static_argnames: tuple = (),
        options: Optional[Mapping[str, Any]] = None) -> Jitted:
    return Jitted(fun, static_argnames, options)
