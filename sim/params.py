"""Typed parameters, their defaults with sources, the named presets, and validation.

One line per parameter: ``value  # meaning, unit; source``. Everything the model reads comes from
a :class:`Params` object; Hydra (in ``experiments/``) and the keyword API of
:class:`sim.CartelModel` both resolve to it, so a yaml override and a keyword argument give the
same model.

Time unit: one step is one week. Money: US$ millions (``musd``). People: persons.
Values marked *calibrated* were set by hand so that the default ``national`` run lands on the
targets of ``docs/odd.md`` (section Calibration); *assumed* means no published number was found
and the value is a modelling choice, listed there as a candidate for sensitivity analysis.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from typing import Any

TARGETINGS = ("leaders", "operators", "violence")
INTERVENTION_KINDS = ("remove_leader",)
REMOVAL_MODES = ("capture", "kill")


class ParamError(ValueError):
    """A parameter value that is not allowed. ``str(err)`` is one line naming key, value and rule."""

    def __init__(self, key: str, value: Any, allowed: str, unknown_key: bool = False):
        self.key, self.value, self.allowed = key, value, allowed
        if unknown_key:
            super().__init__(f"unknown key '{key}' (set to {value!r}; allowed keys here: {allowed})")
        else:
            super().__init__(f"invalid value for '{key}': {value!r} (allowed: {allowed})")


# --------------------------------------------------------------------------------------------------
# Parameter groups
# --------------------------------------------------------------------------------------------------
@dataclass
class TerritoryParams:
    """Which territory graph to build (see :mod:`sim.territory`)."""

    name: str = "mexico_states"  # builder: small | mexico_states | national
    nodes: int = 0  # number of nodes for synthetic builders (0: the builder's default); count
    population: float = 126_014_024  # total population spread over synthetic nodes, persons; INEGI Censo 2020
    nodes_file: str = ""  # territory=files: CSV of nodes (code, name, population, border[, state, port, lat, lon])
    edges_file: str = ""  # territory=files: CSV of land adjacency (a, b: node codes)


@dataclass
class Shares:
    """Split of the yearly budget across the four Mérida pillars (fractions summing to 1)."""

    disruption: float = 0.25  # pillar 1, disrupt organised crime (police units, intelligence)
    rule_of_law: float = 0.25  # pillar 2, courts, prosecutors, vetting against corruption
    border: float = 0.25  # pillar 3, 21st-century border (interdiction of guns south, drugs north)
    prevention: float = 0.25  # pillar 4, resilient communities (youth and community prevention)


@dataclass
class PolicyParams:
    """The decision: how much is spent each year, on which pillar, and whom police target."""

    name: str = "none"  # preset name, for the record
    budget_musd: float = 0.0  # yearly budget, US$ millions; Mérida ~230/yr 2007-2020 (seed article)
    shares: Shares = field(default_factory=Shares)  # pillar split, fractions summing to 1
    targeting: str = "leaders"  # whom funded police units go after: leaders | operators | violence
    prevention_share: float = -1.0  # if in [0, 1]: sets shares.prevention and rescales the other pillars to keep their mix (for sweeps); -1: shares as given


@dataclass
class ScenarioParams:
    """The world outside the policy maker's control (EMA Workbench's 'uncertainties')."""

    name: str = "baseline"  # preset name, for the record
    recruitment_scale: float = 1.0  # multiplies recruitment of every cell; dimensionless
    gun_inflow: float = 213_000.0  # guns a year crossing south from the US; McDougal et al. 2013 (253k) / GAO-16-223, domain-facts 200-250k
    drug_revenue_musd: float = 6_000.0  # cartel revenue from drugs moved north, US$ M/yr; RAND 2010 / Kilmer et al. (6-7 bn), assumed level
    extortion_rate: float = 2e-6  # extortion revenue per resident of a held plaza, US$ M/person/yr; assumed (~US$2/person/yr)
    background_homicide_rate: float = 5.0  # homicides per 100k residents a year not tied to cartels; calibrated to 2007 INEGI (8.1/100k total)


@dataclass
class CartelParams:
    """Cartel groups, leaders and middle operators."""

    initial_groups: int = 6  # major organisations at start (2006-2007: 4-7); Atuesta & Pérez-Dávila 2018
    initial_members_per_capita: float = 8.0e-4  # members per resident at start (~100k in 2007); Prieto-Curiel et al. 2023 (115k in 2012)
    initial_coverage: float = 0.55  # share of nodes held at start (highest trafficking value first); assumed
    succession_clarity: float = 0.25  # P(a removed leader has an accepted successor); calibrated to the growth in groups (6 in 2007 to ~80 in 2011); Jones 2013, Phillips 2015 (qualitative)
    recruitment_rate: float = 0.00253  # gross recruits per member per week at vulnerability 1; calibrated (experiments.calibrate: INEGI homicides 2007-16, ~115k members 2012, ~80 groups 2011); Prieto-Curiel et al. 2023 (~0.25%/wk)
    saturation: float = 0.00176  # exits per member per week when the plaza is at capacity; calibrated (experiments.calibrate), the omega term of Prieto-Curiel et al. 2023
    capacity_per_capita: float = 2.2e-3  # members a plaza sustains per resident at trafficking value 0; calibrated to ~175k members
    capacity_value_weight: float = 2.0  # extra capacity per unit of trafficking value (0-1); assumed
    lethality: float = 0.00836  # attrition scale: a member facing an equal, unarmed rival force dies with probability lethality/2 a week; calibrated (experiments.calibrate; ~120 members killed/wk, Prieto-Curiel et al. 2023)
    gun_lethality: float = 2.0  # extra lethality at saturating guns per member; assumed (Lanchester force multiplier)
    guns_half: float = 1.0  # guns per member at which half the gun effect is reached; assumed
    gun_depreciation: float = 1 / 104  # share of a gun stock lost, seized or sold on each week; assumed (2-year life)
    gun_spend_share: float = 0.3  # share of an operator's weekly cash spent on guns; assumed
    cash_burn: float = 0.1  # share of a cell's cash spent each week on wages and upkeep; assumed
    gun_price_musd: float = 1.5e-3  # price of a trafficked gun in Mexico, US$ M; ~US$1,500 (Chicoine 2011)
    civilian_ratio: float = 2.2  # civilians killed per member killed in fights; calibrated to ~19% of homicides being members (Prieto-Curiel et al. 2023)
    spillover: float = 0.3  # share of civilian victims of a fight killed in a neighbouring plaza; assumed (Osorio 2015; Calderón et al. 2015: violence spreads to neighbours)
    predation_rate: float = 2.96e-3  # civilians killed per member per week in a contested plaza (executions, extortion); calibrated (experiments.calibrate: INEGI homicides 2007-16)
    predation_held: float = 0.2  # predation in a plaza one group holds unchallenged, relative to a contested one; assumed
    internal_violence: float = 0.5  # fight intensity among a leaderless group's own cells (succession fight), relative to rivals; assumed
    expansion_rate: float = 0.02  # P(an operator tries to take a neighbouring plaza) per week with a leader; assumed
    splinter_push: float = 2.0  # extra expansion effort of a splinter group in its first year; assumed (Phillips 2015; Osorio 2015)
    expansion_share: float = 0.25  # share of the cell sent to open or contest a plaza; assumed
    expansion_min_members: int = 20  # smallest cell that expands; persons; assumed
    retreat_members: int = 5  # a cell smaller than this abandons its plaza; persons; assumed
    tribute_share: float = 0.3  # share of operator income passed to the leader; assumed
    bribe_share: float = 0.5  # share of leader cash spent on bribes each week; assumed
    loyalty_mean: float = 0.75  # mean loyalty of an operator to its leader (0-1); assumed
    headless_weeks: int = 8  # weeks a group without an accepted successor stays leaderless; assumed (Calderón et al. 2015: six months of violence)
    lieutenants: int = 6  # contenders in an open succession: bosses of the group's largest cells; assumed (Jones 2013: a few regional lieutenants)
    defection_rate: float = 0.51  # weekly P(a contender defects) in a headless group, times (1-loyalty); calibrated (experiments.calibrate: ~80 groups in 2011)
    weak_leader_defection: float = 5e-5  # weekly P(defection) of a boss under a leader, times (1-loyalty) and its cell's size relative to the group's mean cell; assumed
    leader_mortality: float = 0.02  # P(a leader dies or retires) per year, outside policing; assumed
    splinter_rivalry: float = 2.0  # fight-intensity multiplier between a splinter and its parent; assumed (Phillips 2015)
    absorb_share: float = 0.3  # P(a defecting cell joins a stronger neighbouring group instead of splitting); assumed


@dataclass
class CommunityParams:
    """Communities: one per node. Resilience and legal opportunity set vulnerability to recruitment."""

    youth_share: float = 0.13  # share of residents who are young men 15-29 at risk; INEGI 2020 (12.9%)
    resilience_mean: float = 0.4  # mean community resilience at start (0-1); assumed
    opportunity_mean: float = 0.5  # mean legal opportunity at start (0-1); assumed (Dell et al. 2019: legal income lowers recruitment)
    violence_erosion: float = 0.02  # resilience lost per homicide per 10k residents per week; assumed
    resilience_recovery: float = 0.002  # weekly relaxation of resilience toward its start value; assumed
    prevention_effect: float = 0.45  # max cut in recruitment from prevention; Heller 2014 (-43%), Heller et al. 2017 (-45 to -50%)
    prevention_half_musd: float = 100.0  # prevention spending per year (US$ M, national) that reaches half the max effect; assumed
    takeup: float = 0.55  # share of those offered who take up programmes; Heller 2014 / Heller et al. 2017


@dataclass
class PoliceParams:
    """Police units: the policy's disruption spending buys units; a domestic base force exists too."""

    unit_cost_musd: float = 1.0  # yearly cost of one federal operations unit, US$ M; assumed
    base_units_per_million: float = 1.0  # domestic units per million residents, funded outside the policy; calibrated (~110 arrests/wk)
    arrest_k: float = 2.3  # Epstein (2002) constant in P = 1 - exp(-k C/A)
    unit_strength: float = 0.25  # effective police C of one unit at full effort in P = 1 - exp(-k C/A), A = members at the plaza; calibrated (~110 arrests/wk)
    operator_exposure: float = 0.02  # P-scale of arresting the plaza boss per unit-week; assumed
    boss_crew: float = 5.0  # mean associates arrested with a plaza boss, persons; assumed
    leader_exposure: float = 0.0022  # P-scale of capturing a leader per unit-week; calibrated to ~8 kingpins a year (25 of 37 most wanted, 2009-2011)
    leader_protection: float = 0.5  # protection grows as (group members / 1000)^this; assumed
    intelligence_gain: float = 1.0  # multiplies effort per US$ 100 M of disruption spending (intelligence sharing); assumed
    corruption_mean: float = 0.3  # mean corruption of officials at start (0-1); assumed (Cienfuegos case, seed article)
    bribe_effect: float = 0.02  # corruption gained per US$ M of bribes per 1M residents per week; assumed
    vetting_effect: float = 0.002  # weekly corruption cut per US$ 100 M/yr of rule-of-law spending; assumed
    deterrence: float = 0.3  # fight intensity falls as exp(-deterrence * units at the plaza); assumed
    kill_share: float = 0.1  # share of police leader removals that end in the leader's death; assumed


