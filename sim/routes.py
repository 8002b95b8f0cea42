"""Drug routes that move: drugs enter at ports and the southern border and flow north to the
US crossings along the cheapest ways, which enforcement and fighting make dearer.

Every ``routes.every_weeks`` weeks (monthly by default, and at week 0) the routes are recomputed:

1. **Cost of crossing a node** i, in municipality-sized plaza crossings (k_i plazas in the node)::

       t_i = sqrt(k_i) x (1 + police_cost x police_i / k_i + military_cost x military_i / k_i
                          + contested_cost x [groups_i >= 2] + interdiction_cost x I x [i is a crossing])

   (units per plaza, as police deterrence is; a node standing for k plazas is about sqrt(k) plazas
   across, so a state costs what the municipalities on a way through it cost together.) I is the
   border pillar's drug interdiction share. An edge (u, v) costs c_uv (t_u + t_v) / 2, where c_uv is
   the territory's edge cost (mean 1, random per edge: corridors differ by seed).
2. **Cost to the border** D_i: one multi-source Dijkstra from all US crossings (scipy, on a sparse
   matrix whose structure is built once; only the weights change).
3. **Route choice**, a logit over the ways that lead closer to the border (Dial's stochastic
   assignment): from node u, drugs go to a neighbour v with D_v < D_u with probability proportional to
   ``exp(-(c_uv (t_u + t_v)/2 + D_v - D_u) / spread)``: the cheapest way gets most, ways costing
   ``spread`` more get e^-1 as much, so a small change of costs shifts flows gradually, not all at once.
4. **Flows**: each entry (node attribute ``port``; every node in a territory without ports) sends an
   equal share of the supply; the flow f
   through every node solves f = s + P^T f (P the route-choice matrix, acyclic), and all of it reaches a
   crossing (conservation; a crossing absorbs what arrives).

Every week the flow pattern is scaled by the week's supply: ``routes.tonnes_a_year x model.scale / 52 x
scenario.cocaine_supply`` tonnes enter (``model.flow_at``: tonnes a week through each node). The
price at the crossing (US$ per kg) follows supply with a constant elasticity e of demand:
``price = p0 x supply^(-1/e)``, capped at ``price_cap x p0``, where p0 = drug_revenue_musd /
tonnes_a_year (US$ 20,000 per kg by default), so the revenue at the crossings, price x tonnes delivered,
is ``drug_revenue_musd x supply^(1 - 1/e)`` a year at supply s for the whole country, before seizures
(the model keeps it per week and pro-rated to the territory, ``model.drug_revenue``: US$ M a week, times
``model.scale``): at supply 1 exactly the revenue of the model without routes. The border pillar seizes the share I of what arrives
(``drug_flow``: tonnes a week delivered into the US).

A node's trafficking value for the groups (``model.value``) follows the routes: (1 - w) x its flow / the
largest flow + w x its closeness to the border (w = ``territory.closeness_weight``, 0.3), the territory's
formula (:func:`sim.territory.trafficking_value`) with this month's flows in place of the fixed corridors.
:func:`sim.pillars.border.weekly_flows` shares the revenue among the held plazas by this value, and expansion
is drawn to it (:func:`sim.conflict.expand`), so a crackdown that moves the drugs moves the money and
the fight for the plazas. (Sharing the revenue by the flow alone, without the closeness term, puts all
of it on the few corridor plazas: their cells arm, and the national homicides rose by about 60% over
the calibrated level, 16,000 to 26,000 a year in two 104-week national runs; the territory's blend
keeps the calibrated level and still moves 70% of a plaza's weight with the drugs.)

The computation is deterministic (no random draws). Cost per recompute: one Dijkstra
(O(E log N)) and one sparse triangular solve (O(E)), about 2 ms for 2,470 nodes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.sparse.linalg import spsolve_triangular

from .territory import closeness_to_border, trafficking_value

if TYPE_CHECKING:
    from .model import CartelModel

KG_PER_TONNE = 1000.0


class RouteNetwork:
    """The territory's structure for route finding, built once: both directions of every edge in CSR
    order, the entries, the crossings, and each node's closeness to the border."""

    def __init__(self, model: CartelModel):
        g, n = model.territory, model.n_nodes
        self.n = n
        self.crossing = np.array([bool(g.nodes[i]["border"]) for i in range(n)])
        self.entries = np.flatnonzero([bool(g.nodes[i].get("port", False)) for i in range(n)])
        if not len(self.entries):  # a territory file without ports: drugs enter everywhere
            self.entries = np.arange(n)
        self.crossings = np.flatnonzero(self.crossing)
        u, v, c = [], [], []
        for a, b, d in g.edges(data=True):
            cost = float(d.get("cost", 1.0))
            u += [a, b]
            v += [b, a]
            c += [cost, cost]
        u, v, c = np.array(u, np.int64), np.array(v, np.int64), np.array(c, np.float64)
        order = np.lexsort((v, u))  # CSR order: by row u, then column v
        self.u, self.v, self.c = u[order], v[order], c[order]
        self.indptr = np.searchsorted(self.u, np.arange(n + 1)).astype(np.int32)
        self.indices = self.v.astype(np.int32)
        self.size = np.sqrt(model.plazas_in)  # plazas across a node
        self.closeness = self._closeness()
        self.unit_flow = np.zeros(n)  # tonnes through each node per tonne entering
        self.cost_to_border = np.full(n, np.inf)

    def _matrix(self, weights: np.ndarray) -> csr_matrix:
        return csr_matrix((weights, self.indices, self.indptr), shape=(self.n, self.n))

    def _closeness(self) -> np.ndarray:
        """1 on the border, falling linearly with hops to the farthest node (as in the territory)."""
        if not len(self.crossings):
            return np.zeros(self.n)
        hops = dijkstra(self._matrix(np.ones(len(self.u))), indices=self.crossings, min_only=True)
        return closeness_to_border(hops)

    def node_costs(self, model: CartelModel) -> np.ndarray:
        """t_i: the cost of crossing each node, in municipality-sized plaza crossings."""
        rp, k = model.p.routes, model.plazas_in
        police = model.units_at - model.military_at  # units_at counts both forces
        extra = (rp.police_cost * police / k + rp.military_cost * model.military_at / k
                 + rp.contested_cost * (model.groups_at >= 2)
                 + rp.interdiction_cost * model.drug_interdiction * self.crossing)
        return self.size * (1.0 + extra)

    def recompute(self, model: CartelModel) -> None:
        """Cheapest costs to the border and the flow through each node per tonne entering."""
        if not len(self.crossings) or not len(self.entries):
            self.unit_flow = np.zeros(self.n)
            return
        t = self.node_costs(model)
        w = self.c * (t[self.u] + t[self.v]) / 2.0
        dist = dijkstra(self._matrix(w), indices=self.crossings, min_only=True)
        self.cost_to_border = dist
        du, dv = dist[self.u], dist[self.v]
        closer = np.isfinite(du) & (dv < du)  # the ways that lead closer to the border (acyclic)
        excess = np.where(closer, w + dv - du, np.inf)
        eu = self.u[closer]
        if len(eu):
            # subtract each node's smallest excess (0 up to rounding) so exp never underflows to all zeros
            starts = np.flatnonzero(np.r_[True, eu[1:] != eu[:-1]])
            least = np.full(self.n, 0.0)
            least[eu[starts]] = np.minimum.reduceat(excess[closer], starts)
            excess = excess - least[self.u]
        share = np.where(closer, np.exp(-excess / model.p.routes.spread), 0.0)
        out = np.bincount(self.u, weights=share, minlength=self.n)
        share = np.divide(share, out[self.u], out=np.zeros_like(share), where=out[self.u] > 0)
        reachable = self.entries[np.isfinite(dist[self.entries])]
        supply = np.zeros(self.n)
        if len(reachable):
            np.add.at(supply, reachable, 1.0 / len(reachable))
        # f = s + P^T f. Upstream first (decreasing D), every way goes from an earlier node to a later
        # one, so (I - P^T) is lower triangular in that order: one triangular solve.
        order = np.argsort(-dist, kind="stable")
        rank = np.empty(self.n, np.int64)
        rank[order] = np.arange(self.n)
        lower = csr_matrix((-share[closer], (rank[self.v[closer]], rank[self.u[closer]])), shape=(self.n, self.n))
        flow = np.empty(self.n)
        flow[order] = spsolve_triangular(lower, supply[order], lower=True, unit_diagonal=True)
        self.unit_flow = np.maximum(flow, 0.0)

    def value(self, closeness_weight: float) -> np.ndarray:
        """Trafficking value in [0, 1]: (1 - w) x flow / the largest flow + w x closeness to the border
        (w = ``closeness_weight``; :func:`sim.territory.trafficking_value`)."""
        return trafficking_value(self.unit_flow, self.closeness, closeness_weight)


