"""Shared fixtures: small, fast models."""

from __future__ import annotations

import logging

import pytest

from sim import CartelModel

logging.getLogger("MESA").setLevel(logging.WARNING)


def make(**kwargs) -> CartelModel:
    """A model on the small synthetic territory unless told otherwise."""
    kwargs.setdefault("territory", "small")
    kwargs.setdefault("rng", 1)
    return CartelModel(**kwargs)


@pytest.fixture
def small_model() -> CartelModel:
    return make(policy="kingpin", steps=104)