@dataclass
class CourtParams:
    """Courts, one per state: backlog, conviction, prison, release."""

    capacity_per_million: float = 3.0  # cases resolved per million residents per week; calibrated (backlogs, México Evalúa)
    capacity_gain: float = 0.5  # capacity multiplier gained per US$ 100 M/yr of rule-of-law spending; assumed
    conviction_base: float = 0.35  # P(conviction) of a processed case with no corruption; calibrated to ~93% homicide impunity (Impunidad Cero)
    rule_of_law_gain: float = 0.3  # conviction multiplier gained per US$ 100 M/yr of rule-of-law spending; assumed
    sentence_weeks: int = 260  # prison term of every convict, weeks (5 years); assumed
    return_to_crime: float = 0.8  # share of released or acquitted who rejoin a cell; assumed


@dataclass
class BorderParams:
    """Pillar 3: interdiction of guns going south and drugs going north."""

    gun_interdiction_max: float = 0.5  # max share of southbound guns stopped; assumed
    drug_interdiction_max: float = 0.3  # max share of northbound drug revenue seized; assumed
    half_musd: float = 100.0  # border spending (US$ M/yr) reaching half the max interdiction; assumed


@dataclass
class OutputParams:
    nodes: bool = False  # also record one row per node per week (nodes.parquet)
    csv: bool = False    # also write each table as CSV beside its parquet file (timeseries.csv, nodes.csv)


