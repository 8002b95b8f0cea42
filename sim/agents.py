"""The cartels' Mesa agents and their rules (the state's agents belong to the pillars, :mod:`sim.pillars`).

- :class:`CartelLeader` heads one group: bribes officials, directs expansion, may have a successor.
- :class:`MiddleOperator` holds one plaza (node) for its group with a cell of members, guns, cash
  and loyalty; may abandon the plaza or defect. Its cell is organised in crews of about
  ``cartels.crew_size`` members, each under a crew boss (the middle layer, :mod:`sim.crews`).

Processes that touch every cell at once (income, recruitment, fights) are written vectorised in
:mod:`sim.cells` and :mod:`sim.conflict`; the agents here make the discrete decisions. Units: people are counts, money US$ millions, time weeks.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from mesa.discrete_space import CellAgent

from . import conflict, succession
from .roster import column

if TYPE_CHECKING:
    from .groups import Group
    from .model import CartelModel


class CartelLeader(CellAgent):
    """The head of a group. ``has_successor``: an accepted heir exists (drawn at appointment)."""

    def __init__(self, model: CartelModel, group: Group, node: int):
        super().__init__(model)
        self.group = group
        self.node = node
        self.cell = model.grid[node]
        self.since = model.week
        self.has_successor = bool(model.world["succession"].random() < model.p.cartels.succession_clarity)
        group.leader = self
        group.headless_since = -1

    def step(self) -> None:
        if self.group.leader is not self:
            return
        self.bribe()
        self.direct_expansion()

    def bribe(self) -> None:
        """Spend ``bribe_share`` of the war chest on officials where the group's cells are."""
        spend = self.model.p.cartels.bribe_share * self.group.cash
        if spend <= 0:
            return
        self.group.cash -= spend
        ops = self.group.plazas.values()
        weights = np.array([op.members for op in ops], dtype=float)
        total = weights.sum()
        if total <= 0:
            return
        nodes = np.array([op.node for op in ops], dtype=np.int64)
        np.add.at(self.model.bribes, nodes, spend * weights / total)

    def direct_expansion(self) -> None:
        """Order Poisson(rate x plazas) attempts to take neighbouring plazas; a splinter in its first
        year pushes harder: rate x (1 + splinter_push). A cell is ready once it has
        ``expansion_min_fill`` of a municipality-sized plaza's capacity at its node."""
        model, cp, group = self.model, self.model.p.cartels, self.group
        rng = model.world["expansion"]
        young_splinter = group.parent >= 0 and model.week - group.founded < 52
        rate = cp.expansion_rate * (1.0 + cp.splinter_push * young_splinter)
        attempts = rng.poisson(rate * len(self.group.plazas))
        if attempts == 0:
            return
        needed = _members_to_expand(model)  # a cell is ready to expand with at least needed[its node] members
        ready = [op for op in self.group.plazas.values() if op.members >= needed[op.node]]
        for _ in range(min(attempts, len(ready))):
            op = ready[int(rng.integers(len(ready)))]
            if op.active and op.members >= needed[op.node]:
                conflict.expand(model, op, rng)

    def leave(self) -> None:
        """Leave office (arrest, death); the group is left to :mod:`sim.succession`."""
        if self.group.leader is self:
            self.group.leader = None
        self.remove()


def _members_to_expand(model: CartelModel) -> list[float]:
    """Per node, the members a cell needs to be ready to expand: ``expansion_min_fill`` x a plaza's
    capacity (a share of one plaza's capacity, so the rule holds at any resolution), worked out once a week."""
    fill = model.p.cartels.expansion_min_fill
    key = (model.week, fill, id(model.plaza_capacity))
    cached = getattr(model, "_members_to_expand", None)
    if cached is None or cached[0] != key:
        cached = model._members_to_expand = (key, (fill * model.plaza_capacity).tolist())
    return cached[1]


