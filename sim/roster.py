"""The roster of cells: which middle operators are active, in Mesa's order, with some of their
columns kept as arrays.

The weekly passes over all cells (:mod:`sim.cells`, the census, ``MiddleOperator.decide_all``,
predation, the weekly record) need the active cells and their nodes and groups every time. A cell
never moves, and it changes group only by a transfer, so these columns are written once, when a cell
is created or transferred, instead of being read back from every agent several times a week. A
cell's ``cash``, ``loyalty`` and ``need`` live here too (:data:`COLUMNS`; the agent reads and writes
them as attributes): the weekly passes change them for every cell at once, and single cells seldom.
The rows follow the cells' creation order, which is the order Mesa's agent set holds them in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .agents import MiddleOperator


COLUMNS = ("cash", "loyalty", "need")  # a cell's stocks kept here, float64 (US$ M, 0-1, 0-1)


class Roster:
    """Every cell ever created, one row each in creation order; ``active`` marks those still in play.
    ``cash``, ``loyalty``, ``need``: one entry per row (index them with :meth:`rows`)."""

    def __init__(self, capacity: int = 1024):
        capacity = max(capacity, 1)
        self._cells: list[MiddleOperator | None] = []  # row -> cell (None once it is gone)
        self._node = np.zeros(capacity, np.int64)
        self._gid = np.zeros(capacity, np.int64)
        self._active = np.zeros(capacity, bool)
        self.cash, self.loyalty, self.need = (np.zeros(capacity) for _ in COLUMNS)
        self._rows: np.ndarray | None = None  # rows of the active cells (kept until a cell comes or goes)
        self._list: list[MiddleOperator] | None = None
        self._nodes: np.ndarray | None = None

    def add(self, cell: MiddleOperator, node: int, gid: int) -> int:
        """Enter a new cell; returns its row."""
        row = len(self._cells)
        if row == len(self._active):  # full: twice the room, the new rows zero
            self._node, self._gid, self._active = (_doubled(a) for a in (self._node, self._gid, self._active))
            for name in COLUMNS:
                setattr(self, name, _doubled(getattr(self, name)))
        self._cells.append(cell)
        self._node[row], self._gid[row], self._active[row] = node, gid, True
        self._changed()
        return row

    def drop(self, row: int) -> None:
        """The cell of ``row`` is gone (dissolved or merged into another)."""
        self._cells[row] = None
        self._active[row] = False
        self._changed()

    def regroup(self, row: int, gid: int) -> None:
        """The cell of ``row`` now answers to group ``gid``."""
        self._gid[row] = gid

    def _changed(self) -> None:
        self._rows = self._list = self._nodes = None

    def rows(self) -> np.ndarray:
        """The rows of the active cells, in creation order (read-only)."""
        if self._rows is None:
            self._rows = np.flatnonzero(self._active[:len(self._cells)])
            self._rows.flags.writeable = False
        return self._rows

    def cells(self) -> list[MiddleOperator]:
        """The active cells in creation order (kept between calls: read-only)."""
        if self._list is None:
            cells = self._cells
            self._list = [cells[r] for r in self.rows().tolist()]
        return self._list

    def nodes(self) -> np.ndarray:
        """The node of each active cell, in the order of :meth:`cells` (read-only)."""
        if self._nodes is None:
            self._nodes = self._node[self.rows()]
            self._nodes.flags.writeable = False
        return self._nodes

    def gids(self) -> np.ndarray:
        """The group id of each active cell, in the order of :meth:`cells` (a new array)."""
        return self._gid[self.rows()]


def _doubled(a: np.ndarray) -> np.ndarray:
    return np.concatenate((a, np.zeros_like(a)))


def column(name: str, doc: str) -> property:
    """A cell attribute kept in the roster's column ``name``. It reads as a numpy float (``np.float64``),
    not a Python float: the same double, but Python's ``sum()`` adds numpy floats without its
    compensation, so a sum over cells should go through the column (``roster.cash[rows].tolist()``)."""

    def get(cell: MiddleOperator) -> np.float64:
        return getattr(cell.model.roster, name)[cell.row]

    def put(cell: MiddleOperator, value: float) -> None:
        getattr(cell.model.roster, name)[cell.row] = value

    return property(get, put, doc=doc)
