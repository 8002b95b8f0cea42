"""Territory graphs: the places agents live on.

Every builder returns a :class:`networkx.Graph` with integer node ids ``0..n-1`` and node attributes

- ``name`` (str), ``state`` (str), ``population`` (persons), ``border`` (bool, on the US border),
  ``port`` (bool, a seaport or southern entry for drugs), ``x``, ``y`` (drawing position),
- ``value``: trafficking value in [0, 1], higher on corridors from ports and the southern entry
  toward the US border;
- ``opportunity``: legal opportunity in [0, 1] (legal income and jobs for the young);
- ``resilience``: community resilience in [0, 1].

Builders: :func:`synthetic` (used by ``small`` and ``national``), :func:`mexico_states`, and
:func:`from_files` for a territory of your own (``territory=files``).
All randomness comes from the generator passed in, so the same seed gives the same territory.
"""

from __future__ import annotations

import csv
import functools
import os
from importlib import resources

import networkx as nx
import numpy as np

from .params import CommunityParams, TerritoryParams

DATA = resources.files("sim") / "data"
STATES = 32  # federal entities the synthetic country is divided into
SYNTHETIC_NODES = {"small": 40, "national": 2470}  # default node counts of the synthetic builders


def build(params: TerritoryParams, community: CommunityParams, rng: np.random.Generator) -> nx.Graph:
    """Build the territory named by ``params.name``."""
    if params.name == "mexico_states":
        graph = mexico_states()
    elif params.name == "files":
        graph = from_files(params.nodes_file, params.edges_file)
    else:
        graph = synthetic(params.nodes or SYNTHETIC_NODES[params.name], params.population, rng)
    _add_trafficking_value(graph, rng, params.closeness_weight)
    _add_communities(graph, community, rng)
    return graph


# --------------------------------------------------------------------------------------------------
# Territories from data files: Mexico's 32 states, or your own
# --------------------------------------------------------------------------------------------------
MAX_NODE_POPULATION = 1e10  # persons in one node (more than the world)


class TerritoryFileError(ValueError):
    """A territory data file that cannot be used; the message names the file, the line and the problem."""


NODE_COLUMNS = ("code", "name", "population", "border")  # required; optional: state, port, lat, lon
EDGE_COLUMNS = ("a", "b")


def _read_rows(path, required: tuple[str, ...]) -> list[dict[str, str]]:
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:  # -sig: a byte-order mark (spreadsheets) is skipped
            reader = csv.DictReader(fh)
            missing = [c for c in required if c not in (reader.fieldnames or [])]
            if missing:
                raise TerritoryFileError(
                    f"{path}: missing column(s) {', '.join(missing)} (required: {', '.join(required)})")
            return list(reader)
    except OSError as err:
        raise TerritoryFileError(f"{path}: cannot be read ({err.strerror})") from None
    except (csv.Error, UnicodeDecodeError) as err:
        raise TerritoryFileError(f"{path}: not a UTF-8 CSV file ({err})") from None


def _flag(path, line: int, key: str, value: str | None) -> bool:
    text = (value or "false").strip().lower()
    if text not in ("true", "false", "1", "0"):
        raise TerritoryFileError(f"{path}:{line}: column {key} is {value!r} (allowed: true or false)")
    return text in ("true", "1")


def _stamp(path) -> tuple:
    try:
        st = os.stat(path)
    except OSError:
        return (str(path), None, None)
    return (os.path.abspath(path), st.st_mtime_ns, st.st_size)


def from_files(nodes_path, edges_path) -> nx.Graph:
    """A territory from two CSV files: nodes (``code, name, population, border`` and optionally
    ``state, port, lat, lon``) and land adjacency (``a, b``: two node codes per row).

    Nodes get ids 0..n-1 in file order. Raises :class:`TerritoryFileError` on missing columns,
    bad values, duplicate or unknown codes, self-loops or a graph that is not connected.
    A file is parsed once per process while it is unchanged (path, modification time and size):
    checking the combinations of a sweep does not read it again for each.
    """
    return read_files(nodes_path, edges_path).copy()


def read_files(nodes_path, edges_path) -> nx.Graph:
    """The parsed territory of two files, shared (cached): read it, never change it (validation)."""
    return _parsed(str(nodes_path), str(edges_path), _stamp(nodes_path), _stamp(edges_path))


def files_population(nodes_path, edges_path) -> float:
    """The people living in a territory of files (parsed and summed once)."""
    return _population(str(nodes_path), str(edges_path), _stamp(nodes_path), _stamp(edges_path))


@functools.lru_cache(maxsize=16)
def _population(nodes_path: str, edges_path: str, nodes_stamp: tuple, edges_stamp: tuple) -> float:
    graph = _parsed(nodes_path, edges_path, nodes_stamp, edges_stamp)
    return float(sum(d["population"] for _, d in graph.nodes(data=True)))


