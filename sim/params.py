"""Typed parameters, their defaults with sources, the named presets, and validation.

One line per parameter: ``value  # meaning, unit; source``. Everything the model reads comes from
a :class:`Params` object; Hydra (in ``experiments/``) and the keyword API of
:class:`sim.CartelModel` both resolve to it, so a yaml override and a keyword argument give the
same model.

Time unit: one step is one week. Money: US$ millions (``musd``). People: persons.
Values marked *calibrated* were fitted to published targets (``docs/odd.md``, section 8): those citing
``experiments.calibrate`` by history matching on the 2007-2014 hindcast (``docs/validation/calibration.json``),
``cartels.lethality`` by the earlier ``experiments.calibrate`` search, the others by hand against the
default ``national`` run; *assumed* means no published number was found
and the value is a modelling choice, listed there as a candidate for sensitivity analysis.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from .interventions import Intervention
from .pillars import BUDGET_PILLARS, PILLARS
from .schema import ParamError, build, check, check_ranges, range_of, ranged, to_dict, unit

TARGETINGS = ("leaders", "operators", "violence")

# --------------------------------------------------------------------------------------------------
# Parameter groups
# --------------------------------------------------------------------------------------------------
@dataclass
class TerritoryParams:
    """Which territory graph to build (see :mod:`sim.territory`)."""

    name: str = "mexico_states"  # builder: small | mexico_states | national | files (your own nodes and edges files)
    nodes: int = ranged(0, 11, 20_000, also=(0,), hint='0 is the builder default')  # number of nodes for synthetic builders (0: the builder's default); count
    population: float = ranged(126_014_024, 0, 1e10, lo_open=True, hint='persons')  # total population spread over synthetic nodes, persons; INEGI Censo 2020
    nodes_file: str = ""  # territory=files: CSV of nodes (code, name, population, border[, state, port, lat, lon])
    edges_file: str = ""  # territory=files: CSV of land adjacency (a, b: node codes)
    closeness_weight: float = unit(0.3)  # weight of a node's closeness to the US border in its trafficking value, the rest (1 - this) on its drug traffic relative to the largest: the corridors when the territory is built, the routes' flows once they run (sim/routes.py); dimensionless; assumed


Shares = dataclasses.make_dataclass(
    "Shares", [(p.name, float, unit(p.share, doc=p.doc)) for p in PILLARS if not p.funded_from], module=__name__)
Shares.__doc__ = "Split of the yearly budget across the Mérida pillars (fractions summing to 1; sim.pillars.PILLARS)."


@dataclass
class PolicyParams:
    """The decision: how much is spent each year, on which pillar, and whom police target."""

    name: str = "none"  # preset name, for the record
    budget_musd: float = ranged(0.0, 0, 100_000, hint='US$ millions a year (100000 = US$ 100 bn); a budget in dollars is a million times too large')  # yearly budget, US$ millions; Mérida ~230/yr 2007-2020 (seed article)
    shares: Shares = field(default_factory=Shares)  # pillar split, fractions summing to 1
    targeting: str = "leaders"  # whom funded police units go after: leaders | operators | violence (the none preset says violence: without a budget no unit is funded, so the two build the same model)
    prevention_share: float = ranged(-1.0, 0, 1, also=(-1,), hint='-1: off, shares as given')  # if in [0, 1]: sets shares.prevention and rescales the other pillars to keep their mix (for sweeps); -1: shares as given
    military_share: float = unit(0.0)  # share of the funded units that are armed forces (army, navy) rather than federal police; 0: all police (as before this key existed). The army took over most anti-cartel operations from 2007 (seed article: militarisation of security)
    finance_share: float = unit(0.0)  # share of the disruption pillar's money (budget x shares.disruption) spent on financial intelligence (anti-money laundering, sim/pillars/finance.py) instead of police units; 0: none (the presets)


@dataclass
class ScenarioParams:
    """The world outside the policy maker's control (EMA Workbench's 'uncertainties')."""

    name: str = "baseline"  # preset name, for the record
    recruitment_scale: float = ranged(1.0, 0, 5, hint='beyond 5 the young, not the rate, set recruitment')  # multiplies recruitment of every cell; dimensionless
    gun_inflow: float = ranged(213_000.0, 0, 1e7, hint='guns a year, about 50 times the estimate')  # guns a year crossing south from the US; assumed within 200,000-250,000 (McDougal, Shirk, Muggah & Patterson 2015; their 2013 report gave 253,000); GAO-16-223: about 70% of traced crime guns came from the US
    drug_revenue_musd: float = ranged(6_000.0, 0, 100_000, hint='US$ millions a year')  # cartel revenue from drugs moved north, US$ M/yr; RAND 2010 / Kilmer et al. (6-7 bn), assumed level
    extortion_rate: float = ranged(2e-6, 0, 1e-3, hint='US$ M per person a year (1e-3 = US$ 1000)')  # extortion revenue per resident of a held plaza, US$ M/person/yr; assumed (~US$2/person/yr)
    background_homicide_rate: float = ranged(5.6, 0, 1000, hint='per 100k residents a year')  # homicides per 100k residents a year not tied to organised crime (an input); INEGI 2007 (8,867) less the 2,826 the federal government counted as organised-crime killings that year (Presidencia, Base de datos de homicidios presuntamente relacionados con la delincuencia organizada), over 2007's 106.9 M people
    cocaine_supply: float = ranged(1.0, 0, 10, hint='index, 1 = baseline')  # drugs entering the territory at ports and the southern border, index (1 = baseline, routes.tonnes_a_year); see sim/routes.py
    population_year: int = ranged(2020, 2005, 2025, hint="a year; INEGI censuses 2005-2020, extended to 2025")  # year whose population the territory has (node populations scaled to INEGI's national total that year, interpolated between censuses 2005-2020); the mexico_2007 scenario uses 2007
    timeline_file: str = ""  # dated input changes this world brings (sim/timeline.py): a CSV path, or a name (mexico_2007 = sim/data/mexico_2007_timeline.csv); applied before the top-level `timeline`; "" = none


@dataclass
class CartelParams:
    """Cartel groups, leaders and middle operators."""

    initial_groups: int = ranged(6, 1, 500)  # major organisations at start (2006-2007: 4-7); Atuesta & Pérez-Dávila 2018
    initial_members_per_capita: float = ranged(8.0e-4, 0, 0.05)  # members per resident at start (about 101k at the 2020 population, 85k at 2007's in the hindcast); Prieto-Curiel et al. 2023 (115k in 2012)
    initial_coverage: float = unit(0.55)  # share of nodes held at start (highest trafficking value first); assumed
    initial_rank_noise: float = ranged(0.2, 0, 10)  # largest random term added to a node's trafficking value when nodes are ranked for the first headquarters and held plazas (uniform from 0 to this); dimensionless; assumed
    initial_guns_per_member: float = ranged(1.0, 0, 100, hint='guns per member')  # guns a cell holds per member at start; guns per person; assumed
    succession_clarity: float = unit(0.1985)  # P(a removed leader has an accepted successor); calibrated (experiments.calibrate: history matching, docs/validation/calibration.json) against groups at the end of 2007 (4-7) and in 2011 (~80); was 0.25; Jones 2013, Phillips 2015 (qualitative)
    recruitment_rate: float = unit(0.00347)  # gross recruits per member per week at vulnerability 1; calibrated (experiments.calibrate: history matching, docs/validation/calibration.json) against INEGI homicides 2007-14, ~115k members 2012, groups 2007 and 2011; was 0.00253; Prieto-Curiel et al. 2023 (~0.25%/wk)
    saturation: float = unit(0.002)  # exits per member per week when the plaza is at capacity; calibrated (experiments.calibrate: history matching, docs/validation/calibration.json); was 0.00176; the omega term of Prieto-Curiel et al. 2023
    capacity_per_capita: float = ranged(2.8e-3, 0, 0.1)  # members a node sustains per resident at trafficking value 0; calibrated to ~175k members (Prieto-Curiel et al. 2023)
    capacity_value_weight: float = ranged(2.0, 0, 100)  # extra capacity per unit of trafficking value (0-1); assumed
    lethality: float = unit(0.00836)  # attrition scale: a member facing an equal, unarmed rival force dies with probability lethality/2 a week; calibrated (the earlier experiments.calibrate search, not a free parameter of the history matching; ~120 members killed/wk, Prieto-Curiel et al. 2023)
    gun_lethality: float = ranged(2.0, 0, 100)  # extra lethality at saturating guns per member; assumed (Lanchester force multiplier)
    guns_half: float = ranged(1.0, 0, 1000, lo_open=True)  # guns per member at which half the gun effect is reached; assumed
    gun_depreciation: float = unit(1 / 104)  # share of a gun stock lost, seized or sold on each week; assumed (2-year life)
    gun_spend_share: float = unit(0.3)  # share of an operator's weekly cash spent on guns; assumed
    cash_burn: float = unit(0.1)  # share of a cell's cash spent each week on wages and upkeep; assumed
    gun_price_musd: float = ranged(1.5e-3, 1e-5, 1, hint='US$ M a gun (1e-5 = US$ 10)')  # price of a trafficked gun in Mexico, US$ M; ~US$1,500 (Chicoine 2011)
    bystander_rate: float = unit(0.016)  # civilians killed per armed fighter a week in a fight at full contact and intensity, scaled by the plaza's share of residents among the people there; calibrated (members ~19% of homicides, Prieto-Curiel et al. 2023)
    spillover: float = unit(0.3)  # share of civilian victims of a fight killed in a neighbouring plaza; assumed (Osorio 2015; Calderón et al. 2015: violence spreads to neighbours)
    predation_rate: float = unit(0.03261)  # residents killed per member per week by a cell with no drug income, facing only rivals, in a community of resilience 0 (executions, extortion); calibrated (experiments.calibrate: history matching, docs/validation/calibration.json) against INEGI homicides 2007-14; was 0.03 (set with bystander_rate against 2018-2020, ~29 per 100k)
    predation_held: float = unit(0.2)  # predation by a cell that faces no rival at its plaza, relative to one that faces only rivals; assumed
    wage_musd: float = ranged(1.5e-4, 0, 1, lo_open=True, hint="US$ M a week per member (1.5e-4 = US$ 150)")  # weekly pay a cell needs per member, US$ M (~US$150; lookouts and gunmen are paid weekly); assumed. Cells earning less from drugs turn to extortion (predation)
    internal_violence: float = ranged(0.5, 0, 10)  # fight intensity among a leaderless group's own cells (succession fight), relative to rivals; assumed
    expansion_rate: float = unit(0.02)  # expected attempts to take a neighbouring plaza per held plaza per week of a led group (a Poisson rate; each attempt starts from one ready cell); assumed
    splinter_push: float = ranged(2.0, 0, 10)  # extra expansion effort of a splinter group while young (splinter_youth_weeks); assumed (Phillips 2015; Osorio 2015)
    splinter_youth_weeks: int = ranged(52, 1, 520)  # weeks after its founding that a splinter counts as young and expands with splinter_push; assumed (a first year: Phillips 2015 and Osorio 2015 describe splinters fighting for territory early)
    expansion_share: float = unit(0.25, lo_open=True)  # share of the cell sent to open or contest a plaza; assumed
    expansion_min_fill: float = ranged(0.1, 0, 100)  # a cell expands once its members reach this share of a municipality-sized plaza's capacity at its node; assumed (20 members in a typical municipality)
    retreat_fill: float = ranged(0.025, 0, 100)  # a cell with fewer members than this share of a municipality-sized plaza's capacity abandons its plaza; assumed (5 members in a typical municipality)
    attrition_cap: float = unit(0.5)  # largest weekly probability that a member of a cell dies fighting, in fights with rivals and in succession fights; assumed
    withdraw_ratio: float = ranged(0.25, 0, 100)  # a cell whose fighting strength (members x force multiplier) after a week's fight is below this share of its enemies' at the plaza is beaten; dimensionless; assumed
    withdraw_rate: float = unit(0.3)  # P(a beaten cell withdraws from the plaza) a week; assumed
    expansion_floor: float = ranged(0.2, 0, 100, lo_open=True)  # weight of a neighbouring plaza as an expansion target besides its trafficking value (targets are drawn in proportion to this + value, value in 0-1); dimensionless; assumed
    crew_size: float = ranged(20.0, 1, 10_000, hint="persons under one crew boss")  # members under one crew boss (the middle layer's unit); persons; assumed (cells of 10-50 gunmen and lookouts, Jones 2013 / Guerrero 2011)
    command_half: float = ranged(300.0, 0, 1e7, lo_open=True, hint="persons")  # group members at which a leader replaces a lost crew boss with half the certainty of a very large group; persons; assumed
    headless_command: float = unit(0.5)  # command of a leaderless group (open succession) relative to a led one; assumed (Jones 2013: lieutenants hold their own crews)
    crew_autonomy: float = unit(0.2)  # P(a crew that breaks from its group after losing its boss, with a gun for every member and no rival nearby, splits off instead of going home); assumed (Phillips 2015: mid-level arrests rarely start new groups)
    tribute_share: float = unit(0.3)  # share of operator income passed to the leader; assumed
    bribe_share: float = unit(0.5)  # share of leader cash spent on bribes each week; assumed
    loyalty_mean: float = unit(0.75)  # mean loyalty of an operator to its leader (0-1); assumed
    loyalty_sd: float = ranged(0.1, 0, 1)  # standard deviation of the cells' loyalty at start (normal around loyalty_mean, clipped to 0-1); assumed
    loyalty_recovery: float = unit(0.01)  # weekly relaxation of a led cell's loyalty toward loyalty_mean (share of the gap closed a week); assumed
    headless_loyalty_loss: float = unit(0.02)  # loyalty a cell loses each week while its group is leaderless (open succession), on the 0-1 scale; assumed
    removal_loyalty_loss: float = unit(0.2)  # share of its loyalty every cell loses when its group's leader is removed without an accepted successor; assumed
    headless_weeks: int = ranged(8, 1, 520)  # weeks a group without an accepted successor stays leaderless before one contender prevails; assumed (shorter than the six months of raised violence after a removal, Calderón et al. 2015)
    lieutenants: int = ranged(6, 1, 100)  # contenders in an open succession: bosses of the group's largest cells; assumed (Jones 2013: a few regional lieutenants)
    defection_rate: float = unit(0.6023)  # weekly P(a contender defects) in a headless group, times (1-loyalty); calibrated (experiments.calibrate: history matching, docs/validation/calibration.json) against groups at the end of 2007 and in 2011; was 0.51
    weak_leader_defection: float = unit(5e-5)  # weekly P(defection) of a boss under a leader, times (1-loyalty) and its cell's size relative to the group's mean cell; assumed
    leader_mortality: float = unit(0.02)  # P(a leader dies or retires) per year, outside policing; assumed
    splinter_rivalry: float = ranged(2.0, 0, 100)  # fight-intensity multiplier between a splinter and its parent; assumed (Phillips 2015)
    absorb_share: float = unit(0.3)  # P(a defecting cell joins a stronger neighbouring group instead of splitting); assumed


@dataclass
class CommunityParams:
    """Communities: one per node. Resilience and legal opportunity set vulnerability to recruitment."""

    youth_share: float = ranged(0.13, 0, 1, lo_open=True)  # share of residents who are young men 15-29 at risk; INEGI 2020 (12.9%)
    resilience_mean: float = ranged(0.4, 0, 0.95, hint='vulnerability divides by 1 minus it')  # mean community resilience at start (0-1); assumed
    opportunity_mean: float = ranged(0.5, 0, 0.95, hint='vulnerability divides by 1 minus it')  # mean legal opportunity at start (0-1); assumed (Dell et al. 2019: legal income lowers recruitment)
    violence_erosion: float = unit(0.02)  # resilience lost per homicide per 10k residents per week; assumed
    resilience_recovery: float = unit(0.002)  # weekly relaxation of resilience toward its target: the start value, raised by prevention's lift; assumed
    resilience_lift: float = unit(0.5)  # largest rise of a community's resilience target at saturating prevention spending, as a share of its distance to 1 (the rise is this x x/(1+x), x the spending relative to prevention_half_musd); assumed
    prevention_effect: float = unit(0.45)  # cut in recruitment among participants at full prevention spending (the population-wide cut is this times takeup); Heller 2014 (-43%), Heller et al. 2017 (-45 to -50%)
    prevention_half_musd: float = ranged(100.0, 0, 100_000, lo_open=True, hint='US$ M a year')  # prevention spending per year (US$ M, national) that reaches half the max effect; assumed
    takeup: float = unit(0.55)  # share of those offered who take up programmes; Heller 2014 / Heller et al. 2017


@dataclass
class PoliceParams:
    """Police units: the policy's disruption spending buys units; a domestic base force exists too."""

    unit_cost_musd: float = ranged(1.0, 0.01, 1000, hint='US$ M a year per unit')  # yearly cost of one federal operations unit (the model's arresting team; its size in officers is not modelled), US$ M; assumed
    base_units_per_million: float = ranged(1.0, 0, 100)  # domestic units per million residents, funded outside the policy; calibrated (~110 arrests/wk)
    arrest_k: float = ranged(2.3, 0, 100)  # Epstein (2002) constant in P = 1 - exp(-k C/A); Epstein's value, not calibrated here
    unit_strength: float = ranged(2.0, 0, 100)  # effective police C of one unit at full effort in P = 1 - exp(-k C/A), A = members at the plaza; calibrated (~110 arrests/wk, Prieto-Curiel et al. 2023)
    operator_exposure: float = unit(0.02)  # crew bosses a unit at full effort arrests a week where bosses are many (P = 1 - exp(-this x effort / crews at the node) per boss); assumed
    boss_crew: float = ranged(3.0, 0, 1000)  # mean associates arrested with a crew boss, persons; assumed
    leader_exposure: float = unit(0.0022)  # P-scale of capturing a leader per unit-week; calibrated to ~8 kingpins a year (25 of 37 most wanted, 2009-2011)
    leader_protection: float = ranged(0.5, 0, 10)  # protection grows as (group members / protection_size)^this; assumed
    protection_size: float = ranged(1000.0, 0, 1e6, lo_open=True)  # group size, members, above which a leader's protection (bodyguards, safe houses) exceeds 1: protection = max(1, (members / this)^leader_protection); assumed
    intelligence_gain: float = ranged(1.0, 0, 100)  # multiplies effort per US$ 100 M a year of disruption spending (intelligence sharing); assumed
    corruption_mean: float = unit(0.3)  # mean corruption of officials at start (0-1); assumed (no national measure; the Cienfuegos case of the seed article illustrates it)
    corruption_sd: float = ranged(0.08, 0, 1)  # standard deviation of corruption across nodes at start (normal around corruption_mean, clipped to 0-1); assumed
    corruption_relaxation: float = unit(0.005)  # weekly relaxation of a node's corruption toward its start value (share of the gap closed a week), besides bribes and vetting; assumed
    bribe_effect: float = ranged(0.02, 0, 10)  # corruption gained per US$ M of bribes per 1M residents per week; assumed
    vetting_effect: float = unit(0.002)  # weekly corruption cut per US$ 100 M/yr of rule-of-law spending; assumed
    deterrence: float = ranged(0.3, 0, 100)  # fight intensity falls as exp(-deterrence x units per municipality-sized plaza at the node); assumed
    violence_memory_weeks: float = ranged(10.0, 1, 520, hint='weeks')  # time constant of the recent homicides per node that units follow under targeting=violence (exponential smoothing: each week 1/this of the way to the week's homicides); weeks; assumed
    base_leader_share: float = unit(0.3331)  # share of the domestic base force hunting leaders under every preset (the federal doctrine since December 2006, before Merida funding); calibrated (experiments.calibrate: history matching, docs/validation/calibration.json) against groups at the end of 2007 (no published pre-2008 capture rate was found); was 0.3
    units_per_target: int = ranged(10, 1, 10_000)  # units assigned to each hunted leader (the largest groups' leaders first); assumed
    kill_share: float = unit(0.1)  # share of police leader removals that end in the leader's death; assumed
    confrontation_share: float = unit(0.05)  # share of the members a unit catches who are caught in an armed confrontation (wounded or killed) rather than arrested unhurt; assumed (no published share of arrests made in confrontations was found)
    killed_per_wounded: float = ranged(2.6, 0, 1000)  # opponents killed per opponent wounded in confrontations with federal police, 2008 to May 2011; Pérez Correa, Silva Forné & Gutiérrez 2011 (Nexos)
    vetted_base: float = unit(0.5)  # share of units whose members passed confidence controls (vetted units trusted with shared intelligence) with no rule-of-law spending; assumed
    vetting_half_musd: float = ranged(100.0, 0, 100_000, lo_open=True, hint="US$ M a year")  # rule-of-law spending (US$ M/yr) that vets half of the units not yet vetted; assumed


