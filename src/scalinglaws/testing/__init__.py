"""Helpers for testing law families: :mod:`scalinglaws.testing.strategies` (Hypothesis)."""
