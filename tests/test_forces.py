"""Armed forces, joint operations and intelligence sharing ."""

from __future__ import annotations

import numpy as np
import pytest

from experiments.config import compose
from experiments.run import cli
from sim import CartelModel, ParamError
from sim.interventions import Operation, RemoveLeader, schedule
from sim.pillars import spending
from sim.pillars.disruption import Police


def funded(model, force):
    return [u for u in model.police if u.funded and u.operation is None and u.force == force]


def test_military_share_splits_the_funded_units_and_is_counted_weekly():
    m = CartelModel(rng=1, territory="mexico_states", policy="kingpin", steps=3, policy__military_share=0.25)
    total = round(m.funded_units * m.scale)
    assert len(funded(m, "military")) == round(0.25 * total) and len(funded(m, "police")) == total - round(0.25 * total)
    ts = m.run()
    assert (ts["military_units"] == round(0.25 * total)).all()
    none = CartelModel(rng=1, territory="mexico_states", policy="kingpin", steps=3).run()
    assert (none["military_units"] == 0).all()


def test_armed_forces_kill_a_larger_share_of_those_they_catch():
    """Per member caught, deaths in confrontations follow k/(1+k): army 9.1 against police 2.6."""
    share = {}
    for military in (0.0, 1.0):
        ts = CartelModel(rng=2, territory="mexico_states", policy="prevention", steps=156,
                         policy__military_share=military, police__confrontation_share=0.2).run()
        share[military] = ts["homicides_security"].sum() / (ts["homicides_security"].sum() + ts["members_arrested"].sum())
    # funded units are a minority of all units (the base force is police), so the mix moves part of the way
    assert share[1.0] > share[0.0] * 1.03
    # and police alone are bounded by the published ratio: 0.2 * 2.6/3.6 = 0.144 of catches die
    assert share[0.0] < 0.2 * 9.1 / 10.1


def test_effort_follows_trust_corruption_and_force():
    m = CartelModel(rng=1, territory="mexico_states", policy="kingpin", steps=1)
    unit = funded(m, "police")[0]
    m.corruption[:] = 0.0
    clean, _ = unit.effort(0)
    assert clean == pytest.approx(m.intelligence)  # full trust where nobody is corrupt
    m.corruption[:] = 0.5
    dirty, met = unit.effort(0)
    trust = m.vetted + (1 - m.vetted) * 0.5
    assert met == 0.5 and dirty == pytest.approx((1 + (m.intelligence - 1) * trust) * 0.5)
    soldier = Police(m, funded=True, force="military")
    effort, met = soldier.effort(0)
    assert met == pytest.approx(0.5 * m.p.military.corruption_factor)
    assert effort == pytest.approx((1 + (m.intelligence - 1) * trust) * m.p.military.intelligence_factor * (1 - met))


def test_rule_of_law_money_vets_units_with_diminishing_returns():
    vetted = {}
    for share in (0.0, 0.25, 0.5):
        rest = (1 - share) / 3
        m = CartelModel(rng=1, territory="small", steps=1, policy__budget_musd=400.0,
                        policy__shares={"disruption": rest, "rule_of_law": share, "border": rest, "prevention": rest})
        vetted[share] = m.vetted
    assert vetted[0.0] == pytest.approx(0.5)
    assert vetted[0.5] > vetted[0.25] > vetted[0.0]
    assert vetted[0.5] - vetted[0.25] < vetted[0.25] - vetted[0.0]  # diminishing returns
    assert vetted[0.25] == pytest.approx(0.5 + 0.5 * 100 / 200)  # S_2 = 100 = vetting_half_musd


def test_an_operation_sends_units_to_its_state_for_its_weeks_only():
    base = CartelModel(rng=4, territory="mexico_states", policy="none", steps=8)
    node = int(np.argmax(base.members_at))  # the state where the groups are strongest
    op = {"kind": "operation", "where": base.territory.nodes[node]["state"], "from_step": 3, "to_step": 5,
          "units": 25, "force": "military"}
    m = CartelModel(rng=4, territory="mexico_states", policy="none", steps=8, interventions=[op])
    for week in range(1, 9):
        m.step()
        base.step()
        during = 3 <= week <= 5
        assert m.military_at[node] == (25 if during else 0)
        assert m.units_at[node] >= (25 if during else 0)
        assert m.military_units == (25 if during else 0)
    assert m.events[0]["fired"] and m.events[0]["nodes"] == 1
    # the same world: the base run and the operation run differ only from week 3
    ts, tb = m.timeseries(), base.timeseries()
    assert ts.loc[ts.step < 3, "recruits"].tolist() == tb.loc[tb.step < 3, "recruits"].tolist()
    assert ts.loc[ts.step >= 3, "members_arrested"].sum() > tb.loc[tb.step >= 3, "members_arrested"].sum()


