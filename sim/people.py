"""Where every person is: the one owner of the per-node people arrays and of their conservation.

A person is a resident of a node, a member of a cell (:class:`sim.agents.MiddleOperator`), a leader,
in court or in prison (:mod:`sim.pillars.rule_of_law`), or dead. Every move between these places goes
through a method here, so that :meth:`People.total` is constant during a run (a test checks it).
Deaths are counted by cause (:data:`CAUSES`), per node (``homicides``) and in all (``dead``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .agents import MiddleOperator
    from .model import CartelModel

CAUSES = ("members", "bystanders", "predation", "leaders", "security", "background")  # homicides by cause


class People:
    """Residents per node (persons), this week's homicides per node and by cause, the dead."""

    def __init__(self, model: CartelModel, residents: np.ndarray):
        self.model = model
        self.residents = residents
        self.dead = 0
        self.new_week()

    def new_week(self) -> None:
        """Zero this week's counts."""
        self.homicides = np.zeros(len(self.residents), np.int64)
        self.killed = dict.fromkeys(CAUSES, 0)
        self.arrested = 0

    def _died(self, node: int, n: int, cause: str) -> None:
        self.homicides[node] += n
        self.killed[cause] += n
        self.dead += n

    # -- residents joining or leaving the organisations --------------------------------------
    def recruit(self, nodes: np.ndarray, recruits: np.ndarray, exits: np.ndarray) -> None:
        """Residents of ``nodes`` join cells (``recruits``); members leave them for home (``exits``)."""
        np.add.at(self.residents, nodes, exits - recruits)

    def join(self, node: int, persons: int) -> None:
        """Residents of ``node`` join a cell (the caller adds them to it)."""
        self.residents[node] -= persons

    def go_home(self, node: int, persons: int) -> None:
        """Members (or a leader) of ``node`` leave the organisation and live there as residents."""
        self.residents[node] += persons

    def promote(self, cell: MiddleOperator) -> None:
        """One person of ``cell`` (or, if it is empty, a resident of its node) becomes a leader."""
        if cell.members > 0:
            cell.members -= 1
        else:
            self.residents[cell.node] -= 1

    # -- deaths ---------------------------------------------------------------------------
    def kill_members(self, op: MiddleOperator, deaths: int, cause: str = "members") -> int:
        """Members of ``op``'s cell killed (by rivals, or by the security forces: ``cause`` security)."""
        deaths = _thin(op, deaths)
        self._died(op.node, deaths, cause)
        return deaths

    def kill_members_of(self, cells: list[MiddleOperator], deaths: list[int], cause: str = "members") -> None:
        """:meth:`kill_members` of ``cells[k]``, ``deaths[k]`` (Python ints) for each k in order: each
        cell's members and guns change by the same operations on the same values; the deaths are
        counted once, as whole numbers (exact in any order)."""
        nodes, died = [], []
        for op, n in zip(cells, deaths):
            nodes.append(op.node)
            died.append(_thin(op, n))
        if died:
            np.add.at(self.homicides, nodes, died)
            total = sum(died)
            self.killed[cause] += total
            self.dead += total

    def kill_civilians(self, node: int, victims: int, cause: str) -> int:
        """Residents of ``node`` killed by cartel violence (``cause``: bystanders | predation); returns how many."""
        victims = int(min(victims, self.residents[node]))
        self.residents[node] -= victims
        self._died(node, victims, cause)
        return victims

    def kill_civilians_at(self, nodes: np.ndarray, victims: np.ndarray, cause: str) -> np.ndarray:
        """:meth:`kill_civilians` of ``nodes[k]``, ``victims[k]`` for k = 0, 1, ... in order, at once;
        returns how many died of each entry (int64).

        The same counts: where a node's residents R are a whole number >= 0 (as they are: they start
        rounded and change by whole persons), the entries at one node take, in order, min(c_k, R) -
        min(c_k-1, R) victims, c_k the node's running total of victims, which is what the calls one
        by one leave them; residents, homicides and the dead change by the same whole numbers (exact in
        any order). Anywhere else (no such case is known) the calls are made one by one."""
        nodes = np.asarray(nodes, np.int64)
        victims = np.asarray(victims, np.int64)
        if len(nodes) == 0:
            return np.zeros(0, np.int64)
        here = self.residents[nodes]
        if not ((here >= 0).all() and (here == np.floor(here)).all() and (victims >= 0).all()):
            return np.array([self.kill_civilians(j, v, cause) for j, v in zip(nodes.tolist(), victims.tolist())], np.int64)
        order = np.argsort(nodes, kind="stable")
        at, wanted = nodes[order], victims[order]
        starts, sizes = runs(at)
        running = np.cumsum(wanted)
        running -= np.repeat(running[starts] - wanted[starts], sizes)
        residents = here[order]
        died = (np.minimum(running, residents) - np.minimum(running - wanted, residents)).astype(np.int64)
        killed = np.empty_like(died)
        killed[order] = died
        per_node, where = np.add.reduceat(died, starts), at[starts]
        self.residents[where] -= per_node
        self.homicides[where] += per_node
        total = int(per_node.sum())
        self.killed[cause] += total
        self.dead += total
        return killed

    def kill_leader(self, node: int) -> None:
        """A leader at ``node`` killed (by the state or in a fight): a homicide."""
        self._died(node, 1, "leaders")

    def background_homicides(self, rate_per_100k: float, ordinary_arrest_share: float) -> None:
        """Homicides not tied to organised crime at ``rate_per_100k`` a year (an input) on this year's
        population; victims from the world's stream, so the same under every policy. In a share
        ``ordinary_arrest_share`` of them a suspect (a resident) is arrested and tried in the state's court."""
        model = self.model
        rate = rate_per_100k / 1e5 / 52.0
        victims = np.minimum(model.world["background"].poisson(rate * model.population), self.residents).astype(np.int64)
        self.residents -= victims
        self.homicides += victims
        self.killed["background"] = int(victims.sum())
        self.dead += self.killed["background"]
        # suspects drawn only where someone was killed: binomial(0, p) takes no draw (and gives 0), so
        # the other nodes' draws are the same, in the same order
        hit = np.flatnonzero(victims)
        suspects = model.state["suspects"].binomial(victims[hit], ordinary_arrest_share)
        suspects = np.minimum(suspects, self.residents[hit].astype(np.int64))
        self.residents[hit] -= suspects  # float64 minus whole numbers, node by node: as one at a time
        at = np.flatnonzero(suspects)
        courts, nodes = model.courts, hit[at]
        for j, k, n in zip(nodes.tolist(), model.state_of[nodes].tolist(), suspects[at].tolist()):  # node order
            courts[k].file(j, -1, n, n)

    # -- the state's custody ----------------------------------------------------------------
    def arrest(self, op: MiddleOperator, persons: int) -> None:
        """Members taken into custody: guns seized in proportion, a case filed with the state's court.

        The arrested share of the cell takes the same expected share of the cell's unsolved homicides
        with it as charges (rounded at random), so courts know which cases are homicides.
        """
        persons = min(persons, op.members)
        if persons <= 0:
            return
        model = self.model
        share = persons / op.members
        charged = int(model.state["arrests"].binomial(op.open_homicides, share))
        op.open_homicides -= charged
        op.guns *= 1.0 - share
        op.members -= persons
        self.arrested += persons
        model.courts[model.state_of[op.node]].file(op.node, op.group.gid, persons, charged)

    def release(self, node: int, gid: int, persons: int) -> None:
        """People leaving court or prison: a share rejoins a cell at their node, the rest go home.

        ``gid`` -1: people charged with ordinary (non-cartel) homicides, who go home.
        """
        if persons <= 0:
            return
        if gid < 0:  # no draw and no cell: they all go home (the cell they would join is not looked up)
            self.residents[node] += persons
            return
        model = self.model
        back = int(model.state["release"].binomial(persons, model.p.court.return_to_crime))
        cells_here = model.plazas[node]
        cell = cells_here.get(gid) or (max(cells_here.values(), key=lambda o: o.members) if cells_here else None)
        if cell is None:
            back = 0
        else:
            cell.members += back
        self.residents[node] += persons - back

    def total(self) -> int:
        """Residents + members + leaders + people in court or prison + the dead: constant in a run."""
        model = self.model
        leaders = sum(1 for g in model.groups.values() if g.leader is not None)
        members = sum(o.members for o in model._active())
        in_custody = sum(c.waiting + c.imprisoned for c in model.courts)
        return int(self.residents.sum() + members + leaders + in_custody + self.dead)


def _thin(op: MiddleOperator, deaths: int) -> int:
    """Take up to ``deaths`` members out of ``op``'s cell, with their share of its guns; returns how many."""
    deaths = min(deaths, op.members)
    op.guns *= 1.0 - deaths / max(op.members, 1)
    op.members -= deaths
    return deaths


def runs(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each run of equal consecutive ``keys`` starts, and its length (``keys`` not empty)."""
    starts = np.concatenate((np.zeros(1, np.int64), np.flatnonzero(keys[1:] != keys[:-1]) + 1))
    return starts, np.concatenate((starts[1:], np.array([len(keys)]))) - starts