@dataclass
class Intervention:
    """A timed event. ``remove_leader``: the leader of ``group`` is taken out during week ``at_step``."""

    kind: str = "remove_leader"  # remove_leader
    group: Any = "largest"  # 'largest' (most members when the event fires) or a group id
    at_step: int = 1  # week in which it happens
    mode: str = "capture"  # capture | kill


@dataclass
class Params:
    """All parameters of one run."""

    seed: int = 0  # root of every random stream
    steps: int = 520  # weeks to simulate (520 = 10 years)
    territory: TerritoryParams = field(default_factory=TerritoryParams)
    policy: PolicyParams = field(default_factory=PolicyParams)
    scenario: ScenarioParams = field(default_factory=ScenarioParams)
    cartels: CartelParams = field(default_factory=CartelParams)
    community: CommunityParams = field(default_factory=CommunityParams)
    police: PoliceParams = field(default_factory=PoliceParams)
    court: CourtParams = field(default_factory=CourtParams)
    border: BorderParams = field(default_factory=BorderParams)
    output: OutputParams = field(default_factory=OutputParams)
    interventions: list[Intervention] = field(default_factory=list)


# --------------------------------------------------------------------------------------------------
# Presets
# --------------------------------------------------------------------------------------------------
MERIDA_BUDGET_MUSD = 230.0  # Mérida: ~US$3 bn 2007-2020, ~230 M/yr (seed article)