class MiddleOperator(CellAgent):
    """Holds a plaza (its node) for its group.

    ``members`` (cell size, persons), ``guns``, ``cash`` (US$ M), ``loyalty`` to the leader (0-1),
    ``open_homicides`` (killings by the cell not yet charged to anyone), ``need`` (0-1: how short
    of its wage bill its drug income leaves it; drives extortion, :func:`sim.conflict.predation`).
    """

    def __init__(self, model: CartelModel, group: Group, node: int, members: int,
                 guns: float = 0.0, cash: float = 0.0, *, loyalty: float):
        super().__init__(model)
        self.group = group
        self.node = node
        self.cell = model.grid[node]
        self.row = model.roster.add(self, node, group.gid)  # its row in the roster of cells (sim/roster.py)
        self.members = int(members)
        self.guns = float(guns)
        self.cash = float(cash)
        self.loyalty = float(loyalty)
        self.open_homicides = 0
        self.need = 1.0
        self.active = True
        group.plazas[node] = self
        model.plazas[node][group.gid] = self

    cash = column("cash", "Cash the cell holds (US$ M).")
    loyalty = column("loyalty", "Loyalty to the group's leader (0-1).")
    need = column("need", "How short of its wage bill the cell's drug income leaves it (0-1).")

    @property
    def crews(self) -> int:
        """Crews in the cell, each under its own boss: ceil(members / crew_size), at least 1."""
        return max(1, math.ceil(self.members / self.model.p.cartels.crew_size))  # ceil is exact: as np.ceil

    @staticmethod
    def decide_all(model: CartelModel) -> None:
        """Every cell's weekly decision, drawn at once; only the cells that act cost anything.

        A cell smaller than ``retreat_fill`` of a municipality-sized plaza's capacity at its node
        abandons its plaza. In a leaderless group the
        contenders (its largest cells' bosses) defect with probability ``defection_rate x (1 - loyalty)``;
        under a leader any boss may, with ``weak_leader_defection x (1 - loyalty) x`` its cell's size
        relative to the group's mean cell. Cells that act do so in random order.
        """
        cp, ops = model.p.cartels, model._active()
        if not ops:
            return
        contenders = {id(o) for g in model.groups.values() if g.leader is None for o in g.contenders}
        gid = model.roster.gids()
        members = np.array([o.members for o in ops], np.float64)
        loyalty = model.roster.loyalty[model.roster.rows()]
        plazas, size, headless = np.zeros(model._next_gid), np.zeros(model._next_gid), np.zeros(model._next_gid, bool)
        for g in model.groups.values():  # each group's plazas, size and leader, then each cell's group's
            plazas[g.gid], size[g.gid], headless[g.gid] = len(g.plazas), g.size, g.leader is None
        plazas, size, headless = plazas[gid], size[gid], headless[gid]
        contender = (np.array([id(o) in contenders for o in ops], np.float64) if contenders
                     else np.zeros(len(ops)))
        capacity = model.plaza_capacity[model.roster.nodes()]
        relative = members / np.maximum(size / np.maximum(plazas, 1.0), 1.0)
        p_defect = np.where(headless, cp.defection_rate * contender, cp.weak_leader_defection * relative)
        p_defect *= (1.0 - loyalty) * (plazas >= 2)
        retreat = members < cp.retreat_fill * capacity
        rng = model.world["decisions"]
        defect = rng.random(len(ops)) < p_defect
        acting = [(o, bool(r), o.group) for o, r, d in zip(ops, retreat, defect) if r or d]
        for k in rng.permutation(len(acting)).tolist():
            op, retreats, group = acting[k]
            if not op.active:
                continue
            if retreats:
                op.dissolve()
            elif op.group is group and len(group.plazas) >= 2:  # not carried off by another's defection
                succession.defect(model, op, rng)

    def transfer(self, group: Group) -> None:
        """Change allegiance to ``group`` (splinter or absorption), keeping the plaza, cell and stocks."""
        del self.group.plazas[self.node]
        del self.model.plazas[self.node][self.group.gid]
        other = group.plazas.get(self.node)
        if other is not None:  # the new group already holds this plaza: merge cells
            other.members += self.members
            other.guns += self.guns
            other.cash += self.cash
            other.open_homicides += self.open_homicides
            self.active = False
            self.model.roster.drop(self.row)
            self.remove()
            return
        self.group = group
        self.model.roster.regroup(self.row, group.gid)
        group.plazas[self.node] = self
        self.model.plazas[self.node][group.gid] = self

    def dissolve(self) -> None:
        """Give up the plaza: members go home to the community, guns are lost."""
        if not self.active:
            return
        self.active = False
        self.model.roster.drop(self.row)
        self.model.people.go_home(self.node, self.members)
        self.members = 0
        del self.group.plazas[self.node]
        del self.model.plazas[self.node][self.group.gid]
        self.remove()