@dataclass
class MilitaryParams:
    """Armed-forces units (``policy.military_share`` of the funded ones, or an operation's): how they differ from police."""

    killed_per_wounded: float = ranged(9.1, 0, 1000)  # opponents killed per opponent wounded in confrontations with the army, 2008 to May 2011 (navy: 17.3); Pérez Correa, Silva Forné & Gutiérrez 2011 (Nexos)
    corruption_factor: float = unit(0.5)  # local corruption's hold on an armed-forces unit relative to a police unit (units rotate, answer to a national command); assumed
    intelligence_factor: float = ranged(0.5, 0, 10)  # effort of an armed-forces unit at finding members, crew bosses and leaders relative to a police unit (trained for combat, not investigation); assumed


@dataclass
class CourtParams:
    """Courts, one per state: backlog, conviction, prison, release."""

    capacity_per_million: float = ranged(1.1, 0, 100_000)  # persons tried per million residents per week; calibrated so that baseline arrests (~110 a week, Prieto-Curiel et al. 2023) plus ordinary homicide suspects about fill the courts (growing backlogs, México Evalúa 2020-2022)
    max_pretrial_weeks: int = ranged(104, 1, 5200)  # weeks a person can wait for trial before release untried; Constitution of Mexico, art. 20 B IX (pretrial detention at most two years)
    ordinary_arrest_share: float = unit(0.5)  # share of homicides not tied to organised crime in which a suspect is arrested and charged; assumed (ordinary homicides are cleared more often than cartel killings)
    capacity_gain: float = ranged(0.5, 0, 100)  # capacity multiplier gained per US$ 100 M/yr of rule-of-law spending; assumed
    conviction_base: float = unit(0.8)  # P(conviction) of a person tried, with no corruption (local corruption lowers it); calibrated to homicide impunity of 90-95% (Impunidad Cero 2016-2021) in the hindcast; most first-instance sentences in Mexico are convictions (INEGI, Censo Nacional de Impartición de Justicia Estatal)
    rule_of_law_gain: float = ranged(0.3, 0, 100)  # conviction multiplier gained per US$ 100 M/yr of rule-of-law spending; assumed
    sentence_weeks: int = ranged(260, 1, 5200)  # prison term of every convict, weeks (5 years); assumed
    return_to_crime: float = unit(0.8)  # share of released or acquitted who rejoin a cell; assumed


