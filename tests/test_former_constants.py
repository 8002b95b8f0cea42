"""The model's former fixed constants are parameters (sim/params.py): each is read by the rule it names,
so calibration, sensitivity and docs/parameters.md see it. Their defaults are the old constants (the
golden test and the reference runs are unchanged); here, moving each one moves the model."""

from __future__ import annotations

import numpy as np

from sim import territory
from sim.params import TerritoryParams

from .conftest import make


def test_the_closeness_weight_default_is_the_old_blend():
    """0.3 on the closeness, and 1 - 0.3 on the traffic is the old 0.7 bit for bit."""
    assert TerritoryParams().closeness_weight == 0.3 and 1.0 - TerritoryParams().closeness_weight == 0.7


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
