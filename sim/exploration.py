"""What exploratory modelling varies and measures, declared once.

- :data:`UNCERTAINTIES`: inputs outside the policy maker's control, or poorly known, with the range
  explored, its unit and the source of (or reason for) that range. ``experiments.sensitivity``
  samples them, ``experiments.ema`` turns them into EMA Workbench parameters, and
  ``docs/parameters.md`` lists them.
- :data:`LEVERS`: the decision: the four pillar weights (turned into budget shares by
  :func:`shares_from_weights`), the budget and whom police target. The page (``experiments/app.py``)
  takes its controls' ranges from here.
- :data:`OUTCOMES`: named results, each with its unit, the direction to prefer and how it is
  computed from the weekly table (:meth:`sim.CartelModel.timeseries`).

Every entry's :attr:`name` is the model's keyword (a config key with ``.`` written ``__``), so
``CartelModel(**to_keywords({u.name: value, ...}))`` runs a sampled point; adding an input is one
entry here (its config key must exist in :mod:`sim.params`; ``tests/test_exploration.py`` checks).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .params import POLICIES, TARGETINGS, CartelParams, ParamError, PoliceParams, Shares
from .pillars import BUDGET_PILLARS as PILLARS  # the budget pillars, one weight each


@dataclass(frozen=True)
class Input:
    """One explored input: a range ``[low, high]`` (``integer``: whole numbers) or a list of ``values``."""

    key: str  # config key (dotted), or <pillar>_weight for a pillar weight
    low: float | None = None
    high: float | None = None
    unit: str = ""
    why: str = ""  # source of the range, or the reason for it
    values: tuple[Any, ...] = ()  # categorical inputs: the allowed values (low/high unused)
    integer: bool = False

    @property
    def name(self) -> str:
        """The model's keyword and the EMA parameter name (``cartels.lethality`` -> ``cartels__lethality``)."""
        return self.key.replace(".", "__")

    @property
    def categorical(self) -> bool:
        return bool(self.values)

    def range_text(self) -> str:
        if self.categorical:
            return " / ".join(str(v) for v in self.values)
        return f"{self.low:g} to {self.high:g}"


@dataclass(frozen=True)
class Outcome:
    """A named result: unit, the direction to prefer (``min``, ``max`` or ``info``) and how it is computed."""

    name: str
    label: str  # short, for axes and tables
    unit: str
    direction: str  # min | max | info
    how: str  # how it is computed from the weekly table
    compute: Callable[[pd.DataFrame], float] = field(repr=False, compare=False)

    def __call__(self, ts: pd.DataFrame) -> float:
        return self.compute(ts)


# --------------------------------------------------------------------------------------------------
# Uncertainties: the world (EMA's "uncertainties", sampled into scenarios)
# --------------------------------------------------------------------------------------------------
UNCERTAINTIES: tuple[Input, ...] = (
    Input("scenario.recruitment_scale", 0.5, 1.5, "multiplier of recruitment",
          "assumed: +/-50% around the calibrated recruitment (legal-income shocks; Dell et al. 2019)"),
    Input("scenario.gun_inflow", 50_000, 400_000, "guns a year", integer=True,
          why="the low_guns and high_guns presets; estimates 200-250k (McDougal et al. 2015; 253k in their 2013 report)"),
    Input("cartels.lethality", 0.004, 0.016, "P(death)/week scale",
          "half to double the calibrated 0.00836 (experiments.calibrate)"),
    Input("cartels.succession_clarity", 0.0, 0.8, "probability",
          f"calibrated {CartelParams().succession_clarity} by history matching on groups at the end of 2007 and in 2011 "
          "(experiments.calibrate); before, qualitative sources only (Jones 2013, Phillips 2015): wide range"),
    Input("cartels.defection_rate", 0.1, 0.9, "probability a week",
          f"calibrated {CartelParams().defection_rate} by history matching, weakly identified (targets: groups at "
          "the end of 2007 and in 2011)"),
    Input("police.corruption_mean", 0.1, 0.6, "share (0-1)",
          f"assumed {PoliceParams().corruption_mean}; no comparable national measure (Cienfuegos case, seed article)"),
    Input("court.capacity_per_million", 0.5, 4.0, "persons tried per million residents a week",
          "calibrated 1.1 so that baseline arrests fill the courts (México Evalúa); state courts differ several-fold"),
    Input("community.prevention_effect", 0.2, 0.6, "max cut of recruitment",
          "Heller 2014 (-43%), Heller et al. 2017 (-45 to -50%); weaker replications down to -20%"),
    Input("finance.revenue_max", 0.1, 0.7, "share of drug revenue",
          "assumed; 0.7 is the upper bound from the 2010 US-dollar deposit limits (INCSR 2014); no causal "
          "estimate of financial enforcement's effect exists. Matters only with policy.finance_share > 0"),
    Input("finance.pay_elasticity", 0.0, 2.0, "elasticity",
          "assumed 1 (no published elasticity of recruitment to cartel pay). Matters only with "
          "policy.finance_share > 0"),
)

# --------------------------------------------------------------------------------------------------
# Levers: the decision (EMA's "levers", sampled or set into policies)
# --------------------------------------------------------------------------------------------------
LEVERS: tuple[Input, ...] = (
    *(Input(f"{p}_weight", 0.0, 1.0, "weight",
            f"pillar weight; policy.shares.{p} = weight / sum of the four weights (shares_from_weights)")
      for p in PILLARS),
    Input("policy.budget_musd", 0.0, 1000.0, "US$ M a year",
          "0 to about 4x Mérida's ~230 M/yr (seed article)"),
    Input("policy.targeting", values=TARGETINGS, unit="police target",
          why="whom funded police units go after (sim.params.TARGETINGS)"),
)


