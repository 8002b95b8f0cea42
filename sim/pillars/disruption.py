"""Pillar 1, disrupt organised crime: police and armed-forces units, whom they target, what they find.

Levers from the pillar's yearly spending S_1 (US$ M, after financial intelligence's part):

- ``S_1 / police.unit_cost_musd`` funded units (pro-rated to the territory's share of Mexico), on top
  of the domestic base force (``police.base_units_per_million``), which is there under every preset;
  a share ``policy.military_share`` of the funded units are armed forces;
- intelligence: I = 1 + intelligence_gain x S_1/100. It reaches a funded unit at node j only through
  trust: I_j = 1 + (I - 1) x trust_j, trust_j = v + (1 - v)(1 - c_j), with v the share of vetted units
  (rule of law, :mod:`sim.pillars.rule_of_law`) and c_j the corruption at j; an operation against a
  leader leaks (the leader is warned) with probability (1 - v) x c_j.

Forces: a unit is police or military. Armed-forces units are less exposed to local corruption
(``military.corruption_factor``), find their targets less well (``military.intelligence_factor``) and
are more lethal: of the members a unit catches, a share ``police.confrontation_share`` are caught in a
confrontation, in which an opponent dies with probability k / (1 + k), k the opponents killed per
opponent wounded of the unit's force (police 2.6, army 9.1; Pérez Correa et al. 2011). Those deaths are
homicides (cause ``security``); the wounded are arrested.

Each week :func:`deploy` places every unit: a share ``police.base_leader_share`` of the base force (the
federal doctrine since December 2006) and, with ``targeting: leaders``, the funded units hunt the
largest groups' leaders; the other base units go where members are; other funded units follow the
targeting (``operators``: where members are; ``violence``: where homicides were). Units of a timed
``operation`` (:mod:`sim.interventions`) stay in the operation's place. Then every unit arrests where it
stands (:meth:`Police.step`). All draws of the units use the policy's random streams, never the world's.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from mesa.discrete_space import CellAgent

from .. import crews, succession

if TYPE_CHECKING:
    from ..interventions import Operation
    from ..model import CartelModel


def levers(model: CartelModel, spend_musd: float) -> None:
    """Funded units and their intelligence from the pillar's yearly spending (US$ M); staff the units."""
    pp = model.p.police
    model.funded_units = int(round(spend_musd / pp.unit_cost_musd))
    model.intelligence = 1.0 + pp.intelligence_gain * spend_musd / 100.0
    staff(model)


def _retire(model: CartelModel, units: list) -> None:
    for unit in units:
        model.police.remove(unit)
        unit.remove()


def staff(model: CartelModel) -> None:
    """Create the base force once, then add or retire funded units of each force to match
    ``model.funded_units`` (pro-rated) and ``policy.military_share``."""
    if not hasattr(model, "police"):
        base = int(round(model.p.police.base_units_per_million * model.population.sum() / 1e6))
        model.police = [Police(model, funded=False) for _ in range(base)]
    funded = int(round(model.funded_units * model.scale))
    military = int(round(funded * model.p.policy.military_share))
    for force, want in (("police", funded - military), ("military", military)):
        have = [u for u in model.police if u.funded and u.operation is None and u.force == force]
        _retire(model, have[want:])
        model.police += [Police(model, funded=True, force=force) for _ in range(want - len(have))]


