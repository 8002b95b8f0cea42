"""Outlines of Mexico's 32 states for the page's map of the ``mexico_states`` territory.

The outlines are SVG paths from the npm package ``@svg-maps/mexico`` 2.0.0 (Victor Cazanave,
CC BY 4.0), shipped unchanged as ``experiments/data/mexico_states.svg`` with its licence and
``SOURCES.md``. The paths use only ``M``/``m`` (move, then implicit lines), ``L``/``l``, ``H``/``h``,
``V``/``v`` and ``Z``/``z``; this module reads them into polygons in the SVG's coordinates (y down).
"""

from __future__ import annotations

import functools
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

SVG = Path(__file__).resolve().parent / "data" / "mexico_states.svg"
ATTRIBUTION = "State outlines: @svg-maps/mexico by Victor Cazanave, CC BY 4.0"

# the territory's state names (sim/data/mexico_states.csv) that the SVG spells differently
NAME_ALIAS = {"Ciudad de México": "Mexico City"}

_TOKEN = re.compile(r"[MmLlHhVvZz]|-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def parse_path(d: str) -> list[np.ndarray]:
    """The closed rings of an SVG path made of move, line and close commands (absolute coordinates)."""
    rings: list[list[tuple[float, float]]] = []
    x = y = 0.0
    cmd = ""
    tokens = _TOKEN.findall(d)
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.isalpha():
            cmd = tok
            i += 1
            if cmd in "Zz":
                if rings and rings[-1]:
                    x, y = rings[-1][0]
                continue
            continue
        if cmd in "Mm":
            dx, dy = float(tokens[i]), float(tokens[i + 1])
            x, y = (x + dx, y + dy) if cmd == "m" else (dx, dy)
            rings.append([(x, y)])
            cmd = "l" if cmd == "m" else "L"  # further pairs are implicit lines
            i += 2
        elif cmd in "Ll":
            dx, dy = float(tokens[i]), float(tokens[i + 1])
            x, y = (x + dx, y + dy) if cmd == "l" else (dx, dy)
            rings[-1].append((x, y))
            i += 2
        elif cmd in "Hh":
            x = x + float(tokens[i]) if cmd == "h" else float(tokens[i])
            rings[-1].append((x, y))
            i += 1
        elif cmd in "Vv":
            y = y + float(tokens[i]) if cmd == "v" else float(tokens[i])
            rings[-1].append((x, y))
            i += 1
        else:
            raise ValueError(f"unsupported SVG path command {cmd!r}")
    return [np.array(r) for r in rings if len(r) >= 3]


@functools.cache
def states() -> dict[str, dict]:
    """SVG id -> {"name", "rings" (list of (k, 2) arrays, y down), "centre" (x, y of the largest ring)}."""
    root = ET.parse(SVG).getroot()
    out = {}
    for el in root.iter():
        if el.tag.endswith("path") and el.get("id"):
            rings = parse_path(el.get("d", ""))
            largest = max(rings, key=lambda r: _area(r))
            out[el.get("id")] = {"name": el.get("aria-label", el.get("id")), "rings": rings,
                                 "centre": _centroid(largest)}
    return out


def _area(ring: np.ndarray) -> float:
    x, y = ring[:, 0], ring[:, 1]
    return 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def _centroid(ring: np.ndarray) -> np.ndarray:
    x, y = ring[:, 0], ring[:, 1]
    cross = x * np.roll(y, -1) - np.roll(x, -1) * y
    a = cross.sum() / 2
    if abs(a) < 1e-9:
        return ring.mean(axis=0)
    return np.array([((x + np.roll(x, -1)) * cross).sum() / (6 * a), ((y + np.roll(y, -1)) * cross).sum() / (6 * a)])


def rings_by_node(names: list[str]) -> list[list[np.ndarray]]:
    """For the territory's nodes in order (their state names), the outline rings of each."""
    by_name = {v["name"]: v for v in states().values()}
    return [by_name[NAME_ALIAS.get(n, n)]["rings"] for n in names]


def covers(names: list[str]) -> bool:
    """Whether every name is a state of the map (then the territory is drawn as states)."""
    by_name = {v["name"] for v in states().values()}
    return len(names) == len(by_name) and all(NAME_ALIAS.get(n, n) in by_name for n in names)