@functools.lru_cache(maxsize=16)
def _parsed(nodes_path: str, edges_path: str, _nodes_stamp: tuple, _edges_stamp: tuple) -> nx.Graph:
    graph = nx.Graph()
    code_to_node: dict[str, int] = {}
    for line, row in enumerate(_read_rows(nodes_path, NODE_COLUMNS), start=2):
        code = (row["code"] or "").strip()
        if not code or code in code_to_node:
            raise TerritoryFileError(f"{nodes_path}:{line}: code {code!r} is empty or repeated")
        try:
            population = float(row["population"])
            x, y = float(row.get("lon") or 0.0), float(row.get("lat") or 0.0)
        except (TypeError, ValueError):
            raise TerritoryFileError(f"{nodes_path}:{line}: population, lat and lon must be numbers") from None
        if not 0 < population <= MAX_NODE_POPULATION:
            raise TerritoryFileError(f"{nodes_path}:{line}: population {row['population']!r} "
                                     f"(allowed: a number > 0 and <= {MAX_NODE_POPULATION:g})")
        if not (-180 <= x <= 180 and -90 <= y <= 90):
            raise TerritoryFileError(f"{nodes_path}:{line}: lat {row.get('lat')!r}, lon {row.get('lon')!r} "
                                     "(allowed: lat in [-90, 90], lon in [-180, 180], or empty)")
        node = len(code_to_node)
        code_to_node[code] = node
        graph.add_node(node, name=row["name"], state=row.get("state") or row["name"], population=population,
                       border=_flag(nodes_path, line, "border", row["border"]),
                       port=_flag(nodes_path, line, "port", row.get("port")), x=x, y=y)
    if len(graph) < 2:
        raise TerritoryFileError(f"{nodes_path}: at least 2 nodes are needed, found {len(graph)}")
    for line, row in enumerate(_read_rows(edges_path, EDGE_COLUMNS), start=2):
        a, b = (row["a"] or "").strip(), (row["b"] or "").strip()
        for code in (a, b):
            if code not in code_to_node:
                raise TerritoryFileError(f"{edges_path}:{line}: unknown node code {code!r} (not in {nodes_path})")
        if a == b:
            raise TerritoryFileError(f"{edges_path}:{line}: {a!r} is adjacent to itself")
        graph.add_edge(code_to_node[a], code_to_node[b])
    if not nx.is_connected(graph):
        parts = sorted(nx.connected_components(graph), key=len)
        lonely = sorted(graph.nodes[i]["name"] for i in parts[0])[:5]
        raise TerritoryFileError(f"{edges_path}: the territory is not connected ({len(parts)} parts; "
                                 f"e.g. {', '.join(lonely)} cut off)")
    if not any(d["border"] for _, d in graph.nodes(data=True)):
        raise TerritoryFileError(f"{nodes_path}: no node has border=true (drugs need a border to reach)")
    return graph


def places(params: TerritoryParams) -> tuple[int, tuple[str, ...]]:
    """The number of nodes and the state names the territory ``params`` will have, without building it
    (for checks before a run). Synthetic territories name their regions S00..S31."""
    if params.name in ("mexico_states", "files"):
        nodes, edges = ((DATA / "mexico_states.csv", DATA / "mexico_states_adjacency.csv")
                        if params.name == "mexico_states" else (params.nodes_file, params.edges_file))
        graph = read_files(nodes, edges)
        return graph.number_of_nodes(), tuple(sorted({d["state"] for _, d in graph.nodes(data=True)}))
    n = params.nodes or SYNTHETIC_NODES[params.name]
    return n, tuple(f"S{k:02d}" for k in range(STATES))


def mexico_states() -> nx.Graph:
    """The 32 federal entities with land adjacency, US-border flag and 2020 population.

    Sources: INEGI Censo de Población y Vivienda 2020; INEGI Marco Geoestadístico (see
    ``sim/data/SOURCES.md``). Drug sources are the port states, Chiapas (the southern entry) among them.
    """
    return from_files(DATA / "mexico_states.csv", DATA / "mexico_states_adjacency.csv")


# --------------------------------------------------------------------------------------------------
# A stylised country of municipality-sized nodes
# --------------------------------------------------------------------------------------------------
def synthetic(n: int, population: float, rng: np.random.Generator) -> nx.Graph:
    """A stylised country of about ``n`` municipalities on a jittered grid.

    North (high ``y``) is the US border strip; the west and east edges are coasts with a few ports;
    the south-east corner is the southern entry. Populations are log-normal (a few big cities);
    states are the 32 regions nearest to 32 random centres.
    """
    if n < 4:
        raise ValueError(f"territory.nodes: {n} (a synthetic territory needs at least 4 nodes)")
    rows = max(2, int(round(np.sqrt(n / 1.6))))
    cols = int(np.ceil(n / rows))
    ids = np.arange(n)
    r, c = ids // cols, ids % cols
    x = (c + rng.uniform(-0.3, 0.3, n)) / max(cols - 1, 1)
    y = (r + rng.uniform(-0.3, 0.3, n)) / max(rows - 1, 1)
    graph = nx.Graph()
    pop = rng.lognormal(mean=0.0, sigma=1.2, size=n)
    pop *= population / pop.sum()
    centres = rng.uniform(0, 1, size=(min(STATES, n), 2))
    state = np.argmin((x[:, None] - centres[:, 0]) ** 2 + (y[:, None] - centres[:, 1]) ** 2, axis=1)
    last_row = (n - 1) // cols
    for i in ids:
        graph.add_node(
            int(i), name=f"M{i:04d}", state=f"S{state[i]:02d}", population=float(pop[i]),
            border=bool(r[i] == last_row or (r[i] == last_row - 1 and i + cols >= n)),
            port=False, x=float(x[i]), y=float(y[i]),
        )
    for i in ids:
        right, up = i + 1, i + cols
        if c[i] + 1 < cols and right < n:
            graph.add_edge(int(i), int(right))
        if up < n:
            graph.add_edge(int(i), int(up))
            diag = up + 1 if rng.random() < 0.5 else up - 1
            if 0 <= diag < n and abs(diag % cols - c[i]) == 1:
                graph.add_edge(int(i), int(diag))
    _mark_ports(graph, r, c, cols, rng)
    return graph


