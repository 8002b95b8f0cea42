"""CartelModel: the Mesa model that ties territory, agents, policy and outcomes together.

One step is one week. The schedule of a week (read it here, in :meth:`CartelModel.step`):

1. timed interventions act (:func:`sim.interventions.fire`); dated input changes of the timeline
   take effect (:func:`sim.timeline.apply`);
2. drug routes (recomputed monthly, :func:`sim.routes.update`); border flows: guns south, drug
   revenue north along the routes (:func:`sim.pillars.border.weekly_flows`); financial intelligence
   freezes a share of the laundered revenue and of the groups' cash (:func:`sim.pillars.finance.weekly`);
3. every cell earns, pays tribute, buys guns, recruits and loses members (:func:`sim.cells.update`);
4. leaders bribe and order expansion (``CartelLeader.step_all``, leaders in random order);
5. police and armed-forces units are deployed (:func:`sim.pillars.disruption.deploy`); their presence
   deters fights;
6. fights in contested plazas (:func:`sim.conflict.fight`);
7. successions: leaderless groups fight, split, or settle (:func:`sim.succession.update`);
8. operators abandon lost plazas or defect (``MiddleOperator.decide_all``, random order); units arrest
   where they stand (``Police.step``, in deployment order);
9. courts try cases and release prisoners (``Court.step``);
10. predation and background homicides (:mod:`sim.people`); communities and corruption update
    (:func:`sim.pillars.prevention.update_communities`, :func:`sim.pillars.rule_of_law.update_corruption`);
11. outcomes are recorded (:class:`sim.metrics.Recorder`).

Random streams: one root seed spawns three independent seed sequences (numpy ``SeedSequence.spawn``):
the territory's, the world's (``model.world``: everything cartels, communities and the outside world
do) and the policy's (``model.state``: police, courts, interventions). Each side gives every process
its own generator, derived from (side, process, week) alone (:mod:`sim.streams`), so a policy that
changes how many draws one process takes never shifts another process's draws, nor any later week's:
two policies on the same seed face the same territory and the same draws of every world process
(exact common random numbers).
"""

from __future__ import annotations

import warnings
from typing import Any

import mesa
import numpy as np
import pandas as pd
from mesa.agentset import AgentSet
from mesa.discrete_space import Network
from mesa.experimental.scenarios import Scenario

from . import cells, conflict, interventions, routes, succession, territory, timeline
from .agents import CartelLeader, MiddleOperator
from .groups import Group
from .people import People
from .roster import Roster
from .pillars import apply_levers, border, disruption, finance, prevention, rule_of_law
from .metrics import Recorder
from .params import MEXICO_POPULATION, ParamError, Params, from_dict, from_kwargs, national_population, to_dict
from .streams import POLICY, WORLD, Streams

MUNICIPALITIES = 2_469  # municipalities (and Mexico City's boroughs) in 2020, INEGI Marco Geoestadístico
MUNICIPALITY_POPULATION = MEXICO_POPULATION / MUNICIPALITIES  # persons in a typical plaza (~51,000)


def _read_mesa_scenario(scenario: Scenario, kwargs: dict[str, Any], rng: int | None) -> int | None:
    """Add a Mesa Scenario's fields to ``kwargs``; return the seed (``rng`` or the scenario's)."""
    fields = {k: v for k, v in vars(scenario).items() if k != "rng"}
    kwargs.update(fields)
    if scenario.rng is not None and rng is not None and scenario.rng != rng:
        raise ValueError(f"rng ({rng}) and scenario.rng ({scenario.rng}) differ")
    return rng if rng is not None else scenario.rng


SEED_MAX = 2**63 - 1  # seeds are stored as 64-bit integers in the results tables


def fresh_seed() -> int:
    """A new random root seed (Mesa's ``rng=None``), from the operating system's entropy."""
    return int(np.random.SeedSequence().entropy) % (SEED_MAX + 1)


