"""Fights over plazas: expansion into neighbouring plazas and Lanchester-style attrition where
rival groups meet (a contested plaza); the civilians caught in fights; predation.

Force multiplier of a cell with g guns per member:  L = 1 + gun_lethality x g / (g + guns_half).
Weekly death probability of a member of cell a at a contested node i:

    q_a = lethality x I_i x sum_b  k_ab x L_b x m_b / (m_a + m_b),
    I_i = exp(-deterrence x units_i / k_i) / sqrt(k_i)

(k_ab = splinter_rivalry between a splinter and its parent, else 1; k_i the municipality-sized
plazas the node stands for: police density is units per plaza, and rivals who share a node of k
plazas meet on a front of about 1/sqrt(k) of it). Each death is charged to the rivals in proportion
to their share of the pressure.

Civilians (bystanders) are shot by the fighters: cell a, with A_a = min(guns, members) armed men
firing at rivals, kills Poisson(bystander_rate x I_i x A_a x sum_b k_ab m_b/(m_a+m_b) x r_i/(r_i+M_i))
residents (r_i residents, M_i members at the node), a share ``spillover`` in neighbouring plazas.
So the civilian toll grows with the guns on both sides, the intensity of the fight and the
population at the plaza, not as a fixed ratio to fighters killed.

Predation (executions, extortion): cell c kills Poisson(predation_rate x m_c x need_c x (1 - r) x F_c)
residents, need_c = wage / (wage + drug income per member) (cells short of drug money extort) and
F_c = predation_held + (1 - predation_held) x rivals' share of the members at the node / sqrt(k_i)
(competition for the same rents).
"""

from __future__ import annotations

from bisect import bisect_right
from typing import TYPE_CHECKING

import numpy as np

from .people import runs

if TYPE_CHECKING:
    from .agents import MiddleOperator
    from .model import CartelModel


def multiplier(cp, guns, members):
    """L = 1 + gun_lethality x g / (g + guns_half), g guns per member; scalars or numpy arrays."""
    gpm = guns / np.maximum(members, 1.0)
    return 1.0 + cp.gun_lethality * gpm / (gpm + cp.guns_half)


def force_multiplier(model: CartelModel, op: MiddleOperator) -> float:
    """How much a cell's guns multiply its fighting strength (1 unarmed, up to 1 + gun_lethality).

    :func:`multiplier` for one cell in Python floats: the same operations in the same order, so the
    same double (no numpy scalars for a single value)."""
    cp = model.p.cartels
    gpm = op.guns / max(op.members, 1.0)
    return float(1.0 + cp.gun_lethality * gpm / (gpm + cp.guns_half))


def expand(model: CartelModel, op: MiddleOperator, rng: np.random.Generator) -> None:
    """The cell sends ``expansion_share`` of its members to a neighbouring plaza its group lacks.

    Targets are drawn in proportion to ``expansion_floor`` + trafficking value. An empty plaza is simply taken;
    a held one is attacked with probability equal to the expected chance of prevailing.
    """
    gid, plazas = op.group.gid, model.plazas
    options = [j for j in model.neighbours[op.node] if gid not in plazas[j]]
    if not options:
        return
    cp = model.p.cartels
    j = options[_target(rng, model.value, options, cp.expansion_floor) if len(options) > 1 else _one(rng)]
    send = int(cp.expansion_share * op.members)
    if send < 1:
        return
    enemy = sum([d.members * force_multiplier(model, d) for d in plazas[j].values()])
    if enemy > 0:
        own = send * force_multiplier(model, op)
        if rng.random() >= own / (own + enemy):
            return
        model.attacks += 1
    guns = op.guns * send / max(op.members, 1)
    op.members -= send
    op.guns -= guns
    from .agents import MiddleOperator  # here, not at the top of expand: a function's import costs on each call

    MiddleOperator(model, op.group, j, send, guns=guns, loyalty=op.loyalty)


def _weighted_index(rng: np.random.Generator, w: np.ndarray) -> int:
    """``rng.choice(len(w), p=w / w.sum())`` without its checks of ``p``: numpy's own steps (the
    cumulative sum of p divided by its last entry, one ``rng.random()``, searchsorted to the right),
    so the same draw and the same index."""
    cdf = (w / w.sum()).cumsum()
    cdf /= cdf[-1]
    return int(cdf.searchsorted(rng.random(), side="right"))


def _target(rng: np.random.Generator, value: np.ndarray, options: list[int], floor: float) -> int:
    """``_weighted_index(rng, floor + value[options])`` (``floor``: cartels.expansion_floor); up to 7
    options in Python floats (:func:`_cdf`), and searchsorted to the right is ``bisect_right``."""
    if len(options) > 7:
        return _weighted_index(rng, floor + value[options])
    return bisect_right(_cdf([floor + value.item(j) for j in options]), rng.random())


