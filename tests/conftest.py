"""Shared test setup: float64 JAX, hypothesis profiles, helpers for specs and shared data."""

import os
import textwrap
from pathlib import Path

import jax
import pytest
from hypothesis import HealthCheck, settings

jax.config.update("jax_enable_x64", True)

# `ci` is deterministic (derandomize) and lean; `dev` explores more. Jitted fits compile on the
# first example, hence no deadline.
settings.register_profile("ci", max_examples=8, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=40, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("SCALINGLAWS_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture
def write_spec(tmp_path):
    """Write a (dedented) spec into tmp_path and return its path."""

    def write(text: str, name: str = "spec.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return path

    return write


def shared_file(*parts: str) -> Path:
    """A file of ../shared/data, or a skip naming what is missing."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: replication data lives in ../shared/data beside the repo "
                    "(or set SCALINGLAWS_SHARED_DATA)")
    return path
