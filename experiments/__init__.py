"""Entry points around the model: Hydra runs, the main comparison, benchmarks.

For notebooks and scripts::

    from experiments import compose, simulate
    cfg = compose(["policy=kingpin", "steps=104"])   # the config the CLI would use
    ts = simulate(["policy=kingpin", "steps=104"])   # run it; the weekly timeseries as a DataFrame
"""

from __future__ import annotations

import logging

import pandas as pd

from sim import CartelModel

from .config import compose, to_params

__all__ = ["build", "compose", "simulate", "quiet_mesa"]


def quiet_mesa() -> None:
    """Mesa logs every step at INFO (logger ``MESA``); keep it to warnings."""
    logging.getLogger("MESA").setLevel(logging.WARNING)


def build(overrides: list[str] | tuple[str, ...] = ()) -> CartelModel:
    """The model of the config that ``compose(overrides)`` gives, ready to run."""
    quiet_mesa()
    return CartelModel(params=to_params(compose(overrides)))


def simulate(overrides: list[str] | tuple[str, ...] = (), progress: bool = False) -> pd.DataFrame:
    """Run the config that ``compose(overrides)`` gives and return its weekly timeseries."""
    return build(overrides).run(progress=progress)