@dataclass
class BorderParams:
    """Pillar 3: interdiction of guns going south and drugs going north."""

    gun_interdiction_max: float = unit(0.5)  # max share of southbound guns stopped; assumed
    drug_interdiction_max: float = unit(0.3)  # max share of northbound drug revenue seized; assumed
    half_musd: float = ranged(100.0, 0, 100_000, lo_open=True, hint='US$ M a year')  # border spending (US$ M/yr) reaching half the max interdiction; assumed


@dataclass
class RouteParams:
    """Drug routes (:mod:`sim.routes`): drugs enter at ports and the southern border and take the
    cheapest ways north to the US crossings; the price at the crossing follows supply."""

    tonnes_a_year: float = ranged(300.0, 0, 100_000, lo_open=True, hint='tonnes a year')  # cocaine entering Mexico at cocaine_supply 1, tonnes/yr (national, pro-rated like all flows); assumed order of magnitude: US cocaine consumption of a few hundred tonnes a year, falling by about half 2002-2010 (Kilmer et al. 2014, RAND RR-534; Midgette et al. 2019, RAND RR-3140), most of it through Mexico (US State Dept INCSR); with drug_revenue_musd it sets the baseline price (6,000 M / 300 t = US$20,000/kg)
    demand_elasticity: float = ranged(0.5, 0, 5, lo_open=True, hint='size of the negative price elasticity')  # size of the (negative) price elasticity of US demand for cocaine; price = p0 x supply^(-1/e); assumed from the literature: about -0.5 (OAS 2013, The Drug Problem in the Americas, ch. 4), estimates -0.6 to -2.5 (NRC 2001, Informing America's Policy on Illegal Drugs)
    price_cap: float = ranged(10.0, 1, 1000, hint='multiple of the baseline price')  # the crossing price rises at most to this multiple of its baseline as supply falls (constant elasticity holds only near observed prices); assumed
    police_cost: float = ranged(1.0, 0, 100, hint='per unit per municipality-sized plaza')  # extra cost of crossing a plaza per police unit stationed there, in plaza crossings (1: one unit per plaza doubles it); assumed; crackdowns divert routes (Dell 2015, AER 105(6))
    military_cost: float = ranged(2.0, 0, 100, hint='per unit per municipality-sized plaza')  # the same for armed-forces units (model.military_at); assumed (checkpoints of the army and navy)
    contested_cost: float = ranged(1.0, 0, 100, hint='plaza crossings')  # extra cost of crossing a contested plaza (two or more groups); assumed
    interdiction_cost: float = ranged(2.0, 0, 100, hint='plaza crossings at full interdiction')  # extra cost at a US crossing per unit of drug interdiction share; assumed
    spread: float = ranged(1.0, 0, 100, lo_open=True, hint='plaza crossings')  # logit scale: a way costing this much more than the cheapest carries e^-1 as much; assumed
    every_weeks: int = ranged(4, 1, 52, hint='weeks')  # routes are recomputed every this many weeks (and at week 0); monthly


