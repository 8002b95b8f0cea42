"""A trafficking group (cartel): an organisation, not an agent.

A group is the set of plazas its middle operators hold, led (or not) by one :class:`CartelLeader`.
Groups are founded at start, by splintering and never by decree; they die when their last plaza
is lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import attrgetter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .agents import CartelLeader, MiddleOperator

_members = attrgetter("members")


@dataclass(eq=False)
class Group:
    gid: int  # group id, never reused
    founded: int  # week the group appeared (0 for the initial organisations)
    parent: int = -1  # group it split from, -1 for none
    leader: CartelLeader | None = None  # None while the succession is open
    headless_since: int = -1  # week the leader was lost without accepted successor, -1 if led
    cash: float = 0.0  # war chest, US$ M
    size: int = 0  # members at the last census (see CartelModel.census)
    contenders: list[MiddleOperator] = field(default_factory=list)  # lieutenants contesting an open succession
    plazas: dict[int, MiddleOperator] = field(default_factory=dict)  # node -> operator holding it

    @property
    def alive(self) -> bool:
        return bool(self.plazas)

    @property
    def headless(self) -> bool:
        return self.leader is None

    @property
    def members(self) -> int:
        return sum(map(_members, self.plazas.values()))
