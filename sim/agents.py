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
from operator import attrgetter
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
        """This leader's week alone (the model steps all leaders at once: :meth:`step_all`)."""
        CartelLeader.step_all(self.model, [self])

    @staticmethod
    def step_all(model: CartelModel, leaders: list[CartelLeader]) -> None:
        """The leaders' week, in the order given: each group's head bribes officials where the group's
        cells are, then orders expansion (:class:`_LeadersWeek`); a leader who no longer heads its
        group does nothing.

        The groups' cells are read once, and all the bribes are paid before the first expansion: the
        same as bribing and expanding leader by leader, since a group's bribe and the readiness of its
        cells read only its own cells (members, nodes) and war chest, an expansion changes only the
        expanding group's cells (it moves members from one of them to a new one) and no chest, and
        each group bribes before it expands.
        """
        heads = [leader for leader in leaders if leader.group.leader is leader]
        if heads:
            week = _LeadersWeek([leader.group for leader in heads])
            week.bribe(model)
            week.expand(model)

    def leave(self) -> None:
        """Leave office (arrest, death); the group is left to :mod:`sim.succession`."""
        if self.group.leader is self:
            self.group.leader = None
        self.remove()


def _members_to_expand(model: CartelModel) -> np.ndarray:
    """Per node, the members a cell needs to be ready to expand: ``expansion_min_fill`` x a plaza's
    capacity (a share of one plaza's capacity, so the rule holds at any resolution)."""
    return model.p.cartels.expansion_min_fill * model.plaza_capacity


class _LeadersWeek:
    """The leaders' bribes and expansion orders of one week, over the cells of the groups whose
    leaders act (in the leaders' order; each group's cells in its ``plazas`` order), read once: their
    members (as floats) and nodes."""

    __slots__ = ("groups", "ops", "counts", "members", "nodes")

    def __init__(self, groups: list[Group]):
        self.groups = groups
        self.ops = ops = [op for g in groups for op in g.plazas.values()]
        self.counts = [len(g.plazas) for g in groups]
        self.members = np.array([op.members for op in ops], dtype=float)
        self.nodes = np.array([op.node for op in ops], dtype=np.int64)

    def bribe(self, model: CartelModel) -> None:
        """Each group spends ``bribe_share`` of its war chest, if positive, on officials where its cells
        are, in proportion to each cell's members (nothing where the group has no members; the chest is
        spent all the same): ``spend x members / total`` per cell, the same operations on the same
        doubles as one group at a time (a group's total is a sum of whole numbers, exact in any order),
        added with one ``np.add.at`` (unbuffered: each node's bribes are summed in the groups' order)."""
        share, groups = model.p.cartels.bribe_share, self.groups
        spends = []
        for g in groups:
            spend = share * g.cash
            if not spend <= 0:
                g.cash -= spend
            spends.append(spend)
        group_of = np.repeat(np.arange(len(groups)), self.counts)  # the group of each cell
        totals = np.bincount(group_of, weights=self.members, minlength=len(groups))
        spends = np.array(spends, dtype=float)
        pays = (~(spends <= 0) & ~(totals <= 0))[group_of]  # cells of a group with something to spend and members
        at = group_of[pays]
        np.add.at(model.bribes, self.nodes[pays], spends[at] * self.members[pays] / totals[at])

    def expand(self, model: CartelModel) -> None:
        """Each group in turn orders Poisson(rate x plazas) attempts (``expansion`` stream) to take
        neighbouring plazas, rate = ``expansion_rate``, x (1 + ``splinter_push``) for a splinter in its
        first year. Each attempt starts from one of the group's ready cells, drawn uniformly (at least
        ``expansion_min_fill`` of a plaza's capacity at its node: :func:`_members_to_expand`; still
        ready when its turn comes), and is taken up by :func:`sim.conflict.expand`. The ready cells
        are found for all groups at once, which is the same: other groups' expansions do not change them."""
        cp, rng = model.p.cartels, model.world["expansion"]
        needed = _members_to_expand(model)[self.nodes]
        ready = np.flatnonzero(self.members >= needed)  # positions of the ready cells, group by group
        needed = needed[ready]
        bounds = np.searchsorted(ready, np.cumsum([0, *self.counts])).tolist()  # each group's slice of ready
        for k, group in enumerate(self.groups):
            young_splinter = group.parent >= 0 and model.week - group.founded < cp.splinter_youth_weeks
            rate = cp.expansion_rate * (1.0 + cp.splinter_push * young_splinter)
            attempts = rng.poisson(rate * self.counts[k])
            if attempts == 0:
                continue
            first, n = bounds[k], bounds[k + 1] - bounds[k]
            for _ in range(min(attempts, n)):
                i = first + int(rng.integers(n))
                op = self.ops[ready.item(i)]
                if op.active and op.members >= needed.item(i):
                    conflict.expand(model, op, rng)


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
        gid = model.roster.gids()
        members = np.array([o.members for o in ops], np.float64)
        loyalty = model.roster.loyalty[model.roster.rows()]
        plazas = model.per_group(lambda g: len(g.plazas))[gid]
        size = model.per_group(attrgetter("size"))[gid]
        headless = model.per_group(attrgetter("headless"), bool)[gid]
        contender = np.zeros(len(ops))  # 1 for a contender in an open succession (by its row in the roster)
        contenders = [o.row for g in model.groups.values() if g.leader is None for o in g.contenders if o.active]
        contender[np.searchsorted(model.roster.rows(), contenders)] = 1.0
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
