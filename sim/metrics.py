"""Outcomes: the weekly timeseries (through Mesa's DataCollector) and the optional node table.

Weekly flows (homicides, recruits, splinters, arrests, convictions, removals) count what happened
during week ``step``; stocks (members, groups, guns, resilience) are read at its end.

- ``effective_groups``: 1 / sum_g s_g^2 with s_g group g's share of all members (inverse
  Herfindahl index; equals the number of groups when they are of equal size).
- ``impunity``: homicide impunity as Impunidad Cero measures it, 1 - (homicide charges that ended in
  a conviction) / homicides, both over the last 52 weeks, in [0, 1].
- Homicides by cause (``homicides_<cause>``, :data:`CAUSES`): members killed in fights and
  succession fights, bystanders shot in them, residents killed by predation, leaders killed by the
  state, members killed by police or armed forces in confrontations (``security``), and background
  homicides (not tied to organised crime, an input).
- ``military_units``: armed-forces units deployed that week (funded ones and operations').
- The middle layer: ``crews_<outcome>`` counts crews that lost their boss and stayed, defected to a
  rival, split off or went home (:mod:`sim.crews`).
- ``contested_plazas``: nodes where cells of two or more groups are present.
- Drugs (:mod:`sim.routes`): ``drug_flow``, tonnes of cocaine a week delivered into the US (what
  reaches the crossings less the border pillar's seizures); ``drug_price``, US$ per kg at the crossing.
- ``cash_seized`` (US$ that week) and ``cartel_cash`` (US$ held by cells and war chests at the week's
  end): financial intelligence (:mod:`sim.pillars.finance`). The model counts money in US$ M; these two
  columns are in US$.

Node table (``output.nodes``): ``step, node, homicides`` (during the week), ``controller`` (group
with the largest cell at the node, -1 for none), ``members`` (all groups' members there) and
``groups`` (number of groups present; 2 or more: contested) and ``drug_flow`` (tonnes of cocaine
passing through the node that week, :mod:`sim.routes`).
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from mesa import DataCollector

from .pillars import finance
from .people import CAUSES  # noqa: F401  (homicides_<cause> sum to homicides; read from here by the reports)

if TYPE_CHECKING:
    from .model import CartelModel

# column name -> model attribute that holds it (attribute-name reporters are cheap and picklable)
COLUMNS = {
    "step": "week",
    "homicides": "homicides_total",
    "homicides_members": "members_killed",
    "homicides_civilians": "civilians_killed",
    "homicides_bystanders": "bystanders_killed",
    "homicides_predation": "predation_killed",
    "homicides_background": "background_killed",
    "homicides_leaders": "leaders_killed",
    "homicides_security": "security_killed",
    "military_units": "military_units",
    "members": "members_total",
    "recruits": "recruits",
    "groups_active": "groups_active",
    "effective_groups": "effective_groups",
    "largest_group_share": "largest_group_share",
    "top10_group_share": "top10_group_share",
    "splinters": "splinters",
    "leaderless_groups": "leaderless_groups",
    "leaders_removed": "leaders_removed",
    "operators_arrested": "operators_arrested",
    "attacks": "attacks",
    "members_arrested": "members_arrested",
    "convictions": "convictions",
    "homicide_convictions": "homicide_convictions",
    "released_untried": "released_untried",
    "backlog": "backlog",
    "prisoners": "prisoners",
    "impunity": "impunity",
    "guns": "guns_total",
    "resilience": "resilience_mean",
    "corruption": "corruption_mean",
    "plazas_held": "plazas_held",
    "contested_plazas": "contested_plazas",
    "crews_stayed": "crews_stayed",
    "crews_defected": "crews_defected",
    "crews_splintered": "crews_splintered",
    "crews_dissolved": "crews_dissolved",
    "drug_flow": "drug_flow",  # tonnes of cocaine a week delivered into the US (sim/routes.py)
    "drug_price": "drug_price",  # US$ per kg at the US crossing (sim/routes.py)
    "cash_seized": "cash_seized_usd",  # financial intelligence (sim/pillars/finance.py): US$ seized that week
    "cartel_cash": "cartel_cash_usd",  # groups' cash (cells + war chests) at the week's end, US$
}

NODE_COLUMNS = ("step", "node", "homicides", "controller", "members", "groups", "drug_flow")


def concentration(sizes: np.ndarray) -> tuple[float, float, float]:
    """Effective groups (1 / Herfindahl of member shares), the largest's and the ten largest groups'
    share of members, from the groups' sizes (all 0 when there are no members)."""
    total = sizes.sum()
    if total <= 0:
        return 0.0, 0.0, 0.0
    shares = sizes / total
    return float(1.0 / np.square(shares).sum()), float(shares.max()), float(np.sort(shares)[-10:].sum())