@dataclass
class FinanceParams:
    """Financial intelligence (anti-money laundering), bought with policy.finance_share of pillar 1 (sim/pillars/finance.py)."""

    revenue_max: float = unit(0.7)  # max share of drug revenue stopped before it reaches the cells (laundered deposits and bulk cash frozen or seized), at saturating capacity; upper bound: Mexico's 2010 limits on US-dollar cash deposits cut bulk dollars returning through Mexican banks by about 70% (US State Department INCSR 2014), though much was diverted to other channels; assumed
    stock_max: float = unit(0.05)  # max share of the cash held by cells and war chests frozen a year, at saturating capacity; under 5% of 2016 money-laundering cases were resolved within the year (government risk assessment; federal audit office); the FIU froze accounts of about 2,000 people tied to one cartel in June 2020 (scale check); assumed
    half_musd: float = ranged(100.0, 0, 100_000, lo_open=True, hint='US$ M a year')  # yearly spending on financial intelligence (US$ M, national) that builds half the max capacity; assumed (as border.half_musd and community.prevention_half_musd)
    build_weeks: float = ranged(52.0, 1, 5200, hint='weeks')  # time constant over which capacity approaches its funded level (cases take time to build), weeks; assumed: under 5% of money-laundering cases are resolved within a year
    pay_elasticity: float = ranged(1.0, 0, 10)  # elasticity of recruitment to the pay a cell can offer (its income after seizures relative to before); assumed (Dell et al. 2019: recruitment responds to income; no published elasticity); 0: pay does not move recruitment