def _seed_value(rng: Any) -> int | None:
    """``rng`` as a plain int (numpy integers included), or None; anything else is refused."""
    if rng is None:
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) and 0 <= int(rng) <= SEED_MAX:
        return int(rng)
    raise ParamError("rng", rng, f"an integer seed in 0..{SEED_MAX}, or None for a fresh one")


class CartelModel(mesa.Model):
    """Cartel fragmentation and violence under a security budget.

    Build it from a :class:`~sim.params.Params`, from a config mapping (:meth:`from_config`), or
    with Mesa-style keywords: ``CartelModel(rng=1, policy="kingpin", territory="mexico_states",
    steps=104, policy__shares__prevention=0.5)``. ``rng`` (or ``seed``) is the root seed. A Mesa
    ``Scenario`` object as ``scenario`` (SolaraViz's Reset passes one) gives its fields as keywords.
    """

    def __init__(self, rng: int | None = None, params: Params | None = None, **kwargs: Any):
        if isinstance(kwargs.get("scenario"), Scenario):
            rng = _read_mesa_scenario(kwargs.pop("scenario"), kwargs, rng)
        rng = _seed_value(rng)
        if params is None:
            if rng is not None:
                if "seed" in kwargs and kwargs["seed"] != rng:
                    raise ParamError("seed", kwargs["seed"], f"the same value as rng ({rng}), or only one of them")
                kwargs["seed"] = rng
            elif "seed" not in kwargs:
                kwargs["seed"] = fresh_seed()  # as in Mesa: no seed given, a fresh one (recorded in p.seed)
            params = from_kwargs(**kwargs)
        elif kwargs:
            raise TypeError("pass either params or keyword overrides, not both")
        else:
            if not isinstance(params, Params):
                raise ParamError("params", type(params).__name__, "a sim.params.Params (or use from_config)")
            data = to_dict(params)
            if rng is not None:
                data["seed"] = rng
            params = from_dict(data)  # validated, and a copy: the caller's object is not changed
        self.p = params
        terr_ss, world_ss, policy_ss = np.random.SeedSequence(params.seed).spawn(3)
        self.world, self.state = Streams(world_ss, WORLD), Streams(policy_ss, POLICY)
        super().__init__(rng=np.random.default_rng(self.world.seed_sequence("mesa")))
        self.territory = territory.build(params.territory, params.community, np.random.default_rng(terr_ss))
        self.grid = Network(self.territory, random=self.random, layout=None)
        self._init_nodes()
        self._init_counters()
        self._init_agents()
        routes.init(self)  # drug routes at week 0
        for op in timeline.history_operations(self.p):  # a scenario's joint operations (its history file)
            interventions.schedule(self, op)
        self.recorder = Recorder(self)
        self.datacollector = self.recorder.collector
        self.census()
        self.running = True

    @classmethod
    def from_config(cls, cfg: Any) -> CartelModel:
        """Build from a Params, a nested mapping, or an OmegaConf/Hydra config."""
        if isinstance(cfg, Params):
            return cls(params=cfg)
        if hasattr(cfg, "_metadata"):  # an OmegaConf container, without importing omegaconf here
            from omegaconf import OmegaConf

            cfg = OmegaConf.to_container(cfg, resolve=True)
        return cls(params=from_dict(dict(cfg)))

    # ------------------------------------------------------------------------------------------
    # Set-up
    # ------------------------------------------------------------------------------------------
    def _init_nodes(self) -> None:
        g, p = self.territory, self.p
        self.n_nodes = n = g.number_of_nodes()
        attr = lambda key: np.array([g.nodes[i][key] for i in range(n)], dtype=np.float64)  # noqa: E731
        census = attr("population")  # the territory's own figures (2020 for the built-in ones)
        self.scale = census.sum() / MEXICO_POPULATION  # share of Mexico: national budgets and flows pro-rated to it
        self.population = census * national_population(p.scenario.population_year) / MEXICO_POPULATION
        # A node stands for k_i municipality-sized plazas (k_i < 1: smaller than a typical municipality).
        # Rules that depend on where groups meet are written per plaza so that a state behaves like the
        # municipalities it stands for: fights happen on the front between groups (a share 1/sqrt(k) of
        # the node), police density is units per plaza, thresholds are shares of a plaza's capacity.
        self.plazas_in = np.maximum(census / MUNICIPALITY_POPULATION, 1.0)
        self.contact = 1.0 / np.sqrt(self.plazas_in)
        self.value = attr("value")
        self.opportunity = attr("opportunity")
        self.resilience0 = attr("resilience")
        self.resilience = self.resilience0.copy()
        corruption = self.world["init"].normal(p.police.corruption_mean, p.police.corruption_sd, n)
        self.corruption0 = np.clip(corruption, 0.0, 1.0)
        self.corruption = self.corruption0.copy()
        cp = p.cartels
        capacity = cp.capacity_per_capita * self.population * (1 + cp.capacity_value_weight * self.value)
        self.capacity = np.maximum(capacity, 1.0)  # members the node sustains
        self.plaza_capacity = self.capacity / self.plazas_in  # members one municipality-sized plaza of it sustains
        self.people = People(self, np.round(self.population))
        self.neighbours = [list(g.neighbors(i)) for i in range(n)]
        self.plazas: list[dict[int, MiddleOperator]] = [{} for _ in range(n)]
        self.violence_recent = np.zeros(n)
        self.bribes = np.zeros(n)
        self.units_at = np.zeros(n, np.int64)  # units of either force per node this week
        self.military_at = np.zeros(n, np.int64)  # armed-forces units per node this week
        self.military_units = 0
        self.members_at = np.zeros(n)
        self.groups_at = np.zeros(n, np.int64)
        self.node_revenue = np.zeros(n)
        self.extortion = np.zeros(n)
        self.leaders_at: dict[int, list[CartelLeader]] = {}
        self.hunt_odds: dict[tuple, list[tuple]] = {}  # leader hunters' odds this week (sim/pillars/disruption.py)

    def _init_counters(self) -> None:
        self.groups: dict[int, Group] = {}  # groups alive
        self.all_groups: dict[int, Group] = {}  # every group that ever existed (genealogy)
        self._next_gid = 0
        self.roster = Roster()  # the cells, active or not, with their nodes and groups (sim/roster.py)
        self.events: list[dict] = []
        self.operations: dict[int, tuple[np.ndarray, list]] = {}  # running operations: id -> (nodes, units)
        self.gun_supply = 0.0
        self._reset_week()

    def _init_agents(self) -> None:
        for i in range(self.n_nodes):
            prevention.Community(self, i)
        rule_of_law.open_courts(self)
        apply_levers(self)  # every pillar's levers; staffs the units
        self._init_groups()
        prevention.update_vulnerability(self)

    def _init_groups(self) -> None:
        """Initial organisations: headquarters on high-value nodes, spread apart; each holds the
        high-value nodes nearest to it (``initial_coverage`` of all nodes)."""
        import networkx as nx

        cp, rng = self.p.cartels, self.world["init"]
        order = np.argsort(-(self.value + rng.uniform(0, cp.initial_rank_noise, self.n_nodes)))
        hqs: list[int] = []
        min_gap = max(1, int(np.sqrt(self.n_nodes) / 4))
        for j in order.tolist():
            if len(hqs) == cp.initial_groups:
                break
            if all(nx.shortest_path_length(self.territory, j, h) >= min_gap for h in hqs):
                hqs.append(j)
        for j in order.tolist():  # fewer spread-out nodes than groups: fill in without the gap
            if len(hqs) == min(cp.initial_groups, self.n_nodes):
                break
            if j not in hqs:
                hqs.append(j)
        n_held = max(len(hqs), int(round(cp.initial_coverage * self.n_nodes)))
        held = set(order[:n_held].tolist()) | set(hqs)
        nearest = {}
        for k, h in enumerate(hqs):
            for j, d in nx.single_source_shortest_path_length(self.territory, h).items():
                if j in held and (j not in nearest or d < nearest[j][0]):
                    nearest[j] = (d, k)
        total = cp.initial_members_per_capita * self.population.sum()
        held_nodes = sorted(nearest)
        weights = self.capacity[held_nodes] / self.capacity[held_nodes].sum()
        groups = [self.new_group(parent=-1) for _ in hqs]
        for j, w in zip(held_nodes, weights):
            m = min(int(round(total * w)), int(self.residents[j] * self.p.community.youth_share))  # from the young
            if m < cp.retreat_fill * self.plaza_capacity[j]:
                continue
            self.people.join(j, m)
            loyalty = float(np.clip(rng.normal(cp.loyalty_mean, cp.loyalty_sd), 0, 1))
            MiddleOperator(self, groups[nearest[j][1]], j, m, guns=cp.initial_guns_per_member * m, loyalty=loyalty)
        for group in groups:
            if group.plazas:
                succession.appoint(self, group)

    def new_group(self, parent: int) -> Group:
        group = Group(gid=self._next_gid, founded=self.week, parent=parent)
        self.groups[group.gid] = group
        self.all_groups[group.gid] = group
        self._next_gid += 1
        return group

    # ------------------------------------------------------------------------------------------
    # The week
    # ------------------------------------------------------------------------------------------
    @property
    def week(self) -> int:
        """The current week: during step t, t (Mesa's step counter)."""
        return self.steps

    def _reseed(self) -> None:
        """This week's generators: every process's, derived from (side, process, week) alone."""
        self.world.week(self.week)
        self.state.week(self.week)
        mesa_ss = self.world.seed_sequence("mesa")  # Mesa's own draws (none of the model's rules use them)
        self.rng = np.random.default_rng(mesa_ss)
        self.random.seed(int(mesa_ss.generate_state(1)[0]))

    def step(self) -> None:
        if self.week > self.p.steps:  # Mesa counted this step already; it is not run
            self.steps -= 1
            self.running = False
            warnings.warn(f"the model has run its steps={self.p.steps} weeks (running is False); step() "
                          "does nothing: build it with a larger steps to go on", RuntimeWarning, stacklevel=2)
            return
        self._reseed()
        self._reset_week()
        interventions.fire(self)
        timeline.apply(self)
        routes.update(self)
        border.weekly_flows(self)
        finance.weekly(self)
        cells.update(self)
        leaders = list(self._leaders())
        CartelLeader.step_all(self, [leaders[k] for k in self.world["leaders"].permutation(len(leaders)).tolist()])
        self.census()
        disruption.deploy(self)
        conflict.fight(self)
        succession.update(self)
        MiddleOperator.decide_all(self)
        self._bury_groups()
        self.census()
        disruption.locate_leaders(self)
        for unit in self.police:
            unit.step()
        for court in self.courts:
            court.step()
        self.census()
        conflict.predation(self)
        self.people.background_homicides(self.p.scenario.background_homicide_rate, self.p.court.ordinary_arrest_share)
        prevention.update_communities(self)
        rule_of_law.update_corruption(self)
        memory = 1.0 / self.p.police.violence_memory_weeks  # the recent homicides units follow (targeting=violence)
        self.violence_recent = (1.0 - memory) * self.violence_recent + memory * self.homicides
        self.recorder.measure(self)
        if self.week >= self.p.steps:
            self.running = False

    def run(self, progress: bool = False) -> pd.DataFrame:
        """Run to ``steps`` weeks and return the timeseries (one row per week)."""
        weeks = range(self.week, self.p.steps)
        if progress:
            from tqdm.auto import tqdm

            weeks = tqdm(weeks, desc="weeks", unit="wk", leave=False, disable=None)
        for _ in weeks:
            self.step()
        return self.timeseries()

    def timeseries(self) -> pd.DataFrame:
        return self.recorder.timeseries()

    @staticmethod
    def homicide_shares(ts: pd.DataFrame) -> dict[str, float]:
        """Share of the homicides in ``ts`` (weekly rows) from each cause (:data:`sim.metrics.CAUSES`)."""
        from .metrics import CAUSES

        total = float(ts["homicides"].sum())
        return {cause: float(ts[f"homicides_{cause}"].sum() / total) if total else 0.0 for cause in CAUSES}

    def node_table(self) -> pd.DataFrame:
        return self.recorder.node_table(self.week)

    def summary(self) -> dict[str, Any]:
        """End-of-run outcomes (last week's stocks, yearly flows over the last 52 weeks, totals)."""
        ts = self.timeseries()
        if ts.empty:
            return self._summary_at_start()
        last = ts.iloc[-1]
        year = ts.tail(52)
        return {
            "seed": self.p.seed,
            "weeks": int(last["step"]),
            "homicides_last_year": int(year["homicides"].sum()),
            "homicides_total": int(ts["homicides"].sum()),
            "homicide_rate_last_year": float(year["homicides"].sum() / self.population.sum() * 1e5 * 52 / len(year)),
            "members": int(last["members"]),
            "groups_active": int(last["groups_active"]),
            "effective_groups": float(last["effective_groups"]),
            "largest_group_share": float(last["largest_group_share"]),
            "splinters_total": int(ts["splinters"].sum()),
            "leaders_removed_total": int(ts["leaders_removed"].sum()),
            "operators_arrested_total": int(ts["operators_arrested"].sum()),
            "recruits_last_year": int(year["recruits"].sum()),
            "impunity": float(last["impunity"]),
            "contested_plazas": int(last["contested_plazas"]),
            "population": round(float(self.population.sum())),  # persons: a whole number (the sum has float noise)
            "members_per_100k": float(last["members"] / self.population.sum() * 1e5),
            "homicide_convictions_last_year": int(year["homicide_convictions"].sum()),
            "backlog": int(last["backlog"]),
            **{f"homicide_share_{cause}": share for cause, share in self.homicide_shares(year).items()},
            "interventions": self.events,
        }

    def _summary_at_start(self) -> dict[str, Any]:
        """The summary before any week has run, with the same keys: flows 0, stocks as built."""
        from .metrics import CAUSES, concentration

        sizes = np.array([g.size for g in self.groups.values() if g.alive], dtype=np.float64)
        effective, largest, _ = concentration(sizes)
        members = int(sum(o.members for o in self.active_operators()))
        return {
            "seed": self.p.seed, "weeks": 0, "homicides_last_year": 0, "homicides_total": 0,
            "homicide_rate_last_year": 0.0, "members": members, "groups_active": len(sizes),
            "effective_groups": effective, "largest_group_share": largest,
            "splinters_total": 0, "leaders_removed_total": 0, "operators_arrested_total": 0,
            "recruits_last_year": 0, "impunity": 1.0, "contested_plazas": len(self.contested_nodes()),
            "population": round(float(self.population.sum())),  # persons: a whole number (the sum has float noise)
            "members_per_100k": float(members / self.population.sum() * 1e5),
            "homicide_convictions_last_year": 0, "backlog": sum(c.waiting for c in self.courts),
            **{f"homicide_share_{cause}": 0.0 for cause in CAUSES},
            "interventions": self.events,
        }

    # ------------------------------------------------------------------------------------------
    # Bookkeeping used by the submodels (people are conserved: see people_total)
    # ------------------------------------------------------------------------------------------
    def _reset_week(self) -> None:
        if hasattr(self, "people"):
            self.people.new_week()
        self.recruits = self.splinters = self.leaders_removed = self.operators_arrested = 0
        self.convictions = self.homicide_convictions = self.attacks = 0
        self.released_untried = 0
        self.crews = {"stayed": 0, "defected": 0, "splintered": 0, "dissolved": 0}

    @property
    def residents(self) -> np.ndarray:
        """Residents per node (persons; read-only use: :class:`sim.people.People` moves them)."""
        return self.people.residents

    @property
    def homicides(self) -> np.ndarray:
        """This week's homicides per node."""
        return self.people.homicides

    def _leaders(self) -> AgentSet:
        return self.agents_by_type.get(CartelLeader, AgentSet([], random=self.random))

    def _operators(self) -> AgentSet:
        return self.agents_by_type.get(MiddleOperator, AgentSet([], random=self.random))

    def active_operators(self) -> list[MiddleOperator]:
        """The active cells, in the order Mesa holds them (a new list: callers may change it)."""
        return list(self._active())

    def _active(self) -> list[MiddleOperator]:
        """The active cells in Mesa's order, kept by the roster between calls until a cell is created
        or deactivated; read-only, for the submodels' weekly passes."""
        return self.roster.cells()

    def per_group(self, value, dtype=np.float64) -> np.ndarray:
        """``value(group)`` of every group alive, indexed by group id (0 for the others); index it with
        the cells' group ids (``roster.gids()``) for each cell's group's."""
        out = np.zeros(self._next_gid, dtype)
        for g in self.groups.values():
            out[g.gid] = value(g)
        return out

    def census(self) -> None:
        """Recount members and groups present at each node, and each group's size."""
        ops, nodes, gids = self._active(), self.roster.nodes(), self.roster.gids()
        # a list comprehension reads the attribute fastest; fromiter of a list of ints with its length
        # makes the same int64 array as np.array, sooner
        members = [o.members for o in ops]
        members = np.fromiter(members, np.int64, len(members))
        self.members_at = np.bincount(nodes, weights=members, minlength=self.n_nodes)
        self.groups_at = np.bincount(nodes, minlength=self.n_nodes)
        sizes = np.bincount(gids, weights=members, minlength=self._next_gid).astype(np.int64).tolist()
        for gid, group in self.groups.items():
            group.size = sizes[gid]

    def contested_nodes(self) -> list[int]:
        return np.flatnonzero(self.groups_at >= 2).tolist()

    def controllers(self) -> np.ndarray:
        """Per node, the id of the group with the largest cell there (-1 where no group is present)."""
        out = np.full(self.n_nodes, -1, np.int32)
        nodes = self.roster.nodes()  # the active cells are the cells in self.plazas, node by node
        if not len(nodes):
            return out
        members = [o.members for o in self._active()]
        members = np.fromiter(members, np.int64, len(members))
        most = np.full(self.n_nodes, -1, np.int64)
        np.maximum.at(most, nodes, members)
        top = members == most[nodes]  # the cells as large as the largest at their node
        ties = np.bincount(nodes[top], minlength=self.n_nodes)
        one = top & (ties[nodes] == 1)
        out[nodes[one]] = self.roster.gids()[one]
        # where two or more cells tie, the first of them in the node's plazas (max() keeps the first)
        for j in np.flatnonzero(ties > 1).tolist():
            out[j] = max(self.plazas[j].values(), key=lambda o: o.members).group.gid
        return out

    def _bury_groups(self) -> None:
        """Groups that hold no plaza are gone; a leader without a group goes home."""
        for gid in [gid for gid, g in self.groups.items() if not g.alive]:
            group = self.groups.pop(gid)
            if group.leader is not None:
                self.people.go_home(group.leader.node, 1)
                group.leader.leave()

    def people_total(self) -> int:
        """Residents + members + leaders + people in court or prison + the dead: constant in a run."""
        return self.people.total()
