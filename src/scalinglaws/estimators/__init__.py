"""Estimators: how a law is fitted (loss, starting points, solver)."""

from .multistart import MultiStart as MultiStart

__all__ = ["MultiStart"]
