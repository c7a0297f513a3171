"""Specs: YAML files that declare datasets, laws, estimators, tasks and outputs."""

from .model import SCHEMA_VERSION as SCHEMA_VERSION
from .model import DatasetSpec as DatasetSpec
from .model import EstimatorSpec as EstimatorSpec
from .model import LawSpec as LawSpec
from .model import OutputSpec as OutputSpec
from .model import Spec as Spec
from .model import TaskSpec as TaskSpec
from .structure import load_spec as load_spec
from .structure import make_converter as make_converter

__all__ = ["SCHEMA_VERSION", "DatasetSpec", "EstimatorSpec", "LawSpec", "OutputSpec", "Spec",
           "TaskSpec", "load_spec", "make_converter"]