@dataclass
class OutputParams:
    nodes: bool = False  # also record one row per node per week (nodes.parquet)
    csv: bool = False    # also write each table as CSV beside its parquet file (timeseries.csv, nodes.csv)


@dataclass
class TimelineEntry:
    """A dated change of inputs (:mod:`sim.timeline`): ``set``'s keys take their values at the start of
    week ``at_step``. ``set``: ``{policy.budget_musd: 300}`` or nested ``{policy: {budget_musd: 300}}``."""

    at_step: int = ranged(1, 1, 5200, hint='and at most steps')  # week whose start the change takes effect in
    set: Any = field(default_factory=dict)  # input keys (sim.timeline.TIMELINE_KEYS) and their new values

    @classmethod
    def from_mapping(cls, data: Any, prefix: str) -> TimelineEntry:
        """An entry from a config mapping; both fields are required (no week is a sensible default)."""
        if isinstance(data, dict):
            for name, what in (("at_step", "the week of the change, 1..steps"),
                               ("set", "the changes, e.g. {policy.budget_musd: 300}")):
                check(name in data, prefix + name, "missing", f"required: {what}")
        return build(cls, data, prefix)


@dataclass
class Params:
    """All parameters of one run."""

    seed: int = ranged(0, 0, 2**63 - 1)  # root of every random stream
    steps: int = ranged(520, 1, 5200, hint='weeks, at most 100 years')  # weeks to simulate (520 = 10 years)
    territory: TerritoryParams = field(default_factory=TerritoryParams)
    policy: PolicyParams = field(default_factory=PolicyParams)
    scenario: ScenarioParams = field(default_factory=ScenarioParams)
    cartels: CartelParams = field(default_factory=CartelParams)
    community: CommunityParams = field(default_factory=CommunityParams)
    police: PoliceParams = field(default_factory=PoliceParams)
    military: MilitaryParams = field(default_factory=MilitaryParams)
    court: CourtParams = field(default_factory=CourtParams)
    border: BorderParams = field(default_factory=BorderParams)
    routes: RouteParams = field(default_factory=RouteParams)  # drug routes (sim/routes.py)
    finance: FinanceParams = field(default_factory=FinanceParams)
    output: OutputParams = field(default_factory=OutputParams)
    interventions: list[Intervention] = field(default_factory=list)
    timeline: list[TimelineEntry] = field(default_factory=list)  # dated input changes (sim/timeline.py)