def test_an_operation_on_a_node_id_of_a_synthetic_map_and_scheduled_while_running():
    m = CartelModel(rng=1, territory="small", steps=6)
    m.step()
    node = int(np.argmax(m.members_at))
    schedule(m, Operation(where=node, from_step=2, to_step=3, units=7, force="police"))
    m.step()
    assert m.units_at[node] >= 7 and m.military_units == 0
    with pytest.raises(ParamError, match=r"interventions\[1\]\.units"):
        schedule(m, Operation(where=node, from_step=4, to_step=5, units=0))
    # a week already past would never fire: refused, not silently kept
    with pytest.raises(ParamError, match=r"interventions\[1\]\.from_step.*a week still to come in 3\.\.6"):
        schedule(m, Operation(where=node, from_step=2, to_step=5, units=3))
    with pytest.raises(ParamError, match=r"interventions\[1\]\.at_step"):
        schedule(m, RemoveLeader(at_step=1))
    assert len(m.p.interventions) == 1


def test_an_unknown_state_is_refused_with_the_close_name_and_every_state():
    with pytest.raises(ParamError, match=r"did you mean 'Michoacán'\?") as err:
        CartelModel(rng=1, territory="mexico_states", steps=4,
                    interventions=[{"kind": "operation", "where": "Michoacan", "from_step": 1, "to_step": 2, "units": 3}])
    assert "Zacatecas" in str(err.value) and "Aguascalientes" in str(err.value)


def test_finance_and_sub_pillars_take_their_part_of_the_parent():
    m = CartelModel(rng=1, territory="small", steps=1, policy="kingpin", policy__finance_share=0.2)
    pol = m.p.policy
    s = spending(pol)
    assert pol.budget_musd == 230 and pol.shares.disruption == 0.70 and pol.finance_share == 0.2
    parent = 230 * 0.70  # pillar 1's money, of which financial intelligence takes 20%
    assert s["finance"] == pytest.approx(parent * 0.2) == pytest.approx(32.2)
    assert s["disruption"] == pytest.approx(parent * 0.8) == pytest.approx(128.8)
    assert s["rule_of_law"] == pytest.approx(230 * 0.15) and s["border"] == pytest.approx(230 * 0.10)
    assert s["prevention"] == pytest.approx(230 * 0.05)
    assert set(s) == {"disruption", "rule_of_law", "border", "prevention", "finance"}
    assert sum(s.values()) == pytest.approx(230)


@pytest.mark.parametrize("override, key", [
    ("policy.military_share=1.5", "'policy.military_share'"),
    ("interventions=[{kind:operation,where:Atlantis,from_step:2,to_step:3,units:5}]", "'interventions[0].where'"),
    ("interventions=[{kind:operation,where:3,from_step:2,to_step:999,units:5}]", "'interventions[0].to_step'"),
    ("interventions=[{kind:operation,where:3,from_step:5,to_step:3,units:5}]", "'interventions[0].to_step'"),
    ("interventions=[{kind:operation,where:3,from_step:2,to_step:3,units:0}]", "'interventions[0].units'"),
    ("interventions=[{kind:operation,where:3,from_step:2,to_step:3,units:5,force:navy}]", "'interventions[0].force'"),
    ("interventions=[{kind:operation,where:99,from_step:2,to_step:3,units:5}]", "'interventions[0].where'"),
])
def test_bad_forces_and_operations_one_line_exit_2_nothing_written(tmp_path, capsys, override, key):
    out = tmp_path / "bad"
    assert cli(["territory=mexico_states", "steps=20", override, f"hydra.run.dir={out}"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and key in err and "allowed" in err and "\n" not in err
    assert not out.exists()


@pytest.mark.parametrize("typed", [
    "interventions=[{kind:operation,where:Michoacán,from_step:1,to_step:2,units:5}]",
    "interventions=[{kind:operation,where:Nuevo León,from_step:1,to_step:2,units:5}]",
])
def test_an_unquoted_accented_state_gets_a_hint_that_works_when_pasted(tmp_path, capsys, typed):
    assert cli(["territory=mexico_states", "steps=2", typed, f"hydra.run.dir={tmp_path / 'bad'}"]) == 2
    err = capsys.readouterr().err.strip()
    hint = err.split("quote any other text, e.g. ")[1].removesuffix(")")
    assert "where:'" in hint and not (tmp_path / "bad").exists()
    cfg = compose(["territory=mexico_states", "steps=2", hint])  # the hint as typed: composed and validated
    assert cfg.interventions[0].where in ("Michoacán", "Nuevo León")


def test_every_unit_stands_where_mesa_has_it_every_week():
    """A unit's ``node`` (kept with its Mesa cell, for speed) is its cell's coordinate and the unit is
    among that cell's agents, every week, for hunters, sweeping units and an operation's units."""
    m = CartelModel(rng=2, territory="mexico_states", steps=30, policy="merida", policy__military_share=0.3,
                    interventions=[{"kind": "operation", "where": "Sinaloa", "from_step": 5, "to_step": 20, "units": 40}])
    moved = 0
    for _ in range(30):
        before = {id(u): u.node for u in m.police}
        m.step()
        for u in m.police:
            assert u.node == u.cell.coordinate and u in u.cell.agents
            moved += before.get(id(u), u.node) != u.node
    assert moved >= 100 and {u.target for u in m.police} >= {"leaders", "operators"}
