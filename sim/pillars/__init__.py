"""The budget pillars: one module each, listed in :data:`PILLARS`.

The policy's yearly budget (``policy.budget_musd``, US$ M) is split across the four Mérida pillars by
``policy.shares``; a pillar may pass part of its money to a sub-pillar (financial intelligence takes
``policy.finance_share`` of pillar 1). Each pillar's module owns its agents, its levers
(``levers(model, spend_musd)``: how a year's money becomes effect, once at the start and again when a
timeline changes the budget) and the state it changes; the weekly schedule in
:meth:`sim.model.CartelModel.step` calls their rules by name.

This module only lists them (it imports none of them, so :mod:`sim.params` can build the ``Shares``
of the config from it). ``docs/extending.md`` shows how to add one.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True)
class Pillar:
    """One budget pillar: its config name, its title, its module and its default share of the budget."""

    name: str  # key under policy.shares (budget pillars) and in spending(); also the module's name
    title: str  # as the page and the reports show it
    doc: str  # one line for docs/parameters.md: what the money buys
    share: float = 0.0  # default share of the yearly budget (budget pillars; the defaults sum to 1)
    funded_from: str = ""  # sub-pillar: the pillar whose money it takes a part of
    part_key: str = ""  # sub-pillar: the policy key of that part (a fraction in [0, 1])

    @property
    def rules(self) -> ModuleType:
        """The pillar's module (imported on first use)."""
        return importlib.import_module(f"{__name__}.{self.name}")


PILLARS: tuple[Pillar, ...] = (
    Pillar("disruption", "1 Disrupt organised crime",
           "pillar 1, disrupt organised crime (police and armed-forces units, intelligence)", share=0.25),
    Pillar("rule_of_law", "2 Rule of law",
           "pillar 2, courts, prosecutors, vetting against corruption", share=0.25),
    Pillar("border", "3 21st-century border",
           "pillar 3, 21st-century border (interdiction of guns south, drugs north)", share=0.25),
    Pillar("prevention", "4 Resilient communities",
           "pillar 4, resilient communities (youth and community prevention)", share=0.25),
    Pillar("finance", "1b Financial intelligence",
           "part of pillar 1: anti-money laundering, seizures of laundered revenue and cash",
           funded_from="disruption", part_key="finance_share"),
)
BUDGET_PILLARS = tuple(p.name for p in PILLARS if not p.funded_from)  # the keys of policy.shares


def spending(policy) -> dict[str, float]:
    """US$ M a year per pillar for a :class:`sim.params.PolicyParams` (sub-pillars' parts taken out)."""
    spend = {name: policy.budget_musd * getattr(policy.shares, name) for name in BUDGET_PILLARS}
    for pillar in PILLARS:
        if pillar.funded_from:
            part = spend[pillar.funded_from] * getattr(policy, pillar.part_key)
            spend[pillar.funded_from] -= part
            spend[pillar.name] = part
    return spend


def apply_levers(model) -> None:
    """Set every pillar's levers from this year's budget (at start, and when a timeline changes it)."""
    spend = spending(model.p.policy)
    for pillar in PILLARS:
        pillar.rules.levers(model, spend[pillar.name])
