"""Law families: each a named formula with parameters and a pure JAX prediction."""

from .base import PUBLISHED_HUBER as PUBLISHED_HUBER
from .base import EstimatorRecipe as EstimatorRecipe
from .base import LawFamily as LawFamily
from .base import Parameter as Parameter

__all__ = ["LawFamily", "Parameter", "EstimatorRecipe", "PUBLISHED_HUBER"]
