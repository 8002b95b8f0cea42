"""Timed interventions: events a modeler schedules on top of the yearly policy.

``interventions`` in the config is a list of mappings, each with a ``kind`` and that kind's fields. Every
kind is a small dataclass here with its own checks (:meth:`Intervention.check`, run before the run
starts) and its own :meth:`Intervention.apply`, called at the start of every week (it acts in the weeks
it is meant for). Adding a kind is adding a class: see ``docs/extending.md``.

Kinds:

- ``remove_leader``: the leader of a group is captured or killed in week ``at_step``;
- ``operation``: ``units`` extra units of a ``force`` (police or armed forces) are sent to a state or a
  node from week ``from_step`` to week ``to_step`` (a joint operation, a crackdown). They arrest members
  and crew bosses where the groups are inside that place, as units targeting operators do.

Every event is recorded in ``model.events`` (and in the run's summary) when it acts.
"""

from __future__ import annotations

import abc
import dataclasses
import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from . import succession
from .schema import ParamError, build, check, check_ranges, ranged

if TYPE_CHECKING:
    from .model import CartelModel
    from .params import Params

REMOVAL_MODES = ("capture", "kill")
FORCES = ("police", "military")  # who staffs a unit: police, or the armed forces (army and navy)
MAX_UNITS = 20_000  # units one operation may send (as many as all police agents of a run may be)


class Intervention(abc.ABC):
    """Base of every kind. Subclasses are dataclasses with a ``kind`` field, a :meth:`check` and an
    :meth:`apply`; they register themselves."""

    KINDS: ClassVar[dict[str, type[Intervention]]] = {}
    REQUIRED: ClassVar[tuple[str, ...]] = ()  # fields a config mapping must give (when and where: no silent default)
    kind: str

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        Intervention.KINDS[cls.__dict__["kind"]] = cls  # the default of the kind field names the kind

    @classmethod
    def from_mapping(cls, data: Any, prefix: str) -> Intervention:
        """The intervention a config mapping describes (its ``kind`` picks the class; default remove_leader)."""
        if dataclasses.is_dataclass(data):
            data = dataclasses.asdict(data)
        if not isinstance(data, dict):
            raise ParamError(prefix.rstrip("."), data, "a mapping with a kind and its fields")
        kind = data.get("kind", "remove_leader")
        if kind not in cls.KINDS:
            raise ParamError(prefix + "kind", kind, " | ".join(cls.KINDS))
        kind_cls = cls.KINDS[kind]
        for name in kind_cls.REQUIRED:
            if name not in data:
                raise ParamError(prefix + name, None, f"required: {'an' if kind[0] in 'aeiou' else 'a'} {kind} needs {', '.join(kind_cls.REQUIRED)}")
        return build(kind_cls, data, prefix)

    @abc.abstractmethod
    def check(self, p: Params, key: str) -> None:
        """Raise :class:`ParamError` (naming ``key``.field) if this event cannot happen in run ``p``."""

    @abc.abstractmethod
    def apply(self, model: CartelModel) -> None:
        """Act on the model if this week is one of the event's weeks (called at the start of every week)."""


def _week(key: str, value: int, lo: int, p: Params, what: str = "a week") -> None:
    check(lo <= value <= p.steps, key, value, f"{what} in {lo}..{p.steps} (steps)")


@dataclass
class RemoveLeader(Intervention):
    """The leader of ``group`` is taken out during week ``at_step``."""

    REQUIRED: ClassVar[tuple[str, ...]] = ("at_step",)
    kind: str = "remove_leader"  # remove_leader (this kind)
    group: Any = "largest"  # 'largest' (most members when the event fires) or a group id
    at_step: int = ranged(1, 1, 5200, hint='and at most steps')  # week in which it happens
    mode: str = "capture"  # capture | kill

    def check(self, p: Params, key: str) -> None:
        check(self.mode in REMOVAL_MODES, key + ".mode", self.mode, " | ".join(REMOVAL_MODES))
        _week(key + ".at_step", self.at_step, 1, p)
        ok = self.group == "largest" or (isinstance(self.group, int) and not isinstance(self.group, bool)
                                         and self.group >= 0)
        check(ok, key + ".group", self.group, "'largest' or a group id >= 0")

    def apply(self, model: CartelModel) -> None:
        if model.week != self.at_step:
            return
        if self.group == "largest":
            alive = [g for g in model.groups.values() if g.alive]
            group = max(alive, key=lambda g: g.members) if alive else None
        else:
            group = model.groups.get(self.group)
        record = {"kind": self.kind, "at_step": self.at_step, "mode": self.mode, "requested": self.group,
                  "group": None, "plazas": [], "fired": False}
        if group is not None and group.leader is not None:
            record.update(group=group.gid, plazas=sorted(group.plazas), fired=True,
                          successor=bool(group.leader.has_successor))
            succession.remove_leader(model, group, self.mode)
        model.events.append(record)


