"""The policy: a yearly budget split across the four Mérida pillars, a targeting choice for police,
and timed interventions. Presets are in :data:`sim.params.POLICIES`.

Levers derived from the spending S_k (US$ M/yr) of pillar k:

- disruption: ``S_1 x (1 - finance_share) / unit_cost`` funded police units; intelligence = 1 + gain x S_1/100;
  ``S_1 x finance_share`` buys financial intelligence (:mod:`sim.finance`);
- rule of law: court capacity x (1 + capacity_gain x S_2/100), conviction probability
  x (1 + rule_of_law_gain x S_2/100), vetting that cuts corruption by vetting_effect x S_2/100 a week;
- border: gun and drug interdiction, see :mod:`sim.border`;
- prevention: spread over nodes by need (young people x (1 - resilience)); with x_i the node's
  spending per young person relative to ``prevention_half_musd`` spread nationally,
  recruitment cut_i = prevention_effect x takeup x x_i / (1 + x_i) (diminishing returns) and the
  community's resilience target rises by (1 - r0_i) x 0.5 x x_i / (1 + x_i).

Baseline enforcement: the domestic base force (``police.base_units_per_million``) is there under
every preset, `none` included; a share ``police.base_leader_share`` of it hunts leaders (the federal
doctrine since December 2006), the rest goes where members are. The budget adds funded units.

All draws of police and courts use the policy's random streams, never the world's.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from . import border, finance, succession
from .params import REMOVAL_MODES, Intervention, ParamError

if TYPE_CHECKING:
    from .model import CartelModel


def spending(model: CartelModel) -> dict[str, float]:
    """US$ M a year per pillar."""
    pol = model.p.policy
    return {k: pol.budget_musd * getattr(pol.shares, k) for k in ("disruption", "rule_of_law", "border", "prevention")}


def apply_levers(model: CartelModel) -> None:
    """Set the model's policy-dependent quantities from the budget (once, at start)."""
    p, s = model.p, spending(model)
    finance.levers(model, s["disruption"] * p.policy.finance_share)  # financial intelligence (sim/finance.py)
    model.funded_units = int(round(s["disruption"] * (1.0 - p.policy.finance_share) / p.police.unit_cost_musd))
    model.intelligence = 1.0 + p.police.intelligence_gain * s["disruption"] / 100.0
    model.court_boost = 1.0 + p.court.capacity_gain * s["rule_of_law"] / 100.0
    model.conviction = min(1.0, p.court.conviction_base * (1.0 + p.court.rule_of_law_gain * s["rule_of_law"] / 100.0))
    model.vetting = p.police.vetting_effect * s["rule_of_law"] / 100.0
    model.gun_interdiction = border.interdiction(p.border.gun_interdiction_max, s["border"], p.border.half_musd)
    model.drug_interdiction = border.interdiction(p.border.drug_interdiction_max, s["border"], p.border.half_musd)
    cp = p.community
    youth = model.population * cp.youth_share
    need = youth * (1.0 - model.resilience0)
    x = s["prevention"] / cp.prevention_half_musd * (need / need.sum()) * (youth.sum() / np.maximum(youth, 1e-9))
    saturation = x / (1.0 + x)
    model.prevention_cut = cp.prevention_effect * cp.takeup * saturation
    model.prevention_lift = 0.5 * saturation


def deploy(model: CartelModel) -> None:
    """Place every police unit for this week: the base force's leader hunters and, with
    ``targeting: leaders``, the funded units on the largest groups' leaders; the other base units
    where members are; other funded units by targeting."""
    members = model.members_at
    by_members = members / members.sum() if members.sum() > 0 else None
    targeting = model.p.policy.targeting
    funded = [u for u in model.police if u.funded]
    base = [u for u in model.police if not u.funded]
    n_hunters = int(round(model.p.police.base_leader_share * len(base)))
    _place(model, base[n_hunters:], by_members, "operators")
    _hunt(model, base[:n_hunters] + (funded if targeting == "leaders" else []), by_members)
    if targeting == "operators":
        _place(model, funded, by_members, "operators")
    elif targeting == "violence":
        recent = model.violence_recent + 1e-9 * (members > 0)
        _place(model, funded, recent / recent.sum() if recent.sum() > 0 else by_members, "violence")
    model.units_at = np.bincount([u.cell.coordinate for u in model.police], minlength=model.n_nodes)


def _hunt(model: CartelModel, units: list, fallback: np.ndarray | None) -> None:
    """Send ``units`` after the leaders of the largest led groups, ``police.units_per_target`` each
    (where members are, ``fallback``, when no group has a leader)."""
    led = sorted((g for g in model.groups.values() if g.leader is not None and g.alive), key=lambda g: -g.size)
    if not led:
        _place(model, units, fallback, "operators")
        return
    if not units:
        return
    n_targets = min(len(led), math.ceil(len(units) / model.p.police.units_per_target))
    for k, unit in enumerate(units):
        unit.target = "leaders"
        unit.cell = model.grid[led[k % n_targets].leader.node]


def locate_leaders(model: CartelModel) -> None:
    """Where each leader is this week (for units hunting them)."""
    model.leaders_at = {}
    for g in model.groups.values():
        if g.leader is not None:
            model.leaders_at.setdefault(g.leader.node, []).append(g.leader)


def _place(model: CartelModel, units: list, weights: np.ndarray | None, target: str) -> None:
    if not units or weights is None:
        return
    nodes = model.state["deploy"].choice(model.n_nodes, size=len(units), p=weights)
    for unit, j in zip(units, nodes.tolist()):
        unit.target = target
        unit.cell = model.grid[j]


def intervene(model: CartelModel) -> None:
    """Fire the timed interventions whose ``at_step`` is this week."""
    for iv in model.p.interventions:
        if iv.at_step == model.week:
            _remove_leader(model, iv)


def schedule_leader_removal(model: CartelModel, group: int | str = "largest", mode: str = "capture") -> Intervention:
    """Add a leader removal for next week to a running model (the page's button); returns the event.

    It fires inside the next step like any timed intervention, so it is counted, recorded in
    ``model.events`` and drawn from the same streams.
    """
    if mode not in REMOVAL_MODES:
        raise ParamError("interventions.mode", mode, " | ".join(REMOVAL_MODES))
    if not (group == "largest" or (isinstance(group, int) and not isinstance(group, bool) and group >= 0)):
        raise ParamError("interventions.group", group, "'largest' or a group id >= 0")
    if model.week + 1 > model.p.steps:
        raise ParamError("interventions.at_step", model.week + 1,
                         f"a week in 1..{model.p.steps} (steps): the run is over")
    iv = Intervention(kind="remove_leader", group=group, at_step=model.week + 1, mode=mode)
    model.p.interventions.append(iv)
    return iv


def _remove_leader(model: CartelModel, iv: Intervention) -> None:
    if iv.group == "largest":
        alive = [g for g in model.groups.values() if g.alive]
        group = max(alive, key=lambda g: g.members) if alive else None
    else:
        group = model.groups.get(iv.group)
    record = {"kind": iv.kind, "at_step": iv.at_step, "mode": iv.mode, "requested": iv.group, "group": None,
              "plazas": [], "fired": False}
    if group is not None and group.leader is not None:
        record.update(group=group.gid, plazas=sorted(group.plazas), fired=True,
                      successor=bool(group.leader.has_successor))
        succession.remove_leader(model, group, iv.mode)
    model.events.append(record)
