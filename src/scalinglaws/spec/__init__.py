"""Specs: YAML files that declare datasets, laws, estimators, tasks and outputs.

The layer sits above laws and data and below estimators and tasks: it checks a spec's formulas,
row conditions and patterns with the parsers of ``formula`` and ``data`` and the transform names
of ``laws``, and structures the plugin-owned keys into the classes of a registry it is *given*
(:func:`load_spec`); it never imports the plugin host, tasks or reporters. Option classes are
declared with :mod:`scalinglaws.fields`, a module below every layer.
"""

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
