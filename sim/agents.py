"""The five Mesa agent types and their rules.

- :class:`CartelLeader` heads one group: bribes officials, directs expansion, may have a successor.
- :class:`MiddleOperator` holds one plaza (node) for its group with a cell of members, guns, cash
  and loyalty; may abandon the plaza or defect. Its cell is organised in crews of about
  ``cartels.crew_size`` members, each under a crew boss (the middle layer, :mod:`sim.crews`).
- :class:`Police` is one unit placed each week by the policy; arrests at its plaza.
- :class:`Court` (one per state) works through a backlog of arrested people with limited capacity.
- :class:`Community` (one per node) holds residents, resilience and legal opportunity.

Processes that touch every cell or community at once (income, recruitment, fights) are written
vectorised in :mod:`sim.cells`, :mod:`sim.conflict` and :meth:`Community.update_all`; the agents
here make the discrete decisions. Units: people are counts, money US$ millions, time weeks.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import numpy as np
from mesa.discrete_space import CellAgent, FixedAgent

from . import conflict, crews, succession

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
        ops = list(self.group.plazas.values())
        weights = np.array([op.members for op in ops], dtype=float)
        if weights.sum() <= 0:
            return
        nodes = np.fromiter((op.node for op in ops), dtype=np.int64, count=len(ops))
        np.add.at(self.model.bribes, nodes, spend * weights / weights.sum())

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
        ready = [op for op in self.group.plazas.values() if op.ready_to_expand]
        for _ in range(min(attempts, len(ready))):
            op = ready[int(rng.integers(len(ready)))]
            if op.active and op.ready_to_expand:
                conflict.expand(model, op, rng)

    def leave(self) -> None:
        """Leave office (arrest, death); the group is left to :mod:`sim.succession`."""
        if self.group.leader is self:
            self.group.leader = None
        self.remove()


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
        self.members = int(members)
        self.guns = float(guns)
        self.cash = float(cash)
        self.loyalty = float(loyalty)
        self.open_homicides = 0
        self.need = 1.0
        self.active = True
        group.plazas[node] = self
        model.plazas[node][group.gid] = self

    @property
    def crews(self) -> int:
        """Crews in the cell, each under its own boss: ceil(members / crew_size), at least 1."""
        return max(1, int(np.ceil(self.members / self.model.p.cartels.crew_size)))

    @property
    def ready_to_expand(self) -> bool:
        model = self.model
        return self.members >= model.p.cartels.expansion_min_fill * model.plaza_capacity[self.node]

    @staticmethod
    def decide_all(model: CartelModel) -> None:
        """Every cell's weekly decision, drawn at once; only the cells that act cost anything.

        A cell smaller than ``retreat_fill`` of a municipality-sized plaza's capacity at its node
        abandons its plaza. In a leaderless group the
        contenders (its largest cells' bosses) defect with probability ``defection_rate x (1 - loyalty)``;
        under a leader any boss may, with ``weak_leader_defection x (1 - loyalty) x`` its cell's size
        relative to the group's mean cell. Cells that act do so in random order.
        """
        cp, ops = model.p.cartels, model.active_operators()
        if not ops:
            return
        contenders = {id(o) for g in model.groups.values() if g.leader is None for o in g.contenders}
        rows = np.array([(o.members, o.loyalty, len(o.group.plazas), o.group.size, o.group.leader is None,
                          id(o) in contenders, model.plaza_capacity[o.node]) for o in ops], dtype=np.float64)
        members, loyalty, plazas, size = rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3]
        headless, contender = rows[:, 4] > 0, rows[:, 5]
        relative = members / np.maximum(size / np.maximum(plazas, 1.0), 1.0)
        p_defect = np.where(headless, cp.defection_rate * contender, cp.weak_leader_defection * relative)
        p_defect *= (1.0 - loyalty) * (plazas >= 2)
        retreat = members < cp.retreat_fill * rows[:, 6]
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
            self.remove()
            return
        self.group = group
        group.plazas[self.node] = self
        self.model.plazas[self.node][group.gid] = self

    def dissolve(self) -> None:
        """Give up the plaza: members go home to the community, guns are lost."""
        if not self.active:
            return
        self.active = False
        self.model.residents[self.node] += self.members
        self.members = 0
        del self.group.plazas[self.node]
        del self.model.plazas[self.node][self.group.gid]
        self.remove()


class Police(CellAgent):
    """One police unit. ``funded``: paid by the policy's pillar-1 budget (else domestic base force)."""

    def __init__(self, model: CartelModel, funded: bool):
        super().__init__(model)
        self.funded = funded
        self.cell = model.grid[0]
        self.target = "operators"

    def step(self) -> None:
        """Arrest at the unit's plaza: members (Epstein's saturating form), crew bosses, a leader.

        A unit hunting a leader goes after the leader alone; the others arrest members and, if they
        target operators or violence, crew bosses.

        Members: each is caught with P = 1 - exp(-k x strength x effort / members in view). Crew
        bosses (units targeting operators or violence): each is caught with
        P = 1 - exp(-operator_exposure x effort / crews in view), so a unit takes about as many bosses
        in a state as in a municipality; each loss opens a local succession (:func:`sim.crews.lose_boss`).
        """
        model = self.model
        pp = model.p.police
        node = self.cell.coordinate
        effort = (model.intelligence if self.funded else 1.0) * (1.0 - model.corruption[node])
        rng = model.state["arrests"]
        cells_here = list(model.plazas[node].values())
        in_view = max(model.members_at[node], 1.0)
        p_member = min(1.0 - np.exp(-pp.arrest_k * pp.unit_strength * effort / in_view), 1.0)
        hunts_bosses = self.target in ("operators", "violence")
        if hunts_bosses:
            in_view_crews = sum(op.crews for op in cells_here)
            p_boss = 1.0 - np.exp(-pp.operator_exposure * effort / max(in_view_crews, 1))
        sweeps = self.target != "leaders"  # units hunting a leader do not sweep up the rank and file
        for op in cells_here:
            if not op.active or op.members <= 0:
                continue
            caught = int(rng.binomial(op.members, p_member)) if sweeps else 0
            if caught:
                model.arrest(op, caught)
            bosses = int(rng.binomial(op.crews, p_boss)) if hunts_bosses and op.members > 0 else 0
            for _ in range(bosses):
                if op.active and op.members > 0:
                    crews.lose_boss(model, op, rng)
        if self.target == "leaders":
            hunt = model.state["hunt"]
            for leader in list(model.leaders_at.get(node, ())):
                protection = max(1.0, (leader.group.size / 1000.0) ** pp.leader_protection)
                p_capture = 1.0 - np.exp(-pp.leader_exposure * effort / protection)
                if leader.group.leader is leader and hunt.random() < p_capture:
                    mode = "kill" if hunt.random() < pp.kill_share else "capture"
                    succession.remove_leader(model, leader.group, mode)


class Court(FixedAgent):
    """The courts (prosecutors and judges) of one state: a first-in first-out backlog, prison, release.

    A case is ``[node, group id, persons, homicides, week filed]`` (group id -1: suspects of
    ordinary homicides). Each week ``capacity`` persons are tried; each is convicted with
    probability ``conviction`` (lower where officials are corrupt) and serves ``sentence_weeks``;
    a homicide charge ends in a conviction when its defendant is convicted. People who have waited
    ``max_pretrial_weeks`` are released untried. The acquitted, the untried and the released return
    to crime (``return_to_crime``) or go home.
    """

    def __init__(self, model: CartelModel, state: str, node: int, population: float):
        super().__init__(model)
        self.state = state
        self.cell = model.grid[node]
        self.population = population
        self.backlog: deque[list[int]] = deque()
        self.waiting = 0  # persons in the backlog
        self.prison: dict[int, list[tuple[int, int, int]]] = {}  # release week -> [(node, gid, persons)]
        self.imprisoned = 0  # persons serving a sentence

    @property
    def capacity(self) -> int:
        """Persons tried per week."""
        return int(self.model.p.court.capacity_per_million * self.population / 1e6 * self.model.court_boost) or 1

    def file(self, node: int, gid: int, persons: int, homicides: int = 0) -> None:
        self.backlog.append([node, gid, persons, homicides, self.model.week])
        self.waiting += persons

    def step(self) -> None:
        model = self.model
        rng = model.state["courts"]
        too_old = model.week - model.p.court.max_pretrial_weeks
        while self.backlog and self.backlog[0][4] <= too_old:
            node, gid, persons, _, _ = self.backlog.popleft()
            self.waiting -= persons
            model.released_untried += persons
            model.release(node, gid, persons)
        todo = self.capacity
        while todo > 0 and self.backlog:
            case = self.backlog[0]
            n = min(todo, case[2])
            charges = int(rng.binomial(case[3], n / case[2])) if case[3] else 0
            case[2] -= n
            case[3] -= charges
            todo -= n
            self.waiting -= n
            if case[2] == 0:
                self.backlog.popleft()
            p_conv = min(1.0, model.conviction * (1.0 - model.corruption[case[0]]))
            convicted = int(rng.binomial(n, p_conv))
            model.convictions += convicted
            if charges:
                model.homicide_convictions += int(rng.binomial(charges, convicted / n))
            if convicted:
                release = model.week + model.p.court.sentence_weeks
                self.prison.setdefault(release, []).append((case[0], case[1], convicted))
                self.imprisoned += convicted
            model.release(case[0], case[1], n - convicted)
        for node, gid, persons in self.prison.pop(model.week, ()):
            self.imprisoned -= persons
            model.release(node, gid, persons)


class Community(FixedAgent):
    """The residents of one node. State lives in the model's per-node arrays (read through properties)."""

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

    @staticmethod
    def update_all(model: CartelModel) -> None:
        """Weekly, for every node at once: violence erodes resilience, which relaxes toward its
        target; prevention raises the target with diminishing returns; corruption follows bribes."""
        cp, pp = model.p.community, model.p.police
        per_10k = model.homicides / np.maximum(model.population / 1e4, 1e-9)
        target = model.resilience0 + (1 - model.resilience0) * model.prevention_lift
        model.resilience += cp.resilience_recovery * (target - model.resilience) - cp.violence_erosion * per_10k
        np.clip(model.resilience, 0.0, 1.0, out=model.resilience)
        pop_m = np.maximum(model.population / 1e6, 1e-6)
        c = model.corruption
        c += pp.bribe_effect * model.bribes / pop_m * (1 - c) - model.vetting * c + 0.005 * (model.corruption0 - c)
        np.clip(c, 0.0, 1.0, out=c)
        model.bribes[:] = 0.0
