"""The compiled fitting engine: pure JAX functions of arrays and static configuration.

Importable alone (no attrs, yaml or pluggy), and importing it changes no global state. Fits run in
float64: the fitting functions switch ``jax_enable_x64`` on when called (:func:`enable_float64`,
which code making its own JAX arrays for the core calls first), and a float32 array reaching a
solver is an error.

* :func:`fit`: multi-start robust Levenberg-Marquardt with successive halving (``multistart``,
  ``lm``, ``objectives``);
* :func:`fit_optax`: the same multi-start contract with optax L-BFGS or Adam (``solvers_optax``);
* :func:`fit_varpro`: variable-projection starts for laws linear in some parameters, polished by
  LM (``varpro``); ``starts``: grid, Sobol, random, user points;
* ``diagnostics``: convergence reason, starts at the optimum, ranges, conditioning, residuals;
* :func:`bootstrap`: nonparametric bootstrap by resample weights, all resamples in one compiled
  call; :func:`hessian_se`: delta-method standard errors at the optimum (``bootstrap``);
* :func:`fit_many`: the same law on D padded, masked datasets in one compiled call, chunked to
  bound memory; :func:`pad_datasets` builds its arrays (``batched``);
* ``sharding``: the batch axis over a 1-D mesh of all devices (one CPU, GPU, TPU, several hosts).
"""

from . import diagnostics as diagnostics
from . import sharding as sharding
from . import starts as starts
from .batched import FitManyResult as FitManyResult
from .batched import fit_many as fit_many
from .batched import pad_datasets as pad_datasets
from .bootstrap import BootstrapResult as BootstrapResult
from .bootstrap import StandardErrors as StandardErrors
from .bootstrap import bootstrap as bootstrap
from .bootstrap import hessian_se as hessian_se
from .diagnostics import Reason as Reason
from .model import Model as Model
from .model import predict_and_jacobian as predict_and_jacobian
from .multistart import DEFAULT_SCHEDULE as DEFAULT_SCHEDULE
from .multistart import FULL_SCHEDULE as FULL_SCHEDULE
from .multistart import MultiStartResult as MultiStartResult
from .multistart import Schedule as Schedule
from .multistart import enable_float64 as enable_float64
from .multistart import fit as fit
from .objectives import Loss as Loss
from .objectives import objective as objective
from .solvers_optax import OptaxConfig as OptaxConfig
from .solvers_optax import fit_optax as fit_optax
from .varpro import LinearStructure as LinearStructure
from .varpro import fit_varpro as fit_varpro
from .varpro import varpro_starts as varpro_starts

__all__ = ["enable_float64", "Model", "predict_and_jacobian", "Schedule", "DEFAULT_SCHEDULE", "FULL_SCHEDULE",
           "MultiStartResult", "fit", "Loss", "objective", "bootstrap", "BootstrapResult",
           "hessian_se", "StandardErrors", "fit_many", "FitManyResult", "pad_datasets",
           "sharding", "fit_optax", "OptaxConfig", "fit_varpro", "varpro_starts",
           "LinearStructure", "Reason", "diagnostics", "starts"]
