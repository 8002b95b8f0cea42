"""Fights over plazas: expansion into neighbouring plazas and Lanchester-style attrition where
rival groups meet (a contested plaza).

Force multiplier of a cell with g guns per member:  L = 1 + gun_lethality x g / (g + guns_half).
Weekly death probability of a member of cell a in a contested plaza:

    q_a = lethality x D x sum_b  k_ab x L_b x m_b / (m_a + m_b),    D = exp(-deterrence x police units)

(k_ab = splinter_rivalry between a splinter and its parent, else 1). Civilians die alongside
(``civilian_ratio`` per member killed, a share ``spillover`` of them in neighbouring plazas) and
are preyed on by cells (``predation_rate`` per member, reduced to ``predation_held`` where one
group holds the plaza unchallenged).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .agents import MiddleOperator
    from .model import CartelModel


def multiplier(cp, guns, members):
    """L = 1 + gun_lethality x g / (g + guns_half), g guns per member; scalars or numpy arrays."""
    gpm = guns / np.maximum(members, 1.0)
    return 1.0 + cp.gun_lethality * gpm / (gpm + cp.guns_half)


def force_multiplier(model: CartelModel, op: MiddleOperator) -> float:
    """How much a cell's guns multiply its fighting strength (1 unarmed, up to 1 + gun_lethality)."""
    return float(multiplier(model.p.cartels, op.guns, op.members))


def expand(model: CartelModel, op: MiddleOperator) -> None:
    """The cell sends ``expansion_share`` of its members to a neighbouring plaza its group lacks.

    Targets are drawn in proportion to 0.2 + trafficking value. An empty plaza is simply taken;
    a held one is attacked with probability equal to the expected chance of prevailing.
    """
    from .agents import MiddleOperator

    rng, gid = model.rng, op.group.gid
    options = [j for j in model.neighbours[op.node] if gid not in model.plazas[j]]
    if not options:
        return
    w = 0.2 + model.value[options]
    j = options[int(rng.choice(len(options), p=w / w.sum()))]
    send = int(model.p.cartels.expansion_share * op.members)
    if send <= 0:  # nobody to send (a tiny cell, or a tiny share): no expansion this week
        return
    mult = force_multiplier(model, op)
    defenders = model.plazas[j]
    if defenders:
        enemy = sum(d.members * force_multiplier(model, d) for d in defenders.values())
        own = send * mult
        if rng.random() >= own / (own + enemy):
            return
        model.attacks += 1
    guns = op.guns * send / max(op.members, 1)
    op.members -= send
    op.guns -= guns
    MiddleOperator(model, op.group, j, send, guns=guns, loyalty=op.loyalty)


def fight(model: CartelModel) -> None:
    """Attrition in every contested plaza at once; a cell left with under a quarter of its
    enemies' strength withdraws with probability 0.3 a week."""
    cp, rng = model.p.cartels, model.rng
    ops = [o for j in model.contested_nodes() for o in model.plazas[j].values() if o.members > 0]
    if len(ops) < 2:
        return
    rows = np.array([(o.node, o.members, o.guns, o.group.gid, o.group.parent) for o in ops], dtype=np.float64)
    node, m, guns = rows[:, 0].astype(np.int64), rows[:, 1], rows[:, 2]
    gid, parent = rows[:, 3], rows[:, 4]
    mult = multiplier(cp, guns, m)
    a, b = _pairs_within(node)
    kin = np.where((parent[a] == gid[b]) | (parent[b] == gid[a]), cp.splinter_rivalry, 1.0)
    pressure = np.bincount(a, weights=kin * mult[b] * m[b] / (m[a] + m[b]), minlength=len(ops))
    deterrence = np.exp(-model.p.police.deterrence * model.units_at[node])
    q = np.minimum(cp.lethality * deterrence * pressure, 0.5)
    deaths = rng.binomial(m.astype(np.int64), q)
    for k in np.flatnonzero(deaths):
        model.kill_members(ops[k], int(deaths[k]))
    killed = np.bincount(node, weights=deaths, minlength=model.n_nodes)
    for j in np.flatnonzero(killed):
        spill(model, int(j), int(rng.poisson(cp.civilian_ratio * killed[j])))
    strength = (m - deaths) * mult
    enemy = np.bincount(node, weights=strength, minlength=model.n_nodes)[node] - strength
    beaten = (strength < 0.25 * enemy) & (rng.random(len(ops)) < 0.3)
    for k in np.flatnonzero(beaten):
        if ops[k].active:
            withdraw(model, ops[k])


def _pairs_within(node: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (a, b), a != b, of entries that share a node (entries grouped by node)."""
    starts = np.flatnonzero(np.r_[True, node[1:] != node[:-1]])
    sizes = np.diff(np.r_[starts, len(node)])
    first = np.repeat(starts, sizes * sizes)
    offset = np.arange(len(first)) - np.repeat(np.cumsum(sizes * sizes) - sizes * sizes, sizes * sizes)
    k = np.repeat(sizes, sizes * sizes)
    a, b = first + offset // k, first + offset % k
    keep = a != b
    return a[keep], b[keep]


def spill(model: CartelModel, node: int, victims: int) -> None:
    """Civilian victims of a fight at ``node``: each falls in a random neighbouring plaza with
    probability ``spillover`` (reprisals, hits on suppliers, fleeing fighters), else at ``node``."""
    if victims <= 0:
        return
    rng, nbrs = model.rng, model.neighbours[node]
    away = int(rng.binomial(victims, model.p.cartels.spillover)) if nbrs else 0
    if away:
        for k, n in zip(*np.unique(rng.choice(nbrs, size=away), return_counts=True)):
            model.kill_civilians(int(k), int(n))
    model.kill_civilians(node, victims - away)


def predation(model: CartelModel) -> None:
    """Civilians killed by cells (executions, extortion), higher where the plaza is contested."""
    cp = model.p.cartels
    factor = np.where(model.groups_at >= 2, 1.0, cp.predation_held)
    lam = cp.predation_rate * factor * model.members_at * (1.0 - model.resilience)
    victims = model.rng.poisson(lam)
    for j in np.flatnonzero(victims):
        model.kill_civilians(int(j), int(victims[j]))


def withdraw(model: CartelModel, op: MiddleOperator) -> None:
    """A beaten cell falls back to its group's strongest neighbouring plaza, or goes home."""
    home = [op.group.plazas[k] for k in model.neighbours[op.node] if k in op.group.plazas]
    if home:
        to = max(home, key=lambda o: o.members)
        to.members += op.members
        to.guns += op.guns
        to.cash += op.cash
        op.members = 0
    op.dissolve()