def price_index(supply: float, elasticity: float, cap: float) -> float:
    """Price at the crossing relative to the baseline for a supply index: supply^(-1/e), at most ``cap``."""
    if supply <= 0:
        return cap
    log_ratio = -np.log(supply) / elasticity
    return float(np.exp(min(log_ratio, np.log(cap))))


def baseline_price(model: CartelModel) -> float:
    """p0, US$ per kg at the crossing at supply 1: baseline revenue over baseline tonnes."""
    return model.p.scenario.drug_revenue_musd * 1e6 / (model.p.routes.tonnes_a_year * KG_PER_TONNE)


def init(model: CartelModel) -> None:
    """Build the route network, then :func:`update` at week 0 (always due): the week-0 routes (after
    the agents are placed)."""
    model.route_net = RouteNetwork(model)
    update(model)


def update(model: CartelModel) -> None:
    """Start of a week: recompute the routes when due (and the trafficking value that follows them),
    then this week's flows, price and revenue."""
    if model.week % model.p.routes.every_weeks == 0:
        net = model.route_net
        net.recompute(model)
        if len(net.crossings) and len(net.entries):
            model.value = net.value(model.p.territory.closeness_weight)
    weekly(model)


def weekly(model: CartelModel) -> None:
    """This week's tonnes through each node (``flow_at``), tonnes delivered into the US (``drug_flow``),
    price at the crossing (``drug_price``, US$/kg) and revenue at the crossings before seizures
    (``drug_revenue``, US$ M a week)."""
    s, rp = model.p.scenario, model.p.routes
    entering = rp.tonnes_a_year * model.scale / 52.0 * s.cocaine_supply  # tonnes a week
    model.flow_at = model.route_net.unit_flow * entering
    arrived = float(model.flow_at[model.route_net.crossings].sum()) if len(model.route_net.crossings) else 0.0
    model.drug_entering = entering
    model.drug_flow = arrived * (1.0 - model.drug_interdiction)
    ratio = price_index(s.cocaine_supply, rp.demand_elasticity, rp.price_cap)
    model.drug_price = baseline_price(model) * ratio
    model.drug_revenue = model.drug_price * arrived * KG_PER_TONNE / 1e6