class Police(CellAgent):
    """One unit. ``funded``: paid by the pillar's budget or sent by an operation (else the domestic base
    force); ``force``: police | military; ``operation``: the operation that sent it, if any."""

    def __init__(self, model: CartelModel, funded: bool, force: str = "police", operation: Operation | None = None):
        super().__init__(model)
        self.funded = funded
        self.force = force
        self.operation = operation
        self.cell = model.grid[0]
        self.node = 0  # the cell's coordinate, kept with the cell by move_to (a plain attribute: read twice a week)
        self.target = "operators"

    def move_to(self, node: int) -> None:
        """Go to ``node``: Mesa's cell and the ``node`` kept with it (a unit that stays keeps its cell,
        as Mesa's setter would). Units move only through here."""
        if self.node != node:
            self.cell = self.model.grid[node]
            self.node = node

    def step(self) -> None:
        """Arrest at the unit's plaza: members (Epstein's saturating form), crew bosses, a leader.

        A unit hunting a leader goes after the leader alone; the others arrest members and, if they
        target operators or violence, crew bosses.

        Members: each is caught with P = 1 - exp(-k x strength x effort / members in view). Crew
        bosses (units targeting operators or violence): each is caught with
        P = 1 - exp(-operator_exposure x effort / crews in view), so a unit takes about as many bosses
        in a state as in a municipality; each loss opens a local succession (:func:`sim.crews.lose_boss`).
        Leaders (units hunting them): each leader at the node is captured or killed with
        P = (1 - exp(-leader_exposure x effort / protection)) x (1 - leak), worked out once a week per
        node, force and funding (:meth:`_hunt_odds`, kept in ``model.hunt_odds`` until the next
        :func:`locate_leaders`).
        """
        model = self.model
        node = self.node
        if self.target == "leaders":  # hunting a leader: no sweep, no crew bosses (and no draws without one here)
            key = (node, self.force, self.funded)
            targets = model.hunt_odds.get(key)
            if targets is None:
                targets = model.hunt_odds[key] = self._hunt_odds(node, model.leaders_at.get(node, ()))
            if not targets:
                return
            hunt = model.state["hunt"]
            for leader, group, p_capture in targets:
                if group.leader is leader and hunt.random() < p_capture:
                    mode = "kill" if hunt.random() < model.p.police.kill_share else "capture"
                    succession.remove_leader(model, group, mode)
            return
        cells_here = model.plazas[node]
        if not cells_here:  # nobody to arrest here: no draws
            return
        cells_here = list(cells_here.values())
        pp = model.p.police
        effort, _ = self.effort(node)
        rng = model.state["arrests"]
        in_view = max(model.members_at[node], 1.0)
        p_member = min(1.0 - np.exp(-pp.arrest_k * pp.unit_strength * effort / in_view), 1.0)
        k = model.p.military.killed_per_wounded if self.force == "military" else pp.killed_per_wounded
        p_killed = pp.confrontation_share * k / (1.0 + k)
        hunts_bosses = self.target in ("operators", "violence")
        if hunts_bosses:
            in_view_crews = sum([op.crews for op in cells_here])  # whole numbers: exact in any order
            p_boss = 1.0 - np.exp(-pp.operator_exposure * effort / max(in_view_crews, 1))
        binomial = rng.binomial
        people = model.people
        for op in cells_here:
            if not op.active or op.members <= 0:
                continue
            caught = int(binomial(op.members, p_member))
            if caught:
                killed = int(binomial(caught, p_killed))
                if killed:  # (no one killed changes nothing: the cell's guns are multiplied by 1.0)
                    people.kill_members(op, killed, cause="security")
                people.arrest(op, caught - killed)
            if hunts_bosses and op.members > 0:
                for _ in range(int(binomial(op.crews, p_boss))):
                    if op.active and op.members > 0:
                        crews.lose_boss(model, op, rng)

    def _hunt_odds(self, node: int, leaders: list) -> list[tuple]:
        """(leader, group, P(capture)) for each of ``leaders`` (at ``node``, in order) facing a unit of
        this force and funding this week. Worked out once a week per node, force and funding: the
        effort and leak depend on the node's corruption, the vetting and the intelligence, the
        protection on the group's size at the last census (``Group.size``); none of them change
        while the units act (a leader's group never changes). P is kept as a Python float (the same
        double: ``float`` of a numpy float64 is exact, and so is comparing it with a draw)."""
        model = self.model
        pp = model.p.police
        effort, corruption = self.effort(node)
        leak = (1.0 - model.vetted) * corruption  # the leader is warned
        targets = []
        for leader in leaders:
            group = leader.group
            protection = max(1.0, (group.size / pp.protection_size) ** pp.leader_protection)
            p_capture = (1.0 - np.exp(-pp.leader_exposure * effort / protection)) * (1.0 - leak)
            targets.append((leader, group, float(p_capture)))
        return targets

    def effort(self, node: int) -> tuple[float, float]:
        """The unit's effort at ``node`` (intelligence that reaches it, less corruption) and the
        corruption it meets there (0-1). Effort is 1 - corruption without intelligence, and exceeds 1 where
        intelligence outweighs corruption (dimensionless)."""
        model = self.model
        c = model.corruption[node]
        military = self.force == "military"
        corruption = c * model.p.military.corruption_factor if military else c
        intelligence = 1.0
        if self.funded:
            trust = model.vetted + (1.0 - model.vetted) * (1.0 - c)
            intelligence = 1.0 + (model.intelligence - 1.0) * trust
        if military:
            intelligence *= model.p.military.intelligence_factor
        return intelligence * (1.0 - corruption), corruption


