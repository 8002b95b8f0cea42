"""Drug routes that move (sim/routes.py): crackdowns divert the flows, supply sets price and
revenue through the demand elasticity, flows are conserved, bad input is refused."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sim import routes
from sim.params import ParamError, from_kwargs

from .conftest import make, replay_page_settings

ROOT = Path(__file__).resolve().parents[1]


def _corridor_node(model) -> int:
    """The node carrying the most drugs that is neither an entry nor a crossing."""
    net = model.route_net
    ends = set(net.entries.tolist()) | set(net.crossings.tolist())
    inner = [i for i in range(model.n_nodes) if i not in ends]
    return max(inner, key=lambda i: model.flow_at[i])


def _run_to(model, week: int):
    while model.week < week:
        model.step()
    return model


def test_a_crackdown_on_a_corridor_diverts_the_drugs_onto_other_routes():
    """Two twins on mexico_states, seed 1: in one, a joint operation (the intervention kind) sends 50
    armed-forces units to the busiest corridor state from week 1. Weeks 1-3 carry the same flows; at
    the monthly recompute (week 4) the drugs move."""
    base = make(territory="mexico_states", policy="merida", rng=1, steps=8)
    j = _corridor_node(base)
    assert base.territory.nodes[j]["name"] == "Zacatecas"
    operation = {"kind": "operation", "where": "Zacatecas", "from_step": 1, "to_step": 8, "units": 50,
                 "force": "military"}
    crack = make(territory="mexico_states", policy="merida", rng=1, steps=8, interventions=[operation])
    for week in (1, 3):  # before the recompute the routes have not moved
        _run_to(base, week), _run_to(crack, week)
        np.testing.assert_array_equal(base.flow_at, crack.flow_at)
    _run_to(base, 4), _run_to(crack, 4)
    before, after = base.flow_at, crack.flow_at
    assert after[j] < 0.05 * before[j]  # measured: 1.10 -> 0.002 tonnes a week (50 units over ~32 plazas)
    gain = after - before
    gainers = np.flatnonzero(gain > 1e-9)
    names = {base.territory.nodes[i]["name"] for i in gainers}
    assert {"Durango", "Nayarit"} <= names  # the western way round Zacatecas
    assert gain[gainers].sum() > 0.3 * (before[j] - after[j])  # a real diversion, not a loss
    net = base.route_net
    # what reaches the crossings is unchanged: the drugs went round, they did not vanish
    assert after[net.crossings].sum() == pytest.approx(before[net.crossings].sum(), rel=1e-12)
    # ... and the value and revenue follow the drugs: the corridor's holder earns less there
    assert crack.value[j] < base.value[j] - 0.2  # measured: 0.49 -> 0.23
    assert crack.members_at[j] > 0 and crack.node_revenue[j] < 0.6 * base.node_revenue[j]


def test_more_police_on_a_node_lowers_its_flow_monotonically_and_raises_the_alternatives():
    model = make(territory="small", rng=1, steps=4)
    j = _corridor_node(model)
    net, flows = model.route_net, []
    for units in (0, 1, 3, 10):
        model.units_at = np.zeros(model.n_nodes, np.int64)
        model.units_at[j] = units
        net.recompute(model)
        routes.weekly(model)
        flows.append(model.flow_at.copy())
    through = [f[j] for f in flows]
    assert through == sorted(through, reverse=True) and through[-1] < 0.05 * through[0]
    assert (flows[-1] - flows[0]).max() > 0.2 * through[0]  # some other node took a fifth of it or more
    for f in flows:
        assert f[net.crossings].sum() == pytest.approx(model.drug_entering, rel=1e-12)


def test_flows_conserve_the_entering_supply_less_interdiction():
    for kw in ({"territory": "mexico_states", "policy": "merida"},
               {"territory": "national", "territory__nodes": 400, "policy": "kingpin"}):
        model = make(rng=2, steps=9, routes__every_weeks=1, **kw)
        net = model.route_net
        for _ in range(9):
            model.step()
            entering = model.p.routes.tonnes_a_year * model.scale / 52.0
            assert model.drug_entering == pytest.approx(entering)
            assert model.flow_at[net.crossings].sum() == pytest.approx(entering, rel=1e-9)
            assert model.drug_flow == pytest.approx(entering * (1 - model.drug_interdiction), rel=1e-9)
            assert (model.flow_at >= 0).all()
            # each entry passes on at least what it brings in
            assert (model.flow_at[net.entries] >= entering / len(net.entries) * (1 - 1e-9)).all()
        assert 0 < model.drug_interdiction < 1


def test_supply_sets_price_and_revenue_through_the_demand_elasticity():
    def week1(**kw):
        model = make(territory="mexico_states", policy="merida", rng=1, steps=2, **kw)
        model.step()
        return model

    one, two = week1(), week1(scenario__cocaine_supply=2.0)
    # elasticity -0.5: price x 2^(-1/0.5) = 1/4, tonnes x 2, revenue x 1/2
    assert one.drug_price == pytest.approx(20_000.0)  # US$ per kg: 6,000 US$ M over 300 tonnes
    assert two.drug_price == pytest.approx(5_000.0)
    assert two.drug_flow == pytest.approx(2 * one.drug_flow)
    assert two.drug_revenue == pytest.approx(0.5 * one.drug_revenue)
    assert two.node_revenue.sum() == pytest.approx(0.5 * one.node_revenue.sum())
    # at supply 1 the revenue is the model's revenue before routes: drug_revenue_musd a year, pro-rated
    assert one.drug_revenue == pytest.approx(one.p.scenario.drug_revenue_musd * one.scale / 52.0, rel=1e-12)
    assert one.node_revenue.sum() == pytest.approx(one.drug_revenue * (1 - one.drug_interdiction), rel=1e-12)
    # an elastic demand (-1.5): price x 2^(-2/3) = 0.630, revenue x 2^(1/3) = 1.260
    elastic = week1(scenario__cocaine_supply=2.0, routes__demand_elasticity=1.5)
    assert elastic.drug_price / one.drug_price == pytest.approx(0.62996, rel=1e-4)
    assert elastic.drug_revenue / one.drug_revenue == pytest.approx(1.25992, rel=1e-4)
    # no supply: no drugs, no revenue, the price at its cap (10 x baseline)
    none = week1(scenario__cocaine_supply=0.0)
    assert none.drug_flow == 0 and none.drug_revenue == 0 and none.node_revenue.sum() == 0
    assert none.drug_price == pytest.approx(200_000.0)


def test_revenue_is_shared_among_held_plazas_by_a_value_that_follows_the_drugs():
    model = make(territory="mexico_states", policy="merida", rng=3, steps=2)
    model.step()
    net = model.route_net
    value = 0.7 * model.flow_at / model.flow_at.max() + 0.3 * net.closeness
    np.testing.assert_allclose(model.value, value, rtol=1e-12)
    held = model.members_at > 0
    weight = value * held
    expected = model.drug_revenue * (1 - model.drug_interdiction) * weight / weight.sum()
    np.testing.assert_allclose(model.node_revenue, expected, rtol=1e-12)
    assert (model.node_revenue[~held] == 0).all()
    assert net.closeness[net.crossings].tolist() == [1.0] * len(net.crossings)


def test_the_value_for_the_groups_follows_the_routes():
    probe = make(territory="mexico_states", rng=1, steps=8)
    j = _corridor_node(probe)
    v0 = probe.value[j]
    operation = {"kind": "operation", "where": j, "from_step": 1, "to_step": 8, "units": 200, "force": "military"}
    model = make(territory="mexico_states", rng=1, steps=8, interventions=[operation])
    _run_to(model, 4)
    assert model.value[j] < v0 - 0.2
    assert model.value.max() <= 1.0 and model.value.min() >= 0.0


def test_drug_outputs_in_the_timeseries_and_node_table():
    model = make(territory="mexico_states", rng=1, steps=6, output__nodes=True)
    ts = model.run()
    assert np.allclose(ts["drug_price"], 20_000.0) and (ts["drug_flow"] > 0).all()
    nodes = model.node_table()
    crossings = model.route_net.crossings
    week6 = nodes[nodes["step"] == 6].set_index("node")["drug_flow"]
    assert week6.loc[crossings].sum() == pytest.approx(model.drug_entering, rel=1e-5)  # float32 column
    assert ts["drug_flow"].iloc[-1] == pytest.approx(model.drug_entering * (1 - model.drug_interdiction))


def test_bad_supply_is_refused_with_its_key():
    with pytest.raises(ParamError, match="'scenario.cocaine_supply'.*allowed: a number in \\[0, 10\\]"):
        from_kwargs(scenario__cocaine_supply=-1)
    with pytest.raises(ParamError, match="'routes.every_weeks'"):
        from_kwargs(routes__every_weeks=0)


def test_bad_supply_on_the_command_line_one_line_exit_2_nothing_written(tmp_path):
    out = tmp_path / "bad"
    proc = subprocess.run([sys.executable, "-m", "experiments.run", "scenario.cocaine_supply=-1",
                           f"hydra.run.dir={out}"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    err = proc.stderr.strip()
    assert err.count("\n") == 0 and "'scenario.cocaine_supply'" in err and "allowed" in err
    assert not out.exists()


def test_the_page_has_a_supply_slider_and_its_settings_replay():
    from experiments import app

    assert app.initial_values(app.MODEL_PARAMS)["scenario__cocaine_supply"] == 1.0
    m = app.ClassroomModel(rng=2, territory="small", steps=6, scenario__cocaine_supply=2.5)
    m.run()
    assert m.p.scenario.cocaine_supply == 2.5 and m.drug_price == pytest.approx(20_000.0 * 2.5**-2)
    replay = replay_page_settings(m, "routes_page")
    assert replay.p == m.p and replay.run().equals(m.timeseries())