def _cdf(w: list[float]) -> list[float]:
    """The cumulative distribution :func:`_weighted_index` makes of fewer than 8 weights, in Python
    floats: the same operations in the same order (numpy sums fewer than 8 doubles one after the other,
    from the first: its pairwise sum starts at 8; its cumulative sum is sequential; its divisions are
    elementwise). Checked bit for bit by tests/test_submodels.py."""
    total = w[0]
    for x in w[1:]:
        total += x
    run, cdf = 0.0, []
    for x in w:
        run = run + x / total if cdf else x / total
        cdf.append(run)
    last = cdf[-1]
    return [c / last for c in cdf]


def _one(rng: np.random.Generator) -> int:
    """``rng.choice(1, p=[1.0])``: index 0, after the one draw numpy's choice takes."""
    rng.random()
    return 0


def intensity(model: CartelModel, nodes: np.ndarray) -> np.ndarray:
    """Fight intensity I at ``nodes``: police deterrence per plaza, times the front's share of the node."""
    density = model.units_at[nodes] / model.plazas_in[nodes]
    return np.exp(-model.p.police.deterrence * density) * model.contact[nodes]


def fight(model: CartelModel) -> None:
    """Attrition in every contested plaza at once; a cell left with under ``withdraw_ratio`` of its
    enemies' strength withdraws with probability ``withdraw_rate`` a week."""
    cp, rng = model.p.cartels, model.world["fights"]
    ops = [o for j in model.contested_nodes() for o in model.plazas[j].values() if o.members > 0]
    if len(ops) < 2:
        return
    # one list per column: numpy converts a flat list of numbers faster than a list of tuples
    node = np.array([o.node for o in ops], np.int64)
    members = np.array([o.members for o in ops], np.int64)
    m = members.astype(np.float64)  # whole numbers: read as integers, then made floats (faster, the same doubles)
    guns = np.array([o.guns for o in ops], np.float64)
    groups = [o.group for o in ops]
    gid = np.array([g.gid for g in groups], np.float64)
    parent = np.array([g.parent for g in groups], np.float64)
    mult = multiplier(cp, guns, m)
    a, b = _pairs_within(node)
    kin = np.where((parent[a] == gid[b]) | (parent[b] == gid[a]), cp.splinter_rivalry, 1.0)
    exposure = kin * m[b] / (m[a] + m[b])  # how much of a's fighting is against b
    w = exposure * mult[b]
    pressure = np.bincount(a, weights=w, minlength=len(ops))
    level = intensity(model, node)
    q = np.minimum(cp.lethality * level * pressure, cp.attrition_cap)
    deaths = rng.binomial(members, q)
    kills = np.bincount(b, weights=deaths[a] * w / np.maximum(pressure[a], 1e-12), minlength=len(ops))
    hit = np.flatnonzero(deaths)
    model.people.kill_members_of([ops[k] for k in hit.tolist()], deaths[hit].tolist())
    fire = np.minimum(guns, m) * np.bincount(a, weights=exposure, minlength=len(ops))
    shot = model.world["bystanders"].poisson(bystanders_expected(model, node, fire, level))
    hit = np.flatnonzero(shot)
    if len(hit):
        # every fight's bystanders drawn first (spill's draws, in the same order), then killed in that
        # order at once: nothing between the calls reads the residents (People.kill_civilians_at)
        owner, at, victims = [], [], []
        for k, j, n in zip(hit.tolist(), node[hit].tolist(), shot[hit].tolist()):
            before = len(at)
            _spill_draws(model, j, n, at, victims)
            owner += [k] * (len(at) - before)
        died = model.people.kill_civilians_at(at, victims, "bystanders")
        kills[hit] += np.bincount(owner, weights=died, minlength=len(ops))[hit]
    charge(ops, kills, rng)
    strength = (m - deaths) * mult
    enemy = np.bincount(node, weights=strength, minlength=model.n_nodes)[node] - strength
    beaten = (strength < cp.withdraw_ratio * enemy) & (rng.random(len(ops)) < cp.withdraw_rate)
    for k in np.flatnonzero(beaten):
        if ops[k].active:
            withdraw(model, ops[k])


def bystanders_expected(model: CartelModel, nodes: np.ndarray, fire: np.ndarray, level: np.ndarray) -> np.ndarray:
    """Expected residents shot at ``nodes`` by ``fire`` armed men at fight intensity ``level``:
    bystander_rate x level x fire x r / (r + M), r residents and M members at the node (arrays, or
    scalars for one node)."""
    residents = model.residents[nodes]
    people = np.maximum(residents + model.members_at[nodes], 1.0)
    return model.p.cartels.bystander_rate * level * fire * residents / people


