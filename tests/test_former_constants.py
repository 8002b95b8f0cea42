"""The model's former fixed constants are parameters (sim/params.py): each is read by the rule it names,
so calibration, sensitivity and docs/parameters.md see it. Their defaults are the old constants (the
golden test and the reference runs are unchanged); here, moving each one moves the model."""

from __future__ import annotations

import numpy as np
import pytest

from sim import territory
from sim.params import CartelParams, CommunityParams, PoliceParams, TerritoryParams

from .conftest import make

IV = [{"kind": "remove_leader", "group": "largest", "at_step": 3, "mode": "capture"}]  # a headless group early
WEEKS = 52

# key, a value other than the default (the old constant); withdraw_rate is compared where cells are beaten
# (at the default withdraw_ratio no cell falls below a quarter of its enemies in these weeks)
CHANGED = [
    ("police.corruption_sd", 0.2),
    ("police.corruption_relaxation", 0.05),
    ("police.violence_memory_weeks", 3.0),
    ("cartels.initial_rank_noise", 1.0),
    ("cartels.initial_guns_per_member", 0.2),
    ("cartels.loyalty_sd", 0.3),
    ("cartels.loyalty_recovery", 0.2),
    ("cartels.headless_loyalty_loss", 0.1),
    ("cartels.removal_loyalty_loss", 0.6),
    ("cartels.attrition_cap", 1e-3),
    ("cartels.withdraw_ratio", 0.9),
    ("cartels.withdraw_rate", 0.0, {"cartels__withdraw_ratio": 0.9}),
    ("cartels.expansion_floor", 5.0),
    ("cartels.splinter_youth_weeks", 4),
    ("police.protection_size", 10.0),
    ("community.resilience_lift", 0.9),
    ("territory.closeness_weight", 0.8),
]


def _state(**kwargs):
    """A small merida run (prevention funded, leaders hunted, a leader captured at week 3): its weekly
    outcomes and the per-node and per-cell state the former constants act on."""
    m = make(policy="merida", rng=2, steps=WEEKS, interventions=IV, **kwargs)
    ts = m.run()
    loyalty = np.sort(m.roster.loyalty[m.roster.rows()])
    return ts, [m.corruption, m.resilience, m.value, m.violence_recent, loyalty]


@pytest.fixture(scope="module")
def default_state():
    return _state()


def test_the_defaults_are_the_old_constants():
    """The values the code had fixed (a changed default changes every result: the golden test fails too)."""
    cp, pp, cm = CartelParams(), PoliceParams(), CommunityParams()
    assert (pp.corruption_sd, pp.corruption_relaxation, pp.violence_memory_weeks) == (0.08, 0.005, 10.0)
    assert (cp.initial_rank_noise, cp.initial_guns_per_member, cp.loyalty_sd) == (0.2, 1.0, 0.1)
    assert (cp.loyalty_recovery, cp.headless_loyalty_loss, cp.removal_loyalty_loss) == (0.01, 0.02, 0.2)
    assert (cp.attrition_cap, cp.withdraw_ratio, cp.withdraw_rate, cp.expansion_floor) == (0.5, 0.25, 0.3, 0.2)
    assert cm.resilience_lift == 0.5 and TerritoryParams().closeness_weight == 0.3
    # the complements the code uses are the old constants bit for bit
    assert 1.0 - cp.removal_loyalty_loss == 0.8 and 1.0 - TerritoryParams().closeness_weight == 0.7
    assert 1.0 / pp.violence_memory_weeks == 0.1 and 1.0 - 1.0 / pp.violence_memory_weeks == 0.9


@pytest.mark.parametrize("case", CHANGED, ids=[c[0] for c in CHANGED])
def test_each_former_constant_moves_the_model(default_state, case):
    key, value, base = case if len(case) == 3 else (*case, {})
    ts, arrays = _state(**base, **{key.replace(".", "__"): value})
    ts0, arrays0 = _state(**base) if base else default_state
    same = ts.equals(ts0) and all(a.shape == b.shape and np.array_equal(a, b) for a, b in zip(arrays, arrays0))
    assert not same, f"{key}={value} changed nothing in {WEEKS} weeks: the model does not read it"


def test_recent_violence_follows_the_memory_in_weeks():
    """From 0, one week moves the recent homicides 1/T of the way to the week's: exactly homicides / T."""
    m = make(policy="none", rng=3, steps=3, police__violence_memory_weeks=4.0)
    m.step()
    assert m.homicides.sum() > 0
    np.testing.assert_array_equal(m.violence_recent, 0.25 * m.homicides)
    before = m.violence_recent.copy()
    m.step()
    np.testing.assert_array_equal(m.violence_recent, 0.75 * before + 0.25 * m.homicides)


def test_no_fighter_dies_with_a_zero_attrition_cap():
    ts = make(policy="kingpin", rng=1, steps=40, interventions=IV, cartels__attrition_cap=0.0).run()
    base = make(policy="kingpin", rng=1, steps=40, interventions=IV).run()
    assert base["homicides_members"].sum() > 0
    assert ts["homicides_members"].sum() == 0


def test_resilience_lift_scales_prevention_s_lift():
    lift = {w: make(policy="prevention", rng=1, steps=1, community__resilience_lift=w).prevention_lift
            for w in (0.5, 0.25, 0.0)}
    assert lift[0.5].max() > 0
    np.testing.assert_array_equal(lift[0.25], 0.5 * lift[0.5])
    assert (lift[0.0] == 0).all()


def test_closeness_weight_one_makes_the_value_the_closeness_to_the_border():
    """w = 1: the trafficking value is the closeness alone, at build (the territory) and once the routes run;
    w = 0: the traffic alone (the largest 1)."""
    m = make(territory="mexico_states", rng=3, steps=2, territory__closeness_weight=1.0)
    net = m.route_net
    np.testing.assert_array_equal(m.value, net.closeness)
    built = np.array([m.territory.nodes[i]["value"] for i in range(m.n_nodes)])
    np.testing.assert_array_equal(built, net.closeness)  # the territory's closeness is the routes' (same function)
    assert net.closeness[net.crossings].tolist() == [1.0] * len(net.crossings)
    m0 = make(territory="mexico_states", rng=3, steps=2, territory__closeness_weight=0.0)
    np.testing.assert_array_equal(m0.value, m0.route_net.unit_flow / m0.route_net.unit_flow.max())


def test_the_territory_and_the_routes_share_one_value_formula():
    """territory.trafficking_value: (1 - w) x traffic / max + w x closeness; no traffic: the closeness part."""
    traffic, closeness = np.array([0.0, 2.0, 4.0]), np.array([1.0, 0.5, 0.0])
    np.testing.assert_allclose(territory.trafficking_value(traffic, closeness, 0.3), [0.3, 0.5, 0.7], rtol=1e-15)
    np.testing.assert_array_equal(territory.trafficking_value(np.zeros(3), closeness, 0.3), 0.3 * closeness)
    np.testing.assert_array_equal(territory.closeness_to_border(np.array([0.0, 1.0, 4.0, np.inf])),
                                  [1.0, 0.75, 0.0, 0.0])