TERRITORIES = {
    "small": TerritoryParams(name="small", nodes=40, population=3_000_000),
    "mexico_states": TerritoryParams(name="mexico_states"),
    "national": TerritoryParams(name="national", nodes=2470),
    "files": TerritoryParams(name="files"),  # your own: set territory.nodes_file and territory.edges_file
}

POLICIES = {
    "none": PolicyParams(name="none", budget_musd=0.0, targeting="violence"),
    # pillar 1 dominant and kingpins targeted: the 2007-2012 emphasis (seed article)
    "kingpin": PolicyParams(
        name="kingpin", budget_musd=MERIDA_BUDGET_MUSD, targeting="leaders",
        shares=Shares(disruption=0.70, rule_of_law=0.15, border=0.10, prevention=0.05),
    ),
    # the 2014-2018 mix: prevention about one third (seed article)
    "merida": PolicyParams(
        name="merida", budget_musd=MERIDA_BUDGET_MUSD, targeting="leaders",
        shares=Shares(disruption=0.30, rule_of_law=0.25, border=0.12, prevention=0.33),
    ),
    # the article's proposal: half to community prevention, police on the middle layer
    "prevention": PolicyParams(
        name="prevention", budget_musd=MERIDA_BUDGET_MUSD, targeting="operators",
        shares=Shares(disruption=0.20, rule_of_law=0.20, border=0.10, prevention=0.50),
    ),
}

SCENARIOS = {
    "baseline": ScenarioParams(),
    "high_guns": ScenarioParams(name="high_guns", gun_inflow=400_000.0),
    "low_guns": ScenarioParams(name="low_guns", gun_inflow=50_000.0),
    "economic_shock": ScenarioParams(name="economic_shock", recruitment_scale=1.5),
    # the hindcast's world (experiments.validate): 2007 conditions are the baseline's (initial groups,
    # members, gun inflow), under the name the results carry
    "mexico_2007": ScenarioParams(name="mexico_2007"),
}

PRESETS: dict[str, dict[str, Any]] = {"territory": TERRITORIES, "policy": POLICIES, "scenario": SCENARIOS}


# --------------------------------------------------------------------------------------------------
# Building Params from nested dicts (Hydra) or keyword arguments (Mesa tools)
# --------------------------------------------------------------------------------------------------
def to_dict(obj: Any) -> Any:
    """A dataclass (or list of them) as plain nested dicts and lists."""
    return dataclasses.asdict(obj) if dataclasses.is_dataclass(obj) else obj


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


def _coerce(key: str, value: Any, tp: Any) -> Any:
    """Check ``value`` against the annotated type ``tp``; ints are accepted where floats are."""
    if tp is Any:
        return value
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ParamError(key, value, "true or false")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ParamError(key, value, "an integer")
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = float(value)
            if value != value or value in (float("inf"), float("-inf")):
                raise ParamError(key, value, "a finite number")
            return value
        raise ParamError(key, value, "a number")
    if tp is str:
        if isinstance(value, str):
            return value
        raise ParamError(key, value, "a string")
    raise ParamError(key, value, _type_name(tp))