def _mark_ports(graph: nx.Graph, r: np.ndarray, c: np.ndarray, cols: int, rng: np.random.Generator) -> None:
    """Ports on the west and east coasts (south of the border strip) and the south-east entry."""
    coast = [i for i in graph if (c[i] == 0 or c[i] == cols - 1) and r[i] < r.max() - 1]
    n_ports = max(1, min(len(coast), round(len(graph) ** 0.5 / 5)))
    for i in rng.choice(coast, size=n_ports, replace=False):
        graph.nodes[int(i)]["port"] = True
    graph.nodes[int(cols - 1) if cols - 1 < len(graph) else 0]["port"] = True  # south-east corner


# --------------------------------------------------------------------------------------------------
# Node attributes common to all territories
# --------------------------------------------------------------------------------------------------
def closeness_to_border(hops: np.ndarray) -> np.ndarray:
    """Closeness to the US border from each node's hops (unweighted steps) to the nearest border node:
    1 on the border, falling linearly to 0 at the farthest node; 0 where no border node is reachable
    (infinite hops). Used by the territory (below) and by the routes (:mod:`sim.routes`)."""
    finite = np.isfinite(hops)
    top = hops[finite].max() if finite.any() else 0.0
    return np.where(finite, 1.0 - hops / (top or 1.0), 0.0)


def trafficking_value(traffic: np.ndarray, closeness: np.ndarray, closeness_weight: float) -> np.ndarray:
    """Trafficking value in [0, 1]: (1 - w) x traffic / the largest traffic + w x closeness, w =
    ``territory.closeness_weight``; the territory's corridors (below) or the routes' flows
    (:meth:`sim.routes.RouteNetwork.value`) as the traffic."""
    top = traffic.max()
    corridor = traffic / top if top > 0 else np.zeros(len(traffic))
    return (1.0 - closeness_weight) * corridor + closeness_weight * closeness


def _add_trafficking_value(graph: nx.Graph, rng: np.random.Generator, closeness_weight: float) -> None:
    """Trafficking value in [0, 1]: corridors from drug sources (ports) to the US border.

    Each source sends drugs along a shortest path (random edge costs, so corridors differ by seed)
    to its nearest border node; a node's value is (1 - closeness_weight) x its normalised corridor
    traffic plus closeness_weight x its closeness to the border (1 on the border, falling with hops):
    :func:`trafficking_value`.
    """
    border = [i for i, d in graph.nodes(data=True) if d["border"]]
    sources = [i for i, d in graph.nodes(data=True) if d["port"]]
    for u, v in graph.edges:
        graph.edges[u, v]["cost"] = float(rng.uniform(0.5, 1.5))
    traffic = np.zeros(len(graph))
    dist_to_border, paths = nx.multi_source_dijkstra(graph, border, weight="cost")
    for s in sources:
        for node in paths[s]:
            traffic[node] += 1.0
    hops = nx.multi_source_dijkstra_path_length(graph, border, weight=None)
    hops = np.array([hops.get(i, np.inf) for i in range(len(graph))], np.float64)  # node ids are 0..n-1
    value = trafficking_value(traffic, closeness_to_border(hops), closeness_weight)
    for i in graph:
        graph.nodes[i]["value"] = float(value[i])


def _add_communities(graph: nx.Graph, p: CommunityParams, rng: np.random.Generator) -> None:
    """Legal opportunity (higher in big places) and resilience, around their configured means."""
    logpop = np.log([graph.nodes[i]["population"] for i in graph])
    z = (logpop - logpop.mean()) / (logpop.std() or 1.0)
    for k, i in enumerate(graph):
        opp = p.opportunity_mean + 0.08 * z[k] + rng.normal(0, 0.08)
        res = p.resilience_mean + rng.normal(0, 0.08)
        graph.nodes[i]["opportunity"] = float(np.clip(opp, 0.02, 0.98))
        graph.nodes[i]["resilience"] = float(np.clip(res, 0.02, 0.98))
