"""Pillar 4, resilient communities: one :class:`Community` per node, and youth and community prevention.

Levers from the pillar's yearly spending S_4 (US$ M): spread over nodes by need (young people x
(1 - resilience)); with x_i the node's spending per young person relative to ``prevention_half_musd``
spread nationally, recruitment cut_i = prevention_effect x takeup x x_i / (1 + x_i) (diminishing
returns) and the community's resilience target rises by (1 - r0_i) x resilience_lift x x_i / (1 + x_i).

Weekly (:func:`update_communities`): violence erodes resilience, which relaxes toward its target; a
node's vulnerability to recruitment follows its resilience, legal opportunity and prevention.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from mesa.discrete_space import FixedAgent

if TYPE_CHECKING:
    from ..model import CartelModel


def levers(model: CartelModel, spend_musd: float) -> None:
    """Each node's recruitment cut and resilience lift from the pillar's yearly spending (US$ M)."""
    cp = model.p.community
    youth = model.population * cp.youth_share
    need = youth * (1.0 - model.resilience0)
    x = spend_musd / cp.prevention_half_musd * (need / need.sum()) * (youth.sum() / np.maximum(youth, 1e-9))
    saturation = x / (1.0 + x)
    model.prevention_cut = cp.prevention_effect * cp.takeup * saturation
    model.prevention_lift = cp.resilience_lift * saturation


def update_communities(model: CartelModel) -> None:
    """Weekly, for every node at once: violence erodes resilience, which relaxes toward its target;
    prevention raises the target with diminishing returns."""
    cp = model.p.community
    per_10k = model.homicides / np.maximum(model.population / 1e4, 1e-9)
    target = model.resilience0 + (1 - model.resilience0) * model.prevention_lift
    model.resilience += cp.resilience_recovery * (target - model.resilience) - cp.violence_erosion * per_10k
    np.clip(model.resilience, 0.0, 1.0, out=model.resilience)
    update_vulnerability(model)


def update_vulnerability(model: CartelModel) -> None:
    """Vulnerability to recruitment per node, 1 at the mean resilience and opportunity, less prevention's cut."""
    cp = model.p.community
    base = (1 - cp.resilience_mean) * (1 - cp.opportunity_mean)
    model.vulnerability = (1 - model.resilience) * (1 - model.opportunity) / base * (1 - model.prevention_cut)


class Community(FixedAgent):
    """The residents of one node: a Mesa agent on the node's cell, for inspection (``model.agents``, the page)
    and for Mesa's tools. Its state lives in the model's per-node arrays (read through the properties
    below), and its weekly rule runs for every community at once in :func:`update_communities`; it has no
    ``step`` of its own."""

    def __init__(self, model: CartelModel, node: int):
        super().__init__(model)
        self.node = node
        self.cell = model.grid[node]

    @property
    def residents(self) -> int:
        return int(self.model.residents[self.node])

    @property
    def resilience(self) -> float:
        return float(self.model.resilience[self.node])

    @property
    def opportunity(self) -> float:
        return float(self.model.opportunity[self.node])
