"""The middle layer: crews and their bosses, and what happens to a crew that loses its boss.

A group's command runs from its leader through its operators (one per plaza, :class:`MiddleOperator`)
to their crews: a cell of m members has ceil(m / ``crew_size``) crews, each under a boss. When the
police arrest a crew boss (:meth:`sim.pillars.disruption.Police.step`), the boss and ``Poisson(boss_crew)``
associates go to court and the rest of the crew faces a local succession (Phillips 2015: arresting
mid-level operators weakens a group's capacity; Jones 2013: lieutenants hold their own crews):

1. **stays** under a new boss the group sends, with probability ``loyalty x command``, where
   command = (1 if the group has a leader, else ``headless_command``) x size / (size + ``command_half``):
   a led, large group replaces bosses; a leaderless or small one often cannot;
2. otherwise the crew breaks away. With probability ``rivals`` (the share of members of other groups
   among all members at the node and its neighbours) it **defects** to the strongest rival nearby,
   taking its guns; else, with probability ``crew_autonomy x min(1, guns per member)``, its
   second-in-command **splits off** as a new group's leader (a splinter at the same plaza, facing its
   parent); else it **drifts home** (members back to the community, their guns lost).

So arresting operators in a led group mostly thins it, while arresting them in a leaderless group,
or where rivals are close, moves members to rivals and, now and then, starts splinters. Nothing here
says which: it follows from loyalty, command, rivals and guns at the place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .agents import MiddleOperator
    from .groups import Group
    from .model import CartelModel


def lose_boss(model: CartelModel, op: MiddleOperator, state_rng: np.random.Generator) -> None:
    """The police take one of ``op``'s crew bosses (and associates); the rest of the crew decides."""
    crew = int(round(op.members / op.crews))
    taken = min(crew, 1 + int(state_rng.poisson(model.p.police.boss_crew)))
    model.operators_arrested += 1
    op.cash *= 1.0 - crew / max(op.members, 1)  # the crew's share of the cell's cash is seized
    model.people.arrest(op, taken)
    left = min(crew - taken, op.members)
    if left > 0:
        local_succession(model, op, left)
    if op.members <= 0:
        op.dissolve()


def command(model: CartelModel, group: Group) -> float:
    """How surely the group replaces a lost crew boss (0-1): led or not, and its size."""
    cp = model.p.cartels
    led = 1.0 if group.leader is not None else cp.headless_command
    return led * group.size / (group.size + cp.command_half)


def rivals_nearby(model: CartelModel, op: MiddleOperator) -> tuple[float, Group | None]:
    """Share of other groups' members among all members at ``op``'s node and its neighbours, and the
    rival group with the most members there (None when there is none)."""
    own, by_group = 0.0, {}
    for k in [op.node, *model.neighbours[op.node]]:
        for gid, cell in model.plazas[k].items():
            if cell.group is op.group:
                own += cell.members
            else:
                by_group[gid] = by_group.get(gid, 0.0) + cell.members
    other = sum(by_group.values())
    if other <= 0:
        return 0.0, None
    best = max(by_group, key=by_group.get)
    return other / (own + other), model.groups.get(best)


def local_succession(model: CartelModel, op: MiddleOperator, crew: int) -> str:
    """Settle the fate of ``crew`` members of ``op``'s cell whose boss is gone; returns the outcome."""
    cp, rng = model.p.cartels, model.world["crews"]
    if rng.random() < op.loyalty * command(model, op.group):
        outcome = "stayed"
    else:
        share, rival = rivals_nearby(model, op)
        if rival is not None and rng.random() < share:
            _move(model, op, crew, rival)
            outcome = "defected"
        elif crew >= 2 and rng.random() < cp.crew_autonomy * min(1.0, op.guns / max(op.members, 1)):
            _splinter(model, op, crew)
            outcome = "splintered"
        else:
            _go_home(model, op, crew)
            outcome = "dissolved"
    model.crews[outcome] += 1
    return outcome


def _take(op: MiddleOperator, crew: int) -> float:
    """Remove ``crew`` members from the cell; returns the guns they carry."""
    guns = op.guns * crew / max(op.members, 1)
    op.guns -= guns
    op.members -= crew
    return guns


def _move(model: CartelModel, op: MiddleOperator, crew: int, rival: Group) -> None:
    from .agents import MiddleOperator

    guns = _take(op, crew)
    cell = rival.plazas.get(op.node)
    if cell is not None:
        cell.members += crew
        cell.guns += guns
    else:
        MiddleOperator(model, rival, op.node, crew, guns=guns, loyalty=op.loyalty)


def _splinter(model: CartelModel, op: MiddleOperator, crew: int) -> None:
    from .agents import CartelLeader, MiddleOperator

    guns = _take(op, crew)
    splinter = model.new_group(parent=op.group.gid)
    model.splinters += 1
    MiddleOperator(model, splinter, op.node, crew - 1, guns=guns, loyalty=model.p.cartels.loyalty_mean)
    splinter.size = crew - 1
    CartelLeader(model, splinter, op.node)  # the crew's second-in-command


def _go_home(model: CartelModel, op: MiddleOperator, crew: int) -> None:
    _take(op, crew)
    model.people.go_home(op.node, crew)