def charge(ops: list[MiddleOperator], kills: np.ndarray, rng: np.random.Generator,
           pos: np.ndarray | None = None) -> None:
    """Add expected killings to each cell's unsolved homicides, rounded at random to whole cases
    (``kills[k]`` is the cell ``ops[pos[k]]``'s if ``pos`` is given, else ``ops[k]``'s)."""
    whole = np.floor(kills)
    whole += rng.random(len(kills)) < kills - whole
    hit = np.flatnonzero(whole)
    for k, n in zip((hit if pos is None else pos[hit]).tolist(), whole[hit].tolist()):
        ops[k].open_homicides += int(n)


def _pairs_within(node: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (a, b), a != b, of entries that share a node (entries grouped by node)."""
    starts, sizes = runs(node)
    square = sizes * sizes
    first = np.repeat(starts, square)
    offset = np.arange(len(first)) - np.repeat(np.cumsum(square) - square, square)
    a, b = np.divmod(offset, np.repeat(sizes, square))
    a += first
    b += first
    keep = a != b
    return a[keep], b[keep]


def spill(model: CartelModel, node: int, victims: int) -> int:
    """Bystanders shot in a fight at ``node``: each falls in a random neighbouring plaza with
    probability ``spillover`` (reprisals, hits on suppliers, fleeing fighters), else at ``node``.
    Returns how many died (no more than the residents there)."""
    if victims <= 0:
        return 0
    at, count = [], []
    _spill_draws(model, node, victims, at, count)
    kill, killed = model.people.kill_civilians, 0
    for k, n in zip(at, count):
        killed += kill(k, n, "bystanders")
    return killed


def _spill_draws(model: CartelModel, node: int, victims: int, at: list[int], count: list[int]) -> None:
    """:func:`spill`'s draws (``victims`` > 0): appends to ``at`` and ``count`` the plazas where the
    bystanders fall and how many, in the order they are killed (the neighbouring plazas by id, then
    ``node``)."""
    rng, nbrs = model.world["bystanders"], model.neighbours[node]
    away = int(rng.binomial(victims, model.p.cartels.spillover)) if nbrs else 0
    if away == 1:  # most spills: one plaza, as the bincount below gives it
        at.append(nbrs[rng.integers(0, len(nbrs), size=1, dtype=np.int64).tolist()[0]])
        count.append(1)
    elif away:
        # rng.choice(nbrs, size=away) is rng.integers(0, len(nbrs), size=away) in numpy's own code (the
        # same draws); the victims counted per plaza and taken in the order of the plazas' ids, as
        # np.unique gave them
        counts = np.bincount(rng.integers(0, len(nbrs), size=away, dtype=np.int64), minlength=len(nbrs)).tolist()
        for k, n in sorted((k, n) for k, n in zip(nbrs, counts) if n):
            at.append(k)
            count.append(n)
    at.append(node)
    count.append(victims - away)


def predation(model: CartelModel) -> None:
    """Residents killed by cells (executions, extortion): more where drug income is short of the
    wage bill, where the community is less resilient and where rivals compete for the same rents."""
    cp = model.p.cartels
    everyone = model._active()
    m = np.array([o.members for o in everyone], np.int64).astype(np.float64)  # whole numbers: as one step, faster
    some = m > 0
    if not some.any():
        return
    pos = np.flatnonzero(some)  # the cells with members, by their place in everyone
    node, m, need = model.roster.nodes()[some], m[some], model.roster.need[model.roster.rows()][some]
    rivals = (model.members_at[node] - m) / np.maximum(model.members_at[node], 1.0)
    competition = cp.predation_held + (1.0 - cp.predation_held) * rivals * model.contact[node]
    lam = cp.predation_rate * m * need * (1.0 - model.resilience[node]) * competition
    rng = model.world["predation"]
    victims = rng.poisson(lam)
    killed = np.zeros(len(pos))
    hit = np.flatnonzero(victims)
    if len(hit):
        # the cells' kill_civilians calls in order, at once (People.kill_civilians_at: the same counts)
        killed[hit] = model.people.kill_civilians_at(node[hit], victims[hit], "predation")
    charge(everyone, killed, rng, pos)


def withdraw(model: CartelModel, op: MiddleOperator) -> None:
    """A beaten cell falls back to its group's strongest neighbouring plaza, or goes home."""
    home = [op.group.plazas[k] for k in model.neighbours[op.node] if k in op.group.plazas]
    if home:
        to = max(home, key=lambda o: o.members)
        to.members += op.members
        to.guns += op.guns
        to.cash += op.cash
        to.open_homicides += op.open_homicides
        op.members = 0
    op.dissolve()
