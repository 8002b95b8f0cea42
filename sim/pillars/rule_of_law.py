"""Pillar 2, rule of law: courts and prisons (one :class:`Court` per state), vetting against corruption.

Levers from the pillar's yearly spending S_2 (US$ M):

- court capacity x (1 + capacity_gain x S_2/100) persons tried a week;
- conviction probability x (1 + rule_of_law_gain x S_2/100) (capped at 1; lower where officials are
  corrupt);
- vetting: corruption falls by vetting_effect x S_2/100 of itself a week, while bribes raise it
  (:func:`update_corruption`); and the share of units vetted (trusted with shared intelligence, see
  :mod:`sim.pillars.disruption`) rises from ``police.vetted_base`` as v = v0 + (1 - v0) x S_2 / (S_2 + half).

Cases are filed by the units' arrests and by ordinary homicides' suspects (:mod:`sim.people`); people
leave court or prison through :meth:`sim.people.People.release`.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import numpy as np
from mesa.discrete_space import FixedAgent

if TYPE_CHECKING:
    from ..model import CartelModel


def levers(model: CartelModel, spend_musd: float) -> None:
    """Court capacity, conviction and vetting from the pillar's yearly spending (US$ M)."""
    cp = model.p.court
    model.court_boost = 1.0 + cp.capacity_gain * spend_musd / 100.0
    model.conviction = min(1.0, cp.conviction_base * (1.0 + cp.rule_of_law_gain * spend_musd / 100.0))
    pp = model.p.police
    model.vetting = pp.vetting_effect * spend_musd / 100.0
    model.vetted = pp.vetted_base + (1.0 - pp.vetted_base) * spend_musd / (spend_musd + pp.vetting_half_musd)


def open_courts(model: CartelModel) -> None:
    """One court per state, seated at its most populous node; ``model.state_of`` maps node to court."""
    states: dict[str, list[int]] = {}
    for i in range(model.n_nodes):
        states.setdefault(model.territory.nodes[i].get("state", "all"), []).append(i)
    model.courts = []
    model.state_of = np.zeros(model.n_nodes, np.int64)
    for k, (name, nodes) in enumerate(sorted(states.items())):
        seat = max(nodes, key=lambda i: model.population[i])
        model.courts.append(Court(model, name, seat, float(model.population[nodes].sum())))
        model.state_of[nodes] = k


def update_corruption(model: CartelModel) -> None:
    """Weekly at every node: bribes raise corruption, vetting cuts it, and it relaxes toward its start."""
    pp = model.p.police
    pop_m = np.maximum(model.population / 1e6, 1e-6)
    c = model.corruption
    c += (pp.bribe_effect * model.bribes / pop_m * (1 - c) - model.vetting * c
          + pp.corruption_relaxation * (model.corruption0 - c))
    np.clip(c, 0.0, 1.0, out=c)
    model.bribes[:] = 0.0


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
        week, court_p, release, backlog = model.week, model.p.court, model.people.release, self.backlog
        too_old = week - court_p.max_pretrial_weeks
        while backlog and backlog[0][4] <= too_old:
            node, gid, persons, _, _ = backlog.popleft()
            self.waiting -= persons
            model.released_untried += persons
            release(node, gid, persons)
        if backlog:
            self._try(model, week, court_p, release, backlog)
        done = self.prison.pop(week, None)
        if done:
            for node, gid, persons in done:
                self.imprisoned -= persons
                release(node, gid, persons)

    def _try(self, model: CartelModel, week: int, court_p, release, backlog: deque[list[int]]) -> None:
        """This week's trials, first in first out, up to ``capacity`` persons."""
        rng = model.state["courts"]
        binomial, conviction, corruption = rng.binomial, model.conviction, model.corruption
        todo = self.capacity
        convictions = homicide_convictions = 0
        while todo > 0 and backlog:
            case = backlog[0]
            node, gid, persons, homicides = case[0], case[1], case[2], case[3]
            n = min(todo, persons)
            charges = int(binomial(homicides, n / persons)) if homicides else 0
            case[2] = persons - n
            case[3] = homicides - charges
            todo -= n
            self.waiting -= n
            if persons == n:
                backlog.popleft()
            p_conv = min(1.0, conviction * (1.0 - corruption[node]))
            convicted = int(binomial(n, p_conv))
            convictions += convicted
            if charges:
                homicide_convictions += int(binomial(charges, convicted / n))
            if convicted:
                self.prison.setdefault(week + court_p.sentence_weeks, []).append((node, gid, convicted))
                self.imprisoned += convicted
            if n > convicted:  # the acquitted (release does nothing for none)
                release(node, gid, n - convicted)
        model.convictions += convictions
        model.homicide_convictions += homicide_convictions
