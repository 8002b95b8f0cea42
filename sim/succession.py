"""Leader removal, succession and splintering (Jones 2013; Phillips 2015; Calderón et al. 2015).

- A leader removed *with* an accepted successor (drawn at appointment with probability
  ``cartels.succession_clarity``) is replaced at once from the group's largest cell: the group stays whole.
- *Without* one, the group is leaderless for ``headless_weeks``: its lieutenants fight each other
  (``internal_violence``), loyalty erodes, and each week a cell defects with probability
  ``defection_rate x (1 - loyalty)``. A defector joins a stronger neighbouring group
  (``absorb_share``) or founds a splinter, taking along neighbouring cells of its old group that are
  disloyal too (a contiguous region). Only the ``lieutenants`` bosses of the largest cells contend.
  When the interregnum ends the largest remaining cell's boss becomes leader.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import numpy as np

from .groups import Group

if TYPE_CHECKING:
    from .agents import MiddleOperator
    from .model import CartelModel


def appoint(model: CartelModel, group: Group) -> None:
    """Promote the boss of the group's largest cell to leader (one person leaves that cell)."""
    from .agents import CartelLeader

    group.contenders = []
    if not group.plazas:
        return
    cell = max(group.plazas.values(), key=lambda o: o.members)
    model.people.promote(cell)
    CartelLeader(model, group, cell.node)


def remove_leader(model: CartelModel, group: Group, mode: str, by_state: bool = True) -> None:
    """Take the group's leader out and open or settle the succession.

    ``mode``: capture (the leader goes to court) or kill (a homicide) when ``by_state``; a leader
    who dies of natural causes or retires (``by_state=False``) simply leaves.
    """
    leader = group.leader
    if leader is None:
        return
    if by_state:
        model.leaders_removed += 1
    if not by_state:  # died of natural causes or retired: out of the organisation, not a homicide
        model.people.go_home(leader.node, 1)
    elif mode == "kill":
        model.people.kill_leader(leader.node)
    else:
        model.courts[model.state_of[leader.node]].file(leader.node, group.gid, 1)
    accepted = leader.has_successor
    leader.leave()
    if accepted:
        appoint(model, group)
    else:
        group.headless_since = model.week
        group.contenders = lieutenants(group, model.p.cartels.lieutenants)
        kept = 1.0 - model.p.cartels.removal_loyalty_loss
        for op in group.plazas.values():
            op.loyalty *= kept


def defect(model: CartelModel, op: MiddleOperator, rng: np.random.Generator) -> None:
    """The cell leaves its group: absorbed by a stronger neighbour, or founding a splinter."""
    from .agents import CartelLeader

    old = op.group
    if rng.random() < model.p.cartels.absorb_share:
        near = {g.gid: g for k in model.neighbours[op.node] + [op.node] for g in
                (o.group for o in model.plazas[k].values()) if g is not old and not g.headless}
        if near:
            strongest = max(near.values(), key=lambda g: g.size)
            if strongest.size > op.members:
                op.transfer(strongest)
                return
    splinter = model.new_group(parent=old.gid)
    model.splinters += 1
    _take_region(model, op, old, splinter, rng)
    splinter.size = splinter.members
    lead_cell = max(splinter.plazas.values(), key=lambda o: o.members)
    model.people.promote(lead_cell)  # the splinter's leader is one of its members, or else a resident
    CartelLeader(model, splinter, lead_cell.node)


def _take_region(model: CartelModel, op: MiddleOperator, old: Group, splinter: Group,
                 rng: np.random.Generator) -> None:
    """The defector's cell and the contiguous disloyal cells of its old group around it join the splinter.

    A breadth-first walk over the old group's plazas from the defector: each neighbouring cell
    follows with probability 1 - loyalty, and the walk goes on only through those that follow.
    """
    op.transfer(splinter)
    frontier = deque([op.node])
    while frontier and len(old.plazas) > 1:
        node = frontier.popleft()
        for k in model.neighbours[node]:
            follower = old.plazas.get(k)
            if follower is not None and len(old.plazas) > 1 and rng.random() < 1.0 - follower.loyalty:
                follower.transfer(splinter)
                frontier.append(k)


def lieutenants(group: Group, count: int) -> list[MiddleOperator]:
    """The bosses of the group's ``count`` largest cells: the contenders in a succession."""
    return sorted(group.plazas.values(), key=lambda o: -o.members)[:count]


def update(model: CartelModel) -> None:
    """Leaderless groups: lieutenants fight; the interregnum ends with the largest cell's boss in charge.
    Leaders also die or retire outside policing (``leader_mortality`` a year)."""
    cp, rng = model.p.cartels, model.world["succession"]
    for group in list(model.groups.values()):
        if not group.alive:
            continue
        if group.headless:
            _succession_fight(model, group, rng)
            if group.alive and model.week - group.headless_since >= cp.headless_weeks:
                appoint(model, group)
        elif rng.random() < cp.leader_mortality / 52.0:
            remove_leader(model, group, "retire", by_state=False)


def _succession_fight(model: CartelModel, group: Group, rng: np.random.Generator) -> None:
    """Cells of a leaderless group clash: each loses members in proportion to its disloyalty, and
    its armed men shoot bystanders as in a fight with rivals (:mod:`sim.conflict`)."""
    from .conflict import bystanders_expected, force_multiplier, intensity, spill

    cp = model.p.cartels
    ops = [op for op in group.plazas.values() if op.members > 0]
    if not ops:
        return
    # the intensities of all the cells at once (nothing here moves the units; np.exp gives each element
    # the same value whatever the array); the bystanders one cell at a time, since a cell's spill may
    # kill residents at another's node
    levels = intensity(model, np.array([op.node for op in ops], np.int64)).tolist()
    shoot = model.world["bystanders"].poisson
    for op, level in zip(ops, levels):
        node = op.node
        level = level * cp.internal_violence * (1.0 - op.loyalty)
        q = cp.lethality * level * force_multiplier(model, op)
        deaths = model.people.kill_members(op, int(rng.binomial(op.members, min(q, cp.attrition_cap))))
        shot = int(shoot(bystanders_expected(model, node, min(op.guns, op.members), level)))  # scalars: one draw
        op.open_homicides += deaths + spill(model, node, shot)