@dataclass
class Operation(Intervention):
    """``units`` extra units of ``force`` sent to ``where`` (a state or a node) for weeks from_step..to_step."""

    REQUIRED: ClassVar[tuple[str, ...]] = ("where", "from_step", "to_step", "units")
    kind: str = "operation"  # operation (this kind)
    where: Any = ""  # a state's name (node attribute state, e.g. Michoacán; synthetic maps: S00..S31) or a node id
    from_step: int = ranged(1, 1, 5200, hint='and at most steps')  # first week of the operation
    to_step: int = ranged(1, 1, 5200, hint='from_step..steps')  # last week of the operation
    units: int = ranged(1, 1, MAX_UNITS, hint='model units, as funded ones (one costs police.unit_cost_musd a year)')  # units sent, on top of the base force and the budget's
    force: str = "military"  # police | military

    def check(self, p: Params, key: str) -> None:
        from .territory import places  # the territory's module reads params (which reads this one)

        n, states = places(p.territory)
        node_ok = isinstance(self.where, int) and not isinstance(self.where, bool) and 0 <= self.where < n
        close = difflib.get_close_matches(str(self.where), states, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}? " if close else ""
        check(node_ok or self.where in states, key + ".where", self.where,
              f"{hint}a state of territory {p.territory.name} ({', '.join(states)}) or a node id in 0..{n - 1}")
        _week(key + ".from_step", self.from_step, 1, p)
        _week(key + ".to_step", self.to_step, self.from_step, p, "a week (from_step or later)")
        check(self.force in FORCES, key + ".force", self.force, " | ".join(FORCES))

    def nodes(self, model: CartelModel) -> list[int]:
        """The nodes the operation covers."""
        if isinstance(self.where, int):
            return [self.where]
        return [j for j in range(model.n_nodes) if model.territory.nodes[j].get("state") == self.where]

    def apply(self, model: CartelModel) -> None:
        from .pillars import disruption  # the pillar owns the units

        if model.week == self.from_step:
            nodes = self.nodes(model)
            disruption.start_operation(model, self, nodes)
            model.events.append({"kind": self.kind, "at_step": self.from_step, "to_step": self.to_step,
                                 "where": self.where, "nodes": len(nodes), "units": self.units,
                                 "force": self.force, "fired": bool(nodes)})
        elif model.week == self.to_step + 1:
            disruption.end_operation(model, self)


def fire(model: CartelModel) -> None:
    """Let every scheduled intervention act on this week."""
    for iv in model.p.interventions:
        iv.apply(model)


def schedule(model: CartelModel, iv: Intervention) -> Intervention:
    """Add an intervention to a running model (checked like the config's); returns it."""
    key = f"interventions[{len(model.p.interventions)}]"
    check_ranges(iv, key + ".")
    iv.check(model.p, key)
    first = getattr(iv, "at_step", getattr(iv, "from_step", None))
    if first is not None and first <= model.week:
        name = "at_step" if hasattr(iv, "at_step") else "from_step"
        raise ParamError(f"{key}.{name}", first, f"a week still to come in {model.week + 1}..{model.p.steps} "
                         f"(the model is at week {model.week})")
    model.p.interventions.append(iv)
    return iv


def schedule_leader_removal(model: CartelModel, group: int | str = "largest", mode: str = "capture") -> Intervention:
    """Add a leader removal for next week to a running model (the page's button); returns the event.

    It fires inside the next step like any timed intervention, so it is counted, recorded in
    ``model.events`` and drawn from the same streams.
    """
    if model.week + 1 > model.p.steps:
        raise ParamError("interventions.at_step", model.week + 1,
                         f"a week in 1..{model.p.steps} (steps): the run is over")
    return schedule(model, RemoveLeader(group=group, at_step=model.week + 1, mode=mode))