def deploy(model: CartelModel) -> None:
    """Place every police unit for this week: the base force's leader hunters and, with
    ``targeting: leaders``, the funded units on the largest groups' leaders; the other base units
    where members are; other funded units by targeting."""
    members = model.members_at
    by_members = members / members.sum() if members.sum() > 0 else None
    targeting = model.p.policy.targeting
    funded = [u for u in model.police if u.funded and u.operation is None]
    base = [u for u in model.police if not u.funded]
    n_hunters = int(round(model.p.police.base_leader_share * len(base)))
    _place(model, base[n_hunters:], by_members, "operators")
    _hunt(model, base[:n_hunters] + (funded if targeting == "leaders" else []), by_members)
    if targeting == "operators":
        _place(model, funded, by_members, "operators")
    elif targeting == "violence":
        recent = model.violence_recent + 1e-9 * (members > 0)
        _place(model, funded, recent / recent.sum() if recent.sum() > 0 else by_members, "violence")
    for nodes, units in model.operations.values():
        _place_in(model, units, nodes)
    model.units_at = np.bincount([u.node for u in model.police], minlength=model.n_nodes)
    soldiers = [u.node for u in model.police if u.force == "military"]
    model.military_at = np.bincount(soldiers, minlength=model.n_nodes)
    model.military_units = len(soldiers)


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
        unit.move_to(led[k % n_targets].leader.node)


def locate_leaders(model: CartelModel) -> None:
    """Where each leader is this week (for units hunting them)."""
    model.leaders_at = {}
    model.hunt_odds = {}  # the leader hunters' odds this week, per (node, force, funded): see Police.step
    for g in model.groups.values():
        if g.leader is not None:
            model.leaders_at.setdefault(g.leader.node, []).append(g.leader)


def _place(model: CartelModel, units: list, weights: np.ndarray | None, target: str) -> None:
    if not units or weights is None:
        return
    nodes = model.state["deploy"].choice(model.n_nodes, size=len(units), p=weights)
    _move(units, nodes.tolist(), target)


def _place_in(model: CartelModel, units: list, nodes: np.ndarray) -> None:
    """An operation's units over its nodes, where members are (by population where there are none)."""
    weights = model.members_at[nodes]
    if weights.sum() <= 0:
        weights = model.population[nodes]
    picks = model.state["deploy"].choice(nodes, size=len(units), p=weights / weights.sum())
    _move(units, picks.tolist(), "operators")


def _move(units: list, nodes: list[int], target: str) -> None:
    """Send each unit to its node with its target."""
    for unit, j in zip(units, nodes):
        unit.target = target
        unit.move_to(j)


def start_operation(model: CartelModel, op: Operation, nodes: list[int]) -> None:
    """Send an operation's units (created for it, paid outside the budget) to its nodes."""
    if not nodes:
        return
    units = [Police(model, funded=True, force=op.force, operation=op) for _ in range(op.units)]
    model.police += units
    model.operations[id(op)] = (np.array(nodes), units)


def end_operation(model: CartelModel, op: Operation) -> None:
    """Withdraw an operation's units."""
    _retire(model, model.operations.pop(id(op), (None, []))[1])


