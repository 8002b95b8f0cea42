"""Parameters: presets, the two ways of building them agree, and bad values are refused clearly."""

from __future__ import annotations

import dataclasses

import pytest

from experiments import compose
from experiments.config import to_params
from sim import params
from sim.params import ParamError


def test_presets_share_one_budget_except_none():
    budgets = {name: p.budget_musd for name, p in params.POLICIES.items()}
    assert budgets["none"] == 0
    assert len({b for name, b in budgets.items() if name != "none"}) == 1
    assert params.POLICIES["prevention"].shares.prevention == pytest.approx(0.5)
    assert params.POLICIES["merida"].shares.prevention == pytest.approx(1 / 3, abs=0.01)
    for p in params.POLICIES.values():
        assert sum(dataclasses.asdict(p.shares).values()) == pytest.approx(1.0)


def test_keywords_and_hydra_give_the_same_params():
    by_kwargs = params.from_kwargs(seed=3, policy="kingpin", territory="small", steps=52,
                                   policy__shares__prevention=0.25, policy__shares__disruption=0.5,
                                   cartels__succession_clarity=1.0)
    by_hydra = to_params(compose(["seed=3", "policy=kingpin", "territory=small", "steps=52",
                                  "policy.shares.prevention=0.25", "policy.shares.disruption=0.5",
                                  "cartels.succession_clarity=1"]))
    assert by_kwargs == by_hydra


@pytest.mark.parametrize("kwargs, key", [
    ({"policy": "foo"}, "policy"),
    ({"territory": "mars"}, "territory"),
    ({"steps": 0}, "steps"),
    ({"steps": "ten"}, "steps"),
    ({"seed": -1}, "seed"),
    ({"policy__budget_musd": -1.0}, "policy.budget_musd"),
    ({"policy__shares__prevention": 0.9}, "policy.shares"),
    ({"policy__shares__border": -0.1}, "policy.shares.border"),
    ({"policy__targeting": "everyone"}, "policy.targeting"),
    ({"cartels__succession_clarity": 1.5}, "cartels.succession_clarity"),
    ({"cartels__lethality": -0.1}, "cartels.lethality"),
    ({"scenario__gun_inflow": -5}, "scenario.gun_inflow"),
    ({"scenario__recruitment_scale": "high"}, "scenario.recruitment_scale"),
    ({"output__nodes": "yes"}, "output.nodes"),
    ({"cartels__nonsense": 1}, "cartels.nonsense"),
    ({"interventions": [{"kind": "remove_leader", "at_step": 999}]}, "interventions[0].at_step"),
    ({"interventions": [{"kind": "remove_leader", "mode": "maim", "at_step": 2}]}, "interventions[0].mode"),
    ({"interventions": [{"kind": "bomb"}]}, "interventions[0].kind"),
    ({"interventions": [{"kind": "remove_leader", "group": "biggest", "at_step": 2}]}, "interventions[0].group"),
])
def test_bad_values_name_the_key(kwargs, key):
    with pytest.raises(ParamError) as err:
        params.from_kwargs(**kwargs)
    assert err.value.key == key
    message = str(err.value)
    assert key in message and "allowed" in message and "\n" not in message
