"""The weekly life of every cell at once (vectorised over operators): income, tribute, guns,
recruitment from the local community, exits at saturation, and loyalty.

Forms (per cell c at node i, one week; Prieto-Curiel et al. 2023 turned into local terms):

- income_c = (drug revenue_i + extortion_i) x m_c / M_i            (US$ M a week; M_i: members at i)
- need_c = wage / (wage + drug revenue_i / M_i)                     (0-1; drives predation)
- recruits_c ~ Poisson(rho x s x m_c x vulnerability_i x pull_i)   (s: scenario.recruitment_scale;
  pull_i: the pay cells can offer after financial seizures, 1 without them, see sim.pillars.finance)
  scaled down where a plaza's recruits would exceed its young not yet members, y (R_i + M_i) - M_i,
  or the territory's recruits its young not yet members, y (R + M) - M
- exits_c ~ Binomial(m_c, omega x M_i / K_i)                        (K_i: capacity of the plaza)
- vulnerability_i = (1-r_i)(1-o_i) / ((1-r0)(1-o0)) x (1 - prevention cut_i)
"""

from __future__ import annotations

from operator import attrgetter
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .model import CartelModel


def update(model: CartelModel) -> None:
    ops = model._active()
    model.guns_bought = 0.0  # guns bought by all cells this week (read by sim/pillars/finance.py's tests and reports)
    if not ops:
        return
    p, rng = model.p, model.world["recruitment"]
    cp = p.cartels
    roster = model.roster
    node, gid, rows = roster.nodes(), roster.gids(), roster.rows()
    m = np.array([o.members for o in ops], np.float64)
    guns = np.array([o.guns for o in ops], np.float64)
    cash, loyal = roster.cash[rows], roster.loyalty[rows]
    groups = [g for g in model.groups.values() if g.alive]  # the groups with active cells
    headless = model.per_group(attrgetter("headless"), bool)[gid]
    members_at = model.members_at  # computed by model.census() before this call
    share = m / np.maximum(members_at[node], 1.0)

    # income and tribute
    drugs = model.node_revenue[node] * share
    need = cp.wage_musd / (cp.wage_musd + drugs / np.maximum(m, 1.0))
    income = drugs + model.extortion[node] * share
    tribute = cp.tribute_share * income
    cash += income - tribute
    # each war chest adds its cells' tribute one by one, in the cells' order (np.add.at is unbuffered), and
    # stays a numpy float as with `g.cash += t` (a plain loop over Python floats changes later float sums)
    chest = np.zeros(model._next_gid)
    for g in groups:
        chest[g.gid] = g.cash
    np.add.at(chest, gid, tribute)
    for g in groups:
        g.cash = chest[g.gid]

    # guns: the week's southbound supply is shared out by what each cell spends
    demand = cp.gun_spend_share * cash / cp.gun_price_musd
    total = demand.sum()
    bought = demand if total <= model.gun_supply else demand * (model.gun_supply / total)
    # (at gun_spend_share 1 the purchase can exceed the cash by a rounding error: never below zero)
    cash = np.maximum(cash - bought * cp.gun_price_musd, 0.0) * (1.0 - cp.cash_burn)
    guns = guns * (1.0 - cp.gun_depreciation) + bought
    model.guns_bought = float(bought.sum())

    # recruitment and exits
    lam = cp.recruitment_rate * p.scenario.recruitment_scale * m * model.vulnerability[node]
    lam = lam * model.pay_pull[node]  # pay after financial seizures (sim/pillars/finance.py; 1 without them)
    recruits = rng.poisson(lam).astype(np.float64)
    # the young not yet in a cell: members never outnumber a plaza's young people, whatever the rates
    pool = np.maximum(p.community.youth_share * (model.residents + members_at) - members_at, 0.0)
    wanted = np.bincount(node, weights=recruits, minlength=model.n_nodes)
    scale = np.where(wanted > pool, pool / np.maximum(wanted, 1.0), 1.0)
    # ... and in the whole territory too (cells that expanded carry members away from their home plaza)
    everywhere = p.community.youth_share * (model.residents.sum() + members_at.sum()) - members_at.sum()
    if wanted.sum() > everywhere:
        scale = scale * max(everywhere, 0.0) / wanted.sum()
    recruits = np.floor(recruits * scale[node])
    p_exit = np.minimum(cp.saturation * members_at[node] / model.capacity[node], 1.0)
    exits = rng.binomial(m.astype(np.int64), p_exit).astype(np.float64)
    model.people.recruit(node, recruits, exits)
    m += recruits - exits
    model.recruits += int(recruits.sum())

    # loyalty: settles toward its mean under a leader, erodes while the succession is open
    loyal = np.where(headless, loyal - cp.headless_loyalty_loss,
                     loyal + cp.loyalty_recovery * (cp.loyalty_mean - loyal))
    np.clip(loyal, 0.0, 1.0, out=loyal)

    roster.cash[rows], roster.loyalty[rows], roster.need[rows] = cash, loyal, need
    for o, mi, gi in zip(ops, m.astype(np.int64).tolist(), guns.tolist()):
        o.members, o.guns = mi, gi