def _build(cls: type, data: Any, prefix: str) -> Any:
    """Build dataclass ``cls`` from ``data`` (a mapping), starting from its defaults."""
    if dataclasses.is_dataclass(data):
        data = dataclasses.asdict(data)
    if not isinstance(data, dict):
        raise ParamError(prefix.rstrip("."), data, f"a mapping of {cls.__name__} fields")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ParamError(prefix + unknown[0], data[unknown[0]], ", ".join(sorted(names)), unknown_key=True)
    kwargs = {}
    for name, value in data.items():
        tp, key = hints[name], prefix + name
        if dataclasses.is_dataclass(tp):
            kwargs[name] = _build(tp, value, key + ".")
        elif typing.get_origin(tp) is list:
            if not isinstance(value, (list, tuple)):
                raise ParamError(key, value, "a list")
            (item_tp,) = typing.get_args(tp)
            kwargs[name] = [_build(item_tp, v, f"{key}[{i}].") for i, v in enumerate(value)]
        else:
            kwargs[name] = _coerce(key, value, tp)
    return cls(**kwargs)


def _merge(base: dict, update: dict) -> dict:
    out = dict(base)
    for k, v in update.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _preset(group: str, name: Any) -> dict:
    table = PRESETS[group]
    if not isinstance(name, str) or name not in table:
        raise ParamError(group, name, "one of " + ", ".join(table))
    return to_dict(table[name])


def from_dict(data: dict) -> Params:
    """Params from nested plain dicts (as Hydra composes them); validated."""
    params = _build(Params, dict(data), "")
    _apply_prevention_share(params.policy)
    validate(params)
    return params


def _apply_prevention_share(policy: PolicyParams) -> None:
    """``prevention_share`` in [0, 1] sets the prevention share; the other pillars keep their mix."""
    share = policy.prevention_share
    if share == -1.0:
        return
    _check(0.0 <= share <= 1.0, "policy.prevention_share", share, "a fraction in [0, 1], or -1 (off)")
    s = policy.shares
    rest = s.disruption + s.rule_of_law + s.border
    if rest <= 0:
        s.disruption = s.rule_of_law = s.border = 1.0 / 3.0
        rest = 1.0
    k = (1.0 - share) / rest
    s.disruption, s.rule_of_law, s.border, s.prevention = s.disruption * k, s.rule_of_law * k, s.border * k, share


def from_kwargs(**kwargs: Any) -> Params:
    """Params from Mesa-style keyword arguments.

    Group keys take a preset name (``policy="kingpin"``) or a mapping; nested keys are written with
    double underscores (``policy__shares__prevention=0.5``) and applied after the presets.
    """
    data: dict[str, Any] = {}
    for group in PRESETS:
        if group in kwargs and isinstance(kwargs[group], str):
            data[group] = _preset(group, kwargs.pop(group))
    nested: dict[str, Any] = {}
    for key, value in kwargs.items():
        parts = key.split("__")
        node = nested
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ParamError(key.replace("__", "."), value, "a key inside a group")
        node[parts[-1]] = value
    data = _merge(data, nested)
    return from_dict(data)


# --------------------------------------------------------------------------------------------------
# Validation: ranges and cross-field rules that types alone do not catch
# --------------------------------------------------------------------------------------------------
_UNIT_INTERVAL = {
    "cartels": ["initial_coverage", "succession_clarity", "gun_depreciation", "gun_spend_share", "expansion_rate",
                "expansion_share", "tribute_share", "cash_burn", "predation_held", "spillover", "bribe_share", "loyalty_mean", "defection_rate",
                "weak_leader_defection", "leader_mortality", "absorb_share", "lethality", "saturation",
                "recruitment_rate"],
    "community": ["youth_share", "resilience_mean", "opportunity_mean", "resilience_recovery", "prevention_effect",
                  "takeup"],
    "police": ["corruption_mean", "kill_share"],
    "court": ["conviction_base", "return_to_crime"],
    "border": ["gun_interdiction_max", "drug_interdiction_max"],
}


def _check(cond: bool, key: str, value: Any, allowed: str) -> None:
    if not cond:
        raise ParamError(key, value, allowed)