class Recorder:
    """Computes the weekly outcomes and keeps the node table when asked to."""

    def __init__(self, model: CartelModel):
        self.window_h: deque[int] = deque(maxlen=52)
        self.window_c: deque[int] = deque(maxlen=52)
        self.collector = DataCollector(model_reporters=dict(COLUMNS))
        self.nodes = model.p.output.nodes
        if self.nodes:
            shape = (model.p.steps, model.n_nodes)
            self.node_homicides = np.zeros(shape, np.int32)
            self.node_controller = np.full(shape, -1, np.int32)
            self.node_members = np.zeros(shape, np.int32)
            self.node_groups = np.zeros(shape, np.int16)
            self.node_flow = np.zeros(shape, np.float32)  # tonnes a week through the node

    def measure(self, model: CartelModel) -> None:
        ops = model._active()  # read only
        model.homicides_total = int(model.homicides.sum())
        for cause, n in model.people.killed.items():
            setattr(model, f"{cause}_killed", n)
        model.civilians_killed = model.bystanders_killed + model.predation_killed
        model.members_arrested = model.people.arrested
        for outcome, count in model.crews.items():
            setattr(model, f"crews_{outcome}", count)
        # the guns summed over a list: the same floats in the same order as a generator (sum() of
        # floats depends on both), without its frames; a list comprehension reads them fastest
        model.guns_total = float(sum([o.guns for o in ops]))
        # Groups' sizes from the week's last census (Group.size), not recounted from their plazas
        # (Group.members): nothing between that census and the record may change a cell's members
        # (tests/test_model.py::test_record_reads_the_last_census checks it at every record).
        alive = [g for g in model.groups.values() if g.alive]
        size = [g.size for g in alive]
        # every active cell is in an alive group and in no other: the groups' sizes add up to all members
        model.members_total = sum(size)
        sizes = np.array(size, dtype=np.float64)
        model.groups_active = len(sizes)
        model.effective_groups, model.largest_group_share, model.top10_group_share = concentration(sizes)
        model.leaderless_groups = sum(1 for g in alive if g.headless)
        model.backlog = sum(c.waiting for c in model.courts)
        model.prisoners = sum(c.imprisoned for c in model.courts)
        self.window_h.append(model.homicides_total)
        self.window_c.append(model.homicide_convictions)
        h = sum(self.window_h)
        model.impunity = float(np.clip(1.0 - sum(self.window_c) / h, 0.0, 1.0)) if h > 0 else 1.0
        pop = model.population
        people = pop.sum()
        model.resilience_mean = float((model.resilience * pop).sum() / people)
        model.corruption_mean = float((model.corruption * pop).sum() / people)
        model.plazas_held = int((model.groups_at > 0).sum())
        model.contested_plazas = int((model.groups_at >= 2).sum())
        model.cash_seized_usd = model.cash_seized * 1e6  # the model's money is US$ M; these columns are US$
        model.cartel_cash_usd = finance.cartel_cash(model) * 1e6
        self.collector.collect(model)
        if self.nodes and model.week <= model.p.steps:
            self._record_nodes(model, model.week - 1)

    def _record_nodes(self, model: CartelModel, t: int) -> None:
        self.node_homicides[t] = model.homicides
        self.node_members[t] = model.members_at
        self.node_groups[t] = model.groups_at
        self.node_controller[t] = model.controllers()
        self.node_flow[t] = model.flow_at

    def timeseries(self) -> pd.DataFrame:
        df = self.collector.get_model_vars_dataframe().reset_index(drop=True)
        return df.astype({"step": "int64"})

    def node_table(self, weeks: int) -> pd.DataFrame:
        """One row per node per week (``weeks`` recorded so far)."""
        if not self.nodes:
            raise ValueError("node output is off: set output.nodes=true")
        n = self.node_homicides.shape[1]
        return pd.DataFrame({
            "step": np.repeat(np.arange(1, weeks + 1), n),
            "node": np.tile(np.arange(n), weeks),
            "homicides": self.node_homicides[:weeks].ravel(),
            "controller": self.node_controller[:weeks].ravel(),
            "members": self.node_members[:weeks].ravel(),
            "groups": self.node_groups[:weeks].ravel(),
            "drug_flow": self.node_flow[:weeks].ravel(),
        })