# --------------------------------------------------------------------------------------------------
# Outcomes, computed from the weekly table
# --------------------------------------------------------------------------------------------------
def _homicides_last_year(ts: pd.DataFrame) -> float:
    return float(ts["homicides"].tail(52).sum())


def _homicides_total(ts: pd.DataFrame) -> float:
    return float(ts["homicides"].sum())


class _Last:
    """The value of ``column`` in the last week (a class, not a lambda, so it pickles)."""

    def __init__(self, column: str):
        self.column = column

    def __call__(self, ts: pd.DataFrame) -> float:
        return float(ts[self.column].iloc[-1])


def _splinters_total(ts: pd.DataFrame) -> float:
    return float(ts["splinters"].sum())


OUTCOMES: tuple[Outcome, ...] = (
    Outcome("homicides_last_year", "homicides in the last year", "persons", "min",
            "sum of weekly homicides over the last 52 weeks", _homicides_last_year),
    Outcome("homicides_total", "homicides over the run", "persons", "min",
            "sum of weekly homicides over the whole run", _homicides_total),
    Outcome("effective_groups", "effective groups", "groups", "min",
            "effective groups (1 / Herfindahl of member shares) in the last week; fewer: less fragmentation",
            _Last("effective_groups")),
    Outcome("members", "members (persons)", "persons", "min", "cartel members in the last week",
            _Last("members")),
    Outcome("impunity", "impunity", "share (0-1)", "min",
            "1 - homicide convictions / homicides over the last 52 weeks, in the last week", _Last("impunity")),
    Outcome("splinters_total", "splinter groups over the run", "groups", "info",
            "sum of weekly splinter groups over the run", _splinters_total),
)


def outcome(name: str) -> Outcome:
    """The declared outcome called ``name``."""
    for o in OUTCOMES:
        if o.name == name:
            return o
    raise KeyError(f"no outcome {name!r}; declared: {', '.join(o.name for o in OUTCOMES)}")


def measure(ts: pd.DataFrame) -> dict[str, float]:
    """Every declared outcome of a weekly table."""
    return {o.name: o(ts) for o in OUTCOMES}


# --------------------------------------------------------------------------------------------------
# From sampled values to the model's keywords
# --------------------------------------------------------------------------------------------------
def shares_from_weights(weights: Mapping[str, float]) -> dict[str, float] | None:
    """Each pillar's share of the budget: its weight over the sum of the weights.

    ``weights``: pillar -> non-negative weight (missing pillars weigh 0). Returns None when every
    weight is 0: no pillar is funded (callers then spend nothing). Raises :class:`ParamError` (key
    ``policy.shares``) on a negative or non-numeric weight or an unknown pillar.
    """
    allowed = "non-negative pillar weights, one per pillar: " + ", ".join(PILLARS)
    if set(weights) - set(PILLARS):
        raise ParamError("policy.shares", dict(weights), allowed)
    values = {}
    for p in PILLARS:
        w = plain(weights.get(p, 0.0))
        if not isinstance(w, numbers.Real) or isinstance(w, bool) or not np.isfinite(w) or w < 0:
            raise ParamError("policy.shares", dict(weights), allowed)
        values[p] = float(w)
    total = sum(values.values())
    if total == 0:
        return None
    return {p: w / total for p, w in values.items()}


def plain(value: Any) -> Any:
    """A numpy scalar as the Python number (or bool, or str) it holds; anything else unchanged."""
    return value.item() if isinstance(value, np.generic) else value


def to_keywords(values: Mapping[str, Any]) -> dict[str, Any]:
    """:class:`sim.CartelModel` keywords from sampled values keyed by declared :attr:`Input.name`.

    Pillar weights (``<pillar>_weight``) become ``policy__shares__<pillar>``: a pillar whose weight is
    not given keeps its default share as its weight; all weights 0 spends nothing (budget 0). Every
    other entry is passed on as it is (numpy scalars as Python numbers), so any model keyword works.
    """
    kwargs = {k: plain(v) for k, v in values.items()}
    given = {p: kwargs.pop(f"{p}_weight") for p in PILLARS if f"{p}_weight" in kwargs}
    if given:
        weights = {p: given.get(p, getattr(Shares(), p)) for p in PILLARS}
        shares = shares_from_weights(weights)
        if shares is None:
            shares = dict.fromkeys(PILLARS, 0.25)
            kwargs["policy__budget_musd"] = 0.0
        kwargs.update({f"policy__shares__{p}": s for p, s in shares.items()})
    return kwargs


def preset_levers(policy: str) -> dict[str, Any]:
    """The lever values (by declared name) that reproduce a policy preset of :mod:`sim.params`."""
    if policy not in POLICIES:
        raise ParamError("policy", policy, "one of " + ", ".join(POLICIES))
    preset = POLICIES[policy]
    out: dict[str, Any] = {f"{p}_weight": getattr(preset.shares, p) for p in PILLARS}
    for lever in LEVERS:
        if not lever.key.endswith("_weight"):
            node: Any = preset
            for part in lever.key.split(".")[1:]:
                node = getattr(node, part)
            out[lever.name] = node
    return out