# --------------------------------------------------------------------------------------------------
# Presets
# --------------------------------------------------------------------------------------------------
# INEGI censuses and counts: Mexico's population (persons) by year; other years are interpolated linearly
# (and extended at the 2015-2020 rate to 2025).
CENSUS_POPULATION = {2005: 103_263_388, 2010: 112_336_538, 2015: 119_938_473, 2020: 126_014_024}


def national_population(year: float) -> float:
    """Mexico's population in ``year`` (persons), interpolated between INEGI's censuses and counts."""
    years = sorted(CENSUS_POPULATION)
    pops = [CENSUS_POPULATION[y] for y in years]
    if year > years[-1]:
        return pops[-1] + (pops[-1] - pops[-2]) / 5.0 * (year - years[-1])
    lo = max(y for y in years if y <= year)
    hi = min(y for y in years if y >= year)
    if lo == hi:
        return float(CENSUS_POPULATION[lo])
    w = (year - lo) / (hi - lo)
    return CENSUS_POPULATION[lo] * (1 - w) + CENSUS_POPULATION[hi] * w


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
    # members, gun inflow), under the name the results carry; week 1 = the first week of 2007, and the
    # sourced policy history of sim/data/mexico_2007_timeline.csv (sim/timeline.py) changes the inputs
    "mexico_2007": ScenarioParams(name="mexico_2007", population_year=2007, timeline_file="mexico_2007"),
}

