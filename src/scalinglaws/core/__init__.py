"""The compiled fitting engine: pure JAX functions of arrays and static configuration.

Importable alone (no attrs, yaml or pluggy). Importing it turns on ``jax_enable_x64``: fits run in
float64, and a float32 array reaching a solver is an error.

* :func:`fit`: multi-start robust Levenberg-Marquardt with successive halving (``multistart``,
  ``lm``, ``objectives``);
* :func:`fit_optax`: the same multi-start contract with optax L-BFGS or Adam (``solvers_optax``);
* :func:`fit_varpro`: variable-projection starts for laws linear in some parameters, polished by
  LM (``varpro``); ``starts``: grid (``chinchilla`` preset), Sobol, random, user points;
* ``diagnostics``: convergence reason, starts at the optimum, ranges, conditioning, residuals;
* :func:`bootstrap`: nonparametric bootstrap by resample weights, all resamples in one compiled
  call; :func:`hessian_se`: delta-method standard errors at the optimum (``bootstrap``);
* :func:`fit_many`: the same law on D padded, masked datasets in one compiled call, chunked to
  bound memory; :func:`pad_datasets` builds its arrays (``batched``);
* ``sharding``: the batch axis over a 1-D mesh of all devices (one CPU, GPU, TPU, several hosts).
"""

import jax

jax.config.update("jax_enable_x64", True)

from . import diagnostics as diagnostics  # noqa: E402
from . import sharding as sharding  # noqa: E402
from . import starts as starts  # noqa: E402
from .batched import FitManyResult as FitManyResult  # noqa: E402
from .batched import fit_many as fit_many  # noqa: E402
from .batched import pad_datasets as pad_datasets  # noqa: E402
from .bootstrap import BootstrapResult as BootstrapResult  # noqa: E402
from .bootstrap import StandardErrors as StandardErrors  # noqa: E402
from .bootstrap import bootstrap as bootstrap  # noqa: E402
from .bootstrap import hessian_se as hessian_se  # noqa: E402
from .diagnostics import Reason as Reason  # noqa: E402
from .model import Model as Model  # noqa: E402
from .model import predict_and_jacobian as predict_and_jacobian  # noqa: E402
from .multistart import DEFAULT_SCHEDULE as DEFAULT_SCHEDULE  # noqa: E402
from .multistart import FULL_SCHEDULE as FULL_SCHEDULE  # noqa: E402
from .multistart import MultiStartResult as MultiStartResult  # noqa: E402
from .multistart import Schedule as Schedule  # noqa: E402
from .multistart import fit as fit  # noqa: E402
from .objectives import Loss as Loss  # noqa: E402
from .objectives import objective as objective  # noqa: E402
from .solvers_optax import OptaxConfig as OptaxConfig  # noqa: E402
from .solvers_optax import fit_optax as fit_optax  # noqa: E402
from .varpro import LinearStructure as LinearStructure  # noqa: E402
from .varpro import fit_varpro as fit_varpro  # noqa: E402
from .varpro import varpro_starts as varpro_starts  # noqa: E402

__all__ = ["Model", "predict_and_jacobian", "Schedule", "DEFAULT_SCHEDULE", "FULL_SCHEDULE",
           "MultiStartResult", "fit", "Loss", "objective", "bootstrap", "BootstrapResult",
           "hessian_se", "StandardErrors", "fit_many", "FitManyResult", "pad_datasets",
           "sharding", "fit_optax", "OptaxConfig", "fit_varpro", "varpro_starts",
           "LinearStructure", "Reason", "diagnostics", "starts"]
