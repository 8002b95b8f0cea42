"""Financial intelligence (anti-money laundering), a sub-pillar of pillar 1: it freezes and seizes the
groups' cash and the drug revenue they launder.

Money: ``policy.finance_share`` of the disruption pillar's spending, S = budget x shares.disruption
x finance_share (US$ M a year), goes to financial intelligence instead of units
(:func:`sim.pillars.spending` takes it out; :mod:`sim.pillars.disruption` buys units with the rest).

Capacity (diminishing returns, with a lag): financial intelligence units need time to build cases.
Their capacity c_t (0-1) approaches its funded level S / (S + ``finance.half_musd``) exponentially
with time constant tau = ``finance.build_weeks``:

    c_t = c_{t-1} + (S / (S + half) - c_{t-1}) / tau,    c_0 = 0

Each week (:func:`weekly`, after the border flows and before cells earn):

- laundered revenue: a share r_t = ``finance.revenue_max`` x c_t of each plaza's drug revenue is
  stopped before it reaches the cells (frozen deposits, seized bulk cash and wire transfers);
- cash held: a share ``finance.stock_max`` x c_t / 52 of every cell's and every group's cash
  (``MiddleOperator.cash``, ``Group.cash``) is frozen.

Seized money leaves the system (``model.cash_seized``, US$ M this week). The rest follows from the
rules that already use money: cells buy guns with a share of their cash (:mod:`sim.cells`; the
week's gun supply is shared out by what each cell spends, so total purchases fall only when the
cells' demand falls below the supply), leaders bribe with a share of the tribute-fed war chest
(the leaders' bribes, ``CartelLeader.step_all``: less tribute, smaller bribes, less corruption), and a cell's drug income
per member sets its need to extort (:func:`sim.conflict.predation`). Pay: the pay a cell can offer
falls with its income; recruitment's pull at a plaza is multiplied by
(income after seizure / income before seizure) ^ ``finance.pay_elasticity`` (``model.pay_pull``).

With ``finance_share = 0`` (the default) nothing here changes the model: every rate is exactly 0
and ``pay_pull`` exactly 1. No published causal estimate of financial enforcement's effect on
violence exists: the parameters are documented assumptions bounded by published figures (see
``FinanceParams`` in :mod:`sim.params`) and are explored in the sensitivity analysis.
The rules are deterministic (no random draws).
"""

from __future__ import annotations

from operator import attrgetter
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ..model import CartelModel


def funded_capacity(spend_musd: float, half_musd: float) -> float:
    """The capacity (0-1) a yearly spend S (US$ M) builds up to: S / (S + half)."""
    return spend_musd / (spend_musd + half_musd) if spend_musd > 0 else 0.0


def levers(model: CartelModel, spend_musd: float) -> None:
    """Set the capacity the yearly spend on financial intelligence (US$ M) builds toward; at the start,
    also the counters the weekly rule and the outputs read. Called again when a timeline changes the
    budget: the capacity built so far is kept and moves toward the new target."""
    model.finance_spend = float(spend_musd)
    model.finance_target = funded_capacity(spend_musd, model.p.finance.half_musd)
    if not hasattr(model, "finance_capacity"):
        model.finance_capacity = 0.0  # capacity built so far (0-1); starts at 0: cases take time
        model.revenue_seizure = 0.0  # share of drug revenue stopped this week
        model.cash_seized = 0.0  # US$ M seized this week
        model.cash_seized_total = 0.0  # US$ M seized since the start
        model.pay_pull = np.ones(model.n_nodes)  # recruitment's pull at each plaza (1: pay untouched)


def weekly(model: CartelModel) -> None:
    """This week's freezes and seizures (call after :func:`sim.pillars.border.weekly_flows`, before
    :func:`sim.cells.update`)."""
    model.cash_seized = 0.0
    if model.finance_target <= 0.0 and model.finance_capacity <= 0.0:
        return
    fp = model.p.finance
    model.finance_capacity += (model.finance_target - model.finance_capacity) / fp.build_weeks
    c = model.finance_capacity
    # laundered revenue, stopped before it reaches the cells
    r = fp.revenue_max * c
    model.revenue_seizure = r
    gross = model.node_revenue
    stopped = gross * r
    model.node_revenue = gross - stopped
    income_before = gross + model.extortion
    income_after = model.node_revenue + model.extortion
    ratio = np.divide(income_after, income_before, out=np.ones(model.n_nodes), where=income_before > 0)
    model.pay_pull = ratio ** fp.pay_elasticity
    seized = float(stopped.sum())
    # cash held by cells and war chests, frozen
    k = fp.stock_max * c / 52.0
    cash, rows = model.roster.cash, model.roster.rows()
    take = cash[rows] * k
    cash[rows] -= take
    for t in take.tolist():  # one by one, in the cells' order: the same float sum as before
        seized += t
    for group in model.groups.values():
        take = group.cash * k
        group.cash -= take
        seized += take
    model.cash_seized = seized
    model.cash_seized_total += seized


def cartel_cash(model: CartelModel) -> float:
    """The groups' cash: every active cell's (in the cells' order) plus every war chest (US$ M)."""
    cells = model.roster.cash[model.roster.rows()].tolist()  # Python floats: sum() adds them compensated
    return float(sum(cells) + sum(map(_cash, model.groups.values())))


_cash = attrgetter("cash")