PRESETS: dict[str, dict[str, Any]] = {"territory": TERRITORIES, "policy": POLICIES, "scenario": SCENARIOS}


# --------------------------------------------------------------------------------------------------
# Building Params from nested dicts (Hydra) or keyword arguments (Mesa tools)
# --------------------------------------------------------------------------------------------------
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
    params = build(Params, dict(data), "")
    _apply_prevention_share(params.policy)
    validate(params)
    return params


def _apply_prevention_share(policy: PolicyParams) -> None:
    """``prevention_share`` in [0, 1] sets the prevention share; the other pillars keep their mix."""
    share = policy.prevention_share
    if share == -1.0:
        return
    r = range_of(next(f for f in dataclasses.fields(PolicyParams) if f.name == "prevention_share"))
    check(share in r, "policy.prevention_share", share, r.text())
    s, others = policy.shares, [name for name in BUDGET_PILLARS if name != "prevention"]
    rest = sum(getattr(s, name) for name in others)
    for name in others:
        setattr(s, name, getattr(s, name) * (1.0 - share) / rest if rest > 0 else (1.0 - share) / len(others))
    s.prevention = share


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
MAX_POLICE_UNITS = 20_000  # police agents in one run (base + funded; defaults: a few hundred): beyond, hours a run
MEXICO_POPULATION = 126_014_024  # persons, INEGI Censo 2020; national budgets and flows are pro-rated to it (sim.model)


