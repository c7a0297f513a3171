"""The compiled fitting engine: pure JAX functions of arrays and static configuration.

Importable alone (no attrs, yaml or pluggy). Importing it turns on ``jax_enable_x64``: fits run in
float64, and a float32 array reaching a solver is an error.

* :func:`fit`: multi-start robust Levenberg-Marquardt with successive halving (``multistart``,
  ``lm``, ``objectives``);
* :func:`bootstrap`: nonparametric bootstrap by resample weights, all resamples in one compiled
  call; :func:`hessian_se`: delta-method standard errors at the optimum (``bootstrap``).
"""

import jax

jax.config.update("jax_enable_x64", True)

from .bootstrap import BootstrapResult as BootstrapResult  # noqa: E402
from .bootstrap import StandardErrors as StandardErrors  # noqa: E402
from .bootstrap import bootstrap as bootstrap  # noqa: E402
from .bootstrap import hessian_se as hessian_se  # noqa: E402
from .model import Model as Model  # noqa: E402
from .model import predict_and_jacobian as predict_and_jacobian  # noqa: E402
from .multistart import DEFAULT_SCHEDULE as DEFAULT_SCHEDULE  # noqa: E402
from .multistart import FULL_SCHEDULE as FULL_SCHEDULE  # noqa: E402
from .multistart import MultiStartResult as MultiStartResult  # noqa: E402
from .multistart import Schedule as Schedule  # noqa: E402
from .multistart import fit as fit  # noqa: E402
from .objectives import Loss as Loss  # noqa: E402
from .objectives import objective as objective  # noqa: E402

__all__ = ["Model", "predict_and_jacobian", "Schedule", "DEFAULT_SCHEDULE", "FULL_SCHEDULE",
           "MultiStartResult", "fit", "Loss", "objective", "bootstrap", "BootstrapResult",
           "hessian_se", "StandardErrors"]