def _check_territory_files(t: TerritoryParams) -> None:
    from .territory import TerritoryFileError, from_files  # territory imports this module

    _check(bool(t.nodes_file), "territory.nodes_file", t.nodes_file, "a CSV file of nodes (territory=files)")
    _check(bool(t.edges_file), "territory.edges_file", t.edges_file, "a CSV file of adjacency (territory=files)")
    try:
        from_files(t.nodes_file, t.edges_file)
    except TerritoryFileError as err:
        key = "territory.edges_file" if str(err).startswith(str(t.edges_file)) else "territory.nodes_file"
        raise ParamError(key, getattr(t, key.split(".")[1]), f"a usable territory file; here {err}") from None


def validate(p: Params) -> None:
    """Raise :class:`ParamError` on the first value outside its allowed range."""
    _check(p.steps > 0, "steps", p.steps, "an integer > 0 (weeks)")
    _check(p.seed >= 0, "seed", p.seed, "an integer >= 0")
    _check(p.territory.name in TERRITORIES, "territory.name", p.territory.name, "one of " + ", ".join(TERRITORIES))
    _check(p.territory.nodes >= 0, "territory.nodes", p.territory.nodes, "an integer >= 0")
    _check(p.territory.population > 0, "territory.population", p.territory.population, "a number > 0")
    if p.territory.name == "files":
        _check_territory_files(p.territory)
    _check(p.policy.budget_musd >= 0, "policy.budget_musd", p.policy.budget_musd, "a number >= 0 (US$ M/yr)")
    _check(p.policy.targeting in TARGETINGS, "policy.targeting", p.policy.targeting, " | ".join(TARGETINGS))
    shares = to_dict(p.policy.shares)
    for name, value in shares.items():
        _check(0.0 <= value <= 1.0, f"policy.shares.{name}", value, "a fraction in [0, 1]")
    total = sum(shares.values())
    _check(abs(total - 1.0) < 1e-6, "policy.shares", round(total, 6), "fractions summing to 1")
    _check(p.scenario.recruitment_scale >= 0, "scenario.recruitment_scale", p.scenario.recruitment_scale, "a number >= 0")
    _check(p.scenario.gun_inflow >= 0, "scenario.gun_inflow", p.scenario.gun_inflow, "a number >= 0 (guns/yr)")
    for key in ("drug_revenue_musd", "extortion_rate", "background_homicide_rate"):
        _check(getattr(p.scenario, key) >= 0, f"scenario.{key}", getattr(p.scenario, key), "a number >= 0")
    for group, keys in _UNIT_INTERVAL.items():
        for key in keys:
            value = getattr(getattr(p, group), key)
            _check(0.0 <= value <= 1.0, f"{group}.{key}", value, "a probability in [0, 1]")
    _check(p.cartels.initial_groups >= 1, "cartels.initial_groups", p.cartels.initial_groups, "an integer >= 1")
    _check(p.cartels.lieutenants >= 1, "cartels.lieutenants", p.cartels.lieutenants, "an integer >= 1")
    _check(p.cartels.headless_weeks >= 1, "cartels.headless_weeks", p.cartels.headless_weeks, "an integer >= 1")
    _check(p.court.sentence_weeks >= 1, "court.sentence_weeks", p.court.sentence_weeks, "an integer >= 1")
    for group in ("cartels", "community", "police", "court", "border"):
        for f in dataclasses.fields(getattr(p, group)):
            value = getattr(getattr(p, group), f.name)
            _check(value >= 0, f"{group}.{f.name}", value, "a number >= 0")
    for i, iv in enumerate(p.interventions):
        key = f"interventions[{i}]"
        _check(iv.kind in INTERVENTION_KINDS, key + ".kind", iv.kind, " | ".join(INTERVENTION_KINDS))
        _check(iv.mode in REMOVAL_MODES, key + ".mode", iv.mode, " | ".join(REMOVAL_MODES))
        _check(1 <= iv.at_step <= p.steps, key + ".at_step", iv.at_step, f"a week in 1..{p.steps} (steps)")
        ok_group = iv.group == "largest" or (isinstance(iv.group, int) and not isinstance(iv.group, bool) and iv.group >= 0)
        _check(ok_group, key + ".group", iv.group, "'largest' or a group id >= 0")