def _check_territory_files(t: TerritoryParams) -> None:
    from .territory import TerritoryFileError, read_files  # territory imports this module

    check(bool(t.nodes_file), "territory.nodes_file", t.nodes_file, "a CSV file of nodes (territory=files)")
    check(bool(t.edges_file), "territory.edges_file", t.edges_file, "a CSV file of adjacency (territory=files)")
    try:
        read_files(t.nodes_file, t.edges_file)  # parsed once per process, not copied
    except TerritoryFileError as err:
        key = "territory.edges_file" if str(err).startswith(str(t.edges_file)) else "territory.nodes_file"
        raise ParamError(key, getattr(t, key.split(".")[1]), f"a usable territory file; here {err}") from None


def _territory_population(t: TerritoryParams) -> float:
    """The people living in the territory ``t`` builds (files: the sum of its nodes, parsed once)."""
    if t.name == "files":
        from .territory import files_population

        return files_population(t.nodes_file, t.edges_file)
    return MEXICO_POPULATION if t.name == "mexico_states" else t.population


def validate(p: Params) -> None:
    """Raise :class:`ParamError` on the first value outside its allowed range."""
    check(p.territory.name in TERRITORIES, "territory.name", p.territory.name, "one of " + ", ".join(TERRITORIES))
    check_ranges(p)
    if p.territory.name == "files":
        _check_territory_files(p.territory)
    else:
        for key in ("nodes_file", "edges_file"):
            check(not getattr(p.territory, key), f"territory.{key}", getattr(p.territory, key),
                   f"empty unless territory=files (here territory={p.territory.name}, which ignores it)")
    check(p.policy.targeting in TARGETINGS, "policy.targeting", p.policy.targeting, " | ".join(TARGETINGS))
    total = sum(to_dict(p.policy.shares).values())
    check(abs(total - 1.0) < 1e-6, "policy.shares", round(total, 6), "fractions summing to 1")
    population = _territory_population(p.territory)
    funded = p.policy.budget_musd * p.policy.shares.disruption / p.police.unit_cost_musd * population / MEXICO_POPULATION
    base = p.police.base_units_per_million * population / 1e6
    check(funded <= MAX_POLICE_UNITS, "policy.budget_musd", p.policy.budget_musd,
           f"a budget buying at most {MAX_POLICE_UNITS} police units here (budget x shares.disruption / "
           f"police.unit_cost_musd, pro-rated to the territory: {funded:.3g}); the budget is in US$ millions a year")
    check(base + funded <= MAX_POLICE_UNITS, "police.base_units_per_million", p.police.base_units_per_million,
           f"at most {MAX_POLICE_UNITS} police units in all here (base {base:.3g} + funded {funded:.3g})")
    check(p.cartels.initial_members_per_capita <= p.community.youth_share, "cartels.initial_members_per_capita",
           p.cartels.initial_members_per_capita, f"at most community.youth_share ({p.community.youth_share}): members "
           "are drawn from the young")
    check(p.cartels.retreat_fill < p.cartels.expansion_min_fill, "cartels.retreat_fill", p.cartels.retreat_fill,
           "a share below cartels.expansion_min_fill")
    for i, iv in enumerate(p.interventions):
        check_ranges(iv, f"interventions[{i}].")
        iv.check(p, f"interventions[{i}]")
    from .timeline import validate_timeline  # timeline: the dated input changes (it imports this module)

    validate_timeline(p)
