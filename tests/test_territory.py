"""Territories: Mexico's states from the data file, and the synthetic country."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from sim import params, territory

REQUIRED = {"name", "state", "population", "border", "port", "value", "opportunity", "resilience"}


def build(name: str, seed: int = 0) -> nx.Graph:
    return territory.build(params.TERRITORIES[name], params.CommunityParams(), np.random.default_rng(seed))


def test_mexico_states_matches_census_and_map():
    g = build("mexico_states")
    assert g.number_of_nodes() == 32
    assert nx.is_connected(g) and nx.check_planarity(g)[0]
    assert sum(d["population"] for _, d in g.nodes(data=True)) == 126_014_024
    border = {d["name"] for _, d in g.nodes(data=True) if d["border"]}
    assert border == {"Baja California", "Sonora", "Chihuahua", "Coahuila", "Nuevo León", "Tamaulipas"}
    names = {d["name"]: i for i, d in g.nodes(data=True)}
    assert set(g[names["Ciudad de México"]]) == {names["México"], names["Morelos"]}
    assert g.degree(names["Baja California Sur"]) == 1


@pytest.mark.parametrize("name, n", [("small", 40), ("national", 2470)])
def test_synthetic_country(name, n):
    g = build(name)
    assert g.number_of_nodes() == n and nx.is_connected(g)
    assert list(g.nodes) == list(range(n))
    total = params.TERRITORIES[name].population
    assert sum(d["population"] for _, d in g.nodes(data=True)) == pytest.approx(total)
    assert any(d["border"] for _, d in g.nodes(data=True))
    assert any(d["port"] for _, d in g.nodes(data=True))


@pytest.mark.parametrize("name", ["small", "mexico_states", "national"])
def test_node_attributes_in_range(name):
    g = build(name)
    for _, d in g.nodes(data=True):
        assert REQUIRED <= set(d)
        for key in ("value", "opportunity", "resilience"):
            assert 0.0 <= d[key] <= 1.0
    # corridors: border nodes are worth more on average than the rest
    value = np.array([d["value"] for _, d in g.nodes(data=True)])
    border = np.array([d["border"] for _, d in g.nodes(data=True)])
    assert value[border].mean() > value[~border].mean()


def test_synthetic_is_deterministic_in_the_seed():
    a, b, c = build("small", 5), build("small", 5), build("small", 6)
    assert nx.utils.graphs_equal(a, b)
    assert not nx.utils.graphs_equal(a, c)
