"""Pillar 3, the border: guns flow south, drugs flow north.

- Guns: ``scenario.gun_inflow / 52`` a week, less the share interdicted, are sold to cells
  (see :mod:`sim.cells`).
- Drugs: the week's revenue at the crossings (price x tonnes, :mod:`sim.routes`; at
  ``scenario.cocaine_supply`` 1, ``scenario.drug_revenue_musd / 52``), less the share seized, is earned
  by the plazas that hold the routes, in proportion to their trafficking value, which follows the drugs
  passing through them (:func:`sim.routes.RouteNetwork.value`).
National flows are pro-rated to the territory's share of Mexico's population (``model.scale``).
Interdiction grows with border spending S (US$ M/yr) with diminishing returns: max x S / (S + half).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .model import CartelModel


def levers(model: CartelModel, spend_musd: float) -> None:
    """Shares of guns and drugs stopped at the border for the pillar's yearly spending (US$ M)."""
    bp = model.p.border
    model.gun_interdiction = interdiction(bp.gun_interdiction_max, spend_musd, bp.half_musd)
    model.drug_interdiction = interdiction(bp.drug_interdiction_max, spend_musd, bp.half_musd)


def interdiction(maximum: float, spend_musd: float, half_musd: float) -> float:
    """Share of a flow stopped at the border for a yearly spend (US$ M)."""
    return maximum * spend_musd / (spend_musd + half_musd) if spend_musd > 0 else 0.0


def weekly_flows(model: CartelModel) -> None:
    """Set this week's gun supply (guns) and each node's drug revenue and extortion (US$ M)."""
    s = model.p.scenario
    guns = s.gun_inflow * model.scale / 52.0 * (1.0 - model.gun_interdiction)
    model.gun_supply = float(model.world["flows"].poisson(guns))
    held = model.members_at > 0
    weight = model.value * held  # value follows the drugs passing through (sim/routes.py)
    total = weight.sum()
    revenue = model.drug_revenue * (1.0 - model.drug_interdiction)  # price x tonnes at the crossings
    model.node_revenue = revenue * weight / total if total > 0 else np.zeros(model.n_nodes)
    model.extortion = s.extortion_rate / 52.0 * model.population * (1.0 - model.resilience) * held
