"""The declarations of sim/exploration.py: every input is a real model keyword, weights become shares,
outcomes agree with CartelModel.summary, and numpy scalars and errors cross process boundaries."""

from __future__ import annotations

import dataclasses
import pickle
import typing

import numpy as np
import pytest

from experiments import app, sensitivity
from sim import CartelModel, exploration
from sim.params import POLICIES, ParamError, Params, from_kwargs


def _field_type(dotted: str):
    cls = Params
    for part in dotted.split("."):
        hints = typing.get_type_hints(cls)
        assert part in hints, f"{dotted}: no config key {part!r}"
        cls = hints[part]
    return cls


def test_every_declared_input_is_a_config_key_with_a_range_unit_and_source():
    names = [e.name for e in (*exploration.UNCERTAINTIES, *exploration.LEVERS)]
    assert len(names) == len(set(names))
    assert not set(names) & {"policy", "scenario", "model"}  # EMA's own result columns
    for entry in (*exploration.UNCERTAINTIES, *exploration.LEVERS):
        assert entry.unit and entry.why, entry
        if entry.key.endswith("_weight"):
            assert entry.key[: -len("_weight")] in exploration.PILLARS
            continue
        tp = _field_type(entry.key)
        if entry.categorical:
            assert tp is str and entry.values
        else:
            assert tp in (int, float) and entry.low < entry.high
            # the ends of every range build a valid model
            from_kwargs(**exploration.to_keywords({entry.name: entry.low}))
            from_kwargs(**exploration.to_keywords({entry.name: entry.high}))


def test_sensitivity_and_the_page_read_the_declarations():
    assert sensitivity.PARAMETERS == {u.key: (u.low, u.high) for u in exploration.UNCERTAINTIES}
    assert set(sensitivity.OUTCOMES) <= {o.name for o in exploration.OUTCOMES}
    budget = next(lever for lever in exploration.LEVERS if lever.name == "policy__budget_musd")
    slider = app.MODEL_PARAMS["policy__budget_musd"]
    assert (slider.min, slider.max) == (budget.low, budget.high)
    targeting = next(lever for lever in exploration.LEVERS if lever.name == "policy__targeting")
    assert app.MODEL_PARAMS["policy__targeting"]["values"] == list(targeting.values)


def test_weights_become_shares_in_proportion_and_all_zero_funds_nothing():
    assert exploration.shares_from_weights({"disruption": 3, "border": 1}) == pytest.approx(
        {"disruption": 0.75, "rule_of_law": 0.0, "border": 0.25, "prevention": 0.0})
    assert exploration.shares_from_weights(dict.fromkeys(exploration.PILLARS, 0.0)) is None
    kw = exploration.to_keywords({f"{p}_weight": 0 for p in exploration.PILLARS} | {"policy__budget_musd": 500})
    assert kw["policy__budget_musd"] == 0.0
    for bad in ({"border": -1}, {"border": float("nan")}, {"bogus": 1}):
        with pytest.raises(ParamError) as err:
            exploration.shares_from_weights(bad)
        assert err.value.key == "policy.shares"


def test_preset_levers_rebuild_each_preset():
    for name, preset in POLICIES.items():
        p = from_kwargs(**exploration.to_keywords(exploration.preset_levers(name)))
        assert p.policy.budget_musd == preset.budget_musd and p.policy.targeting == preset.targeting
        for pillar in exploration.PILLARS:
            assert getattr(p.policy.shares, pillar) == pytest.approx(getattr(preset.shares, pillar))


def test_numpy_scalars_are_accepted_as_the_numbers_they_hold():
    p = from_kwargs(scenario__gun_inflow=np.int64(306145), steps=np.int64(10), cartels__lethality=np.float32(0.01),
                    cartels__lieutenants=np.int32(4), output__nodes=np.bool_(False))
    assert p.scenario.gun_inflow == 306145.0 and type(p.scenario.gun_inflow) is float
    assert p.steps == 10 and type(p.steps) is int and type(p.cartels.lieutenants) is int
    assert p.output.nodes is False
    model = CartelModel(rng=np.int64(2), territory="small", steps=np.int64(3))
    assert model.p.seed == 2 and type(model.p.seed) is int
    with pytest.raises(ParamError, match="'steps'"):
        from_kwargs(steps=np.float64(2.5))


def test_param_errors_survive_pickling():
    for kwargs in ({"steps": 0}, {"cartels__bogus": 1}):
        with pytest.raises(ParamError) as err:
            from_kwargs(**kwargs)
        copy = pickle.loads(pickle.dumps(err.value))
        assert type(copy) is ParamError and str(copy) == str(err.value) and copy.key == err.value.key


def test_declared_outcomes_match_the_run_summary():
    model = CartelModel(rng=1, territory="small", steps=60, policy="kingpin")
    values = exploration.measure(model.run())
    summary = model.summary()
    for name, value in values.items():
        assert value == pytest.approx(summary[name]), name
    assert {o.direction for o in exploration.OUTCOMES} <= {"min", "max", "info"}
    assert dataclasses.is_dataclass(exploration.OUTCOMES[0])
    assert pickle.loads(pickle.dumps(exploration.OUTCOMES))[2].name == exploration.OUTCOMES[2].name
