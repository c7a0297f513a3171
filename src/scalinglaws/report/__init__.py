"""Reporters: turn a run's results into files (JSON, CSV, Markdown, plots)."""
