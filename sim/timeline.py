"""The timeline: dated changes of the model's inputs during a run (config key ``timeline``).

``timeline: [{at_step: 313, set: {policy.targeting: leaders, policy.budget_musd: 310}}, ...]``: at the
start of week ``at_step`` (after the timed interventions of that week fire, before the border flows)
the keys of ``set`` take their new values, and everything the model derives from them follows: the
policy's levers (:func:`sim.pillars.apply_levers`: funded police units, intelligence, courts, vetting,
interdiction, prevention) and the number of funded ``Police`` agents (units are added, or the last
funded ones retired). Gun inflow and drug revenue are read every week (:func:`sim.pillars.border.weekly_flows`),
so they follow by themselves. Each week's changes are recorded in ``model.events``
(``kind: timeline``). ``set`` may be written flat (``{policy.budget_musd: 300}``) or nested
(``{policy: {budget_musd: 300}}``); both mean the same.

Only inputs may change: :data:`TIMELINE_KEYS`, the keys the policy maker or the outside world sets
(budgets and their split, financial intelligence, whom police target, the armed forces' share, gun
and cocaine supply). A key must exist in :class:`sim.params.Params` and be listed there. Nothing that reads or shapes an outcome may change (:data:`NOT_IN_TIMELINE`
says why for the tempting ones): calibrated model parameters (``cartels.*``, ``community.*``,
``court.*``, ``police.*``) describe how the world works, not what happened in it, and a yearly
multiplier fitted to the homicide series would make the hindcast agree by construction.

``scenario.population_year`` is refused too: the model's people are a conserved stock
(``model.people_total()`` is constant: residents, members, prisoners and the dead), and growing the
population (+19% from 2007 to 2021) needs births and migration, which the model does not simulate.
Changing only the population used for rates would let the per-capita rates and capacities drift
away from the people who can be recruited or killed. The population's year is set once, at the
start (``scenario.population_year``; the ``mexico_2007`` scenario uses 2007).

Validation (before the run, from :func:`sim.params.validate`): each key known and allowed; each
value checked as the key itself is (its type, its range and the rules across keys, such as pillar
shares summing to 1), by applying the week's changes on top of all earlier ones to a copy of the
parameters and validating the copy; ``at_step`` in 1..steps; no key changed twice in one week.
Errors name the entry: ``invalid value for 'timeline[2].set.policy.budget_musd': ...``.

A scenario may bring its own history (``scenario.timeline_file``, a CSV; :func:`load_history`):
dated input changes, and joint operations (added to the run's interventions when the model is built,
:func:`history_operations`); its changes are applied first, the top-level ``timeline``'s after them, so an entry of your own
overrides the history's change to the same key in the same week. History rows dated after the
run's last week are not reached (a shorter run is a prefix of the history), not an error.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import params as P
from .interventions import Operation
from .params import ParamError
from .schema import field_types

if TYPE_CHECKING:
    from .model import CartelModel

# Keys a timeline may change: inputs only (a key must exist in Params AND be listed).
TIMELINE_KEYS = (
    "policy.budget_musd",  # yearly budget, US$ M
    "policy.shares.disruption", "policy.shares.rule_of_law", "policy.shares.border", "policy.shares.prevention",
    "policy.targeting",  # whom funded units go after
    "policy.finance_share",  # share of disruption money on financial intelligence
    "policy.military_share",  # share of funded units that are armed forces
    "scenario.gun_inflow",  # guns a year crossing south
    "scenario.drug_revenue_musd",  # revenue of drugs moved north, US$ M a year
    "scenario.cocaine_supply",  # index of drugs entering (1 = baseline)
)
# Keys one might want in a timeline and why they are not there.
NOT_IN_TIMELINE = {
    "scenario.recruitment_scale": "an outcome-shaping multiplier: a yearly recruitment factor fitted to the "
                                  "series would make the hindcast agree by construction",
    "scenario.background_homicide_rate": "read off the homicide series itself (the outcome)",
    "scenario.population_year": "the model's people are a conserved stock without births or migration; "
                                "the population's year is set once, at the start",
    "policy.prevention_share": "a sweep shorthand; change policy.shares.* instead",
}


class TimelineKeyError(ParamError):
    """A key that exists but may not change during a run."""

    def __init__(self, key: str, value: Any, allowed: str, unknown_key: bool = False):
        super().__init__(key, value, allowed, unknown_key)
        ValueError.__init__(self, f"key '{key}' cannot change during a run (set to {value!r}; {allowed})")


def allowed_keys() -> list[str]:
    """The listed keys that exist in :class:`sim.params.Params` (on this version of the model)."""
    return [k for k in TIMELINE_KEYS if _field_type(k) is not None]


def _field_type(dotted: str) -> Any:
    """The annotated type of the (leaf) field ``dotted`` of Params, or None where there is none."""
    cls: Any = P.Params
    parts = dotted.split(".")
    for part in parts:
        if not dataclasses.is_dataclass(cls):
            return None
        hints = field_types(cls)
        if part not in hints:
            return None
        cls = hints[part]
    return None if dataclasses.is_dataclass(cls) else cls


# --------------------------------------------------------------------------------------------------
# Entries as flat changes
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Change:
    week: int
    key: str  # dotted input key
    value: Any
    label: str  # where it was written: 'timeline[2]' or 'scenario.timeline_file (mexico_2007_timeline.csv line 5)'


def _flatten(mapping: dict, prefix: str, label: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in mapping.items():
        if not isinstance(key, str) or not key:
            raise ParamError(f"{label}.set", mapping, "input keys (text) and their values")
        dotted = prefix + key
        if isinstance(value, dict) and _field_type(dotted) is None:  # a group written nested
            out += _flatten(value, dotted + ".", label)
        else:
            out.append((dotted, value))
    return out


def _check_key(key: str, value: Any, label: str) -> None:
    full = f"{label}.set.{key}"
    if _field_type(key) is None:
        raise ParamError(full, value, ", ".join(allowed_keys()), unknown_key=True)
    if key not in TIMELINE_KEYS:
        why = NOT_IN_TIMELINE.get(key) or "a model parameter, not an input"
        raise TimelineKeyError(full, value, f"{key} is {why}; allowed in a timeline, the inputs: "
                               + ", ".join(allowed_keys()))


def user_changes(p: P.Params) -> list[Change]:
    """The top-level ``timeline`` as flat changes, checked for shape, weeks, keys and repeats."""
    out: list[Change] = []
    seen: dict[tuple[int, str], str] = {}
    for i, entry in enumerate(p.timeline):
        label = f"timeline[{i}]"
        P.check(1 <= entry.at_step <= p.steps, label + ".at_step", entry.at_step, f"a week in 1..{p.steps} (steps)")
        P.check(isinstance(entry.set, dict) and bool(entry.set), label + ".set", entry.set,
                 "a mapping of input keys to values, e.g. {policy.budget_musd: 300}")
        for key, value in _flatten(entry.set, "", label):
            _check_key(key, value, label)
            where = (entry.at_step, key)
            if where in seen:
                raise ParamError(f"{label}.set.{key}", value, f"one change of {key} in week {entry.at_step}; "
                                 f"{seen[where]} changes it in that week too")
            seen[where] = label
            out.append(Change(entry.at_step, key, value, label))
    return out


# --------------------------------------------------------------------------------------------------
# A scenario's history (scenario.timeline_file): a CSV of dated changes
# --------------------------------------------------------------------------------------------------
DATA = Path(__file__).resolve().parent / "data"
HISTORY_COLUMNS = ("date", "key", "value", "where", "to_date", "force", "source", "note")


def history_path(name: str) -> Path:
    """``mexico_2007`` -> sim/data/mexico_2007_timeline.csv; anything with a '/' or '.csv' is a path."""
    if "/" in name or name.endswith(".csv"):
        return Path(name).expanduser()
    return DATA / f"{name}_timeline.csv"


@dataclass(frozen=True)
class History:
    """A scenario's history file, read: changes by week, operations, and rows skipped (with why)."""

    start: dt.date  # the first day of week 1
    changes: tuple  # (week, key, value, line)
    operations: tuple  # dicts: kind, where, from_step, to_step, units, force, line
    skipped: tuple  # (line, reason)


def week_of(day: dt.date, start: dt.date) -> int:
    """The run's week in which ``day`` falls (week 1 starts on ``start``); days before the start: week 1."""
    return max(1, (day - start).days // 7 + 1)


def _value(text: str) -> Any:
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text.strip())


@functools.lru_cache(maxsize=8)
def load_history(path: str, name: str = "") -> History:
    """Read a history CSV (columns :data:`HISTORY_COLUMNS`; '#' lines are comments).

    The first data row is ``<date>,start``: the first day of week 1. Then one row per change of one
    key (``date,key,value``), or per joint operation (``key=operation``: ``where``, ``date`` to
    ``to_date``, ``value`` = units, ``force``). Rows whose key does not exist in this version of the
    model and rows whose value still needs a source (empty) are skipped
    and listed in ``History.skipped``; they switch on when the key exists and the value is filled in.
    A malformed row is refused with the file and the line. ``name``: the value of
    ``scenario.timeline_file`` as given (for messages).
    """
    file = Path(path)
    skipped: list[tuple[int, str]] = []
    changes: list[tuple[int, str, Any, int]] = []
    operations: list[dict] = []
    start: dt.date | None = None

    def bad(line: int, why: str) -> ParamError:
        return ParamError("scenario.timeline_file", name or str(path), f"a timeline CSV with columns "
                          f"{','.join(HISTORY_COLUMNS)}; {file.name} line {line}: {why}")

    try:
        text = file.read_text(encoding="utf-8")
    except OSError as err:
        names = ", ".join(sorted(f.name.removesuffix("_timeline.csv") for f in DATA.glob("*_timeline.csv")))
        raise ParamError("scenario.timeline_file", name or str(path), f"a readable timeline CSV ({err.strerror}), "
                         f"or the name of one in sim/data/: {names}") from None
    numbered = [(k + 1, line) for k, line in enumerate(text.splitlines())
                if line.strip() and not line.lstrip().startswith("#")]
    if not numbered:
        raise bad(1, "no rows")
    header_line, header = numbered[0]
    if tuple(c.strip() for c in header.split(",")) != HISTORY_COLUMNS:
        raise bad(header_line, f"the header must be {','.join(HISTORY_COLUMNS)}")
    for line, row in zip((n for n, _ in numbered[1:]), csv.reader([r for _, r in numbered[1:]])):
        if len(row) != len(HISTORY_COLUMNS):
            raise bad(line, f"{len(row)} fields, expected {len(HISTORY_COLUMNS)}")
        rec = dict(zip(HISTORY_COLUMNS, (c.strip() for c in row)))
        try:
            day = _date(rec["date"])
        except ValueError:
            raise bad(line, f"date {rec['date']!r} is not YYYY-MM-DD") from None
        if rec["key"] == "start":
            if start is not None:
                raise bad(line, "a second start row")
            start = day
            continue
        if start is None:
            raise bad(line, "the first row must be '<date>,start' (the first day of week 1)")
        if not rec["source"]:
            raise bad(line, "no source: every number needs one")
        if rec["key"] == "operation":
            if not rec["value"]:
                skipped.append((line, "the operation's number of units needs a source"))
                continue
            try:
                to_day = _date(rec["to_date"]) if rec["to_date"] else None
            except ValueError:
                raise bad(line, f"to_date {rec['to_date']!r} is not YYYY-MM-DD") from None
            operations.append({"kind": "operation", "where": rec["where"], "from_step": week_of(day, start),
                               "to_step": week_of(to_day, start) if to_day else None, "units": _value(rec["value"]),
                               "force": rec["force"], "line": line})
            continue
        if _field_type(rec["key"]) is None:
            if rec["key"] in TIMELINE_KEYS:  # a listed key this version lacks
                skipped.append((line, f"{rec['key']} does not exist in this version of the model"))
                continue
            raise bad(line, f"unknown key {rec['key']!r}; allowed: {', '.join(allowed_keys())}")
        if rec["key"] not in TIMELINE_KEYS:
            raise bad(line, f"{rec['key']} may not change during a run; allowed: {', '.join(allowed_keys())}")
        if not rec["value"]:
            skipped.append((line, f"the value of {rec['key']} needs a source"))
            continue
        week = week_of(day, start)
        if any(w == week and k == rec["key"] for w, k, _, _ in changes):
            raise bad(line, f"{rec['key']} changes twice in week {week}")
        changes.append((week, rec["key"], _value(rec["value"]), line))
    if start is None:
        raise bad(header_line, "no '<date>,start' row")
    return History(start, tuple(changes), tuple(operations), tuple(skipped))


def history_operations(p: P.Params) -> list[Operation]:
    """The joint operations ``scenario.timeline_file`` brings that start inside the run (an operation
    without an end date lasts to the run's end), checked like the config's interventions."""
    if not p.scenario.timeline_file:
        return []
    path = history_path(p.scenario.timeline_file)
    out = []
    for op in load_history(str(path), p.scenario.timeline_file).operations:
        if op["from_step"] > p.steps:
            continue
        iv = Operation(where=op["where"], from_step=op["from_step"], units=op["units"], force=op["force"],
                       to_step=min(op["to_step"] or p.steps, p.steps))
        try:
            P.check_ranges(iv, "operation.")
            iv.check(p, "operation")
        except ParamError as err:
            raise ParamError("scenario.timeline_file", p.scenario.timeline_file,
                             f"usable operations; {path.name} line {op['line']}: {err}") from None
        out.append(iv)
    return out


def history_changes(p: P.Params) -> list[Change]:
    """The changes ``scenario.timeline_file`` brings that fall inside the run (weeks 1..steps)."""
    if not p.scenario.timeline_file:
        return []
    path = history_path(p.scenario.timeline_file)
    hist = load_history(str(path), p.scenario.timeline_file)
    return [Change(w, key, value, f"scenario.timeline_file ({path.name} line {line})")
            for w, key, value, line in hist.changes if w <= p.steps]


# --------------------------------------------------------------------------------------------------
# Validation and the schedule of the run
# --------------------------------------------------------------------------------------------------
def _base(p: P.Params) -> dict:
    """Params as plain data, without the timeline (so validating a copy does not recurse)."""
    data = P.to_dict(p)
    data["timeline"] = []
    data["scenario"]["timeline_file"] = ""
    data["policy"]["prevention_share"] = -1.0  # already applied to the shares; a change of shares must stick
    return data


def _get(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        obj = obj[part] if isinstance(obj, dict) else getattr(obj, part)
    return obj


def _put(obj: Any, dotted: str, value: Any) -> None:
    *path, last = dotted.split(".")
    for part in path:
        obj = obj[part] if isinstance(obj, dict) else getattr(obj, part)
    if isinstance(obj, dict):
        obj[last] = value
    else:
        setattr(obj, last, value)


def schedule(p: P.Params) -> dict[int, list[Change]]:
    """Week -> its changes with their checked values, history first; raises ParamError naming the entry."""
    changes = history_changes(p) + user_changes(p)
    if not changes:
        return {}
    weeks: dict[int, list[Change]] = {}
    for c in changes:
        weeks.setdefault(c.week, []).append(c)
    state = _base(p)
    out: dict[int, list[Change]] = {}
    for week in sorted(weeks):
        for c in weeks[week]:
            _put(state, c.key, c.value)
        try:
            checked = P.from_dict(state)
        except ParamError as err:
            raise _blame(err, weeks[week], week) from None
        final = {c.key: c for c in weeks[week]}  # the last change of a key in a week wins (yours over history's)
        out[week] = [dataclasses.replace(c, value=_get(checked, c.key)) for c in final.values()]
        state = _base(checked)
    return out


def _blame(err: ParamError, changes: list[Change], week: int) -> ParamError:
    """The error of a week's state, named after the change that caused it."""
    for c in reversed(changes):
        if c.key == err.key or c.key.startswith(err.key + ".") or err.key.startswith(c.key + "."):
            extra = "" if c.key == err.key else f"; from week {week} on, {err.key} would be {err.value!r}"
            return ParamError(f"{c.label}.set.{c.key}", c.value, err.allowed + extra)
    c = changes[-1]
    return ParamError(f"{c.label}.set.{c.key}", c.value, f"values that keep every key valid; from week {week} "
                      f"on, {err}")


def validate_timeline(p: P.Params) -> None:
    """Check ``p.timeline`` and ``p.scenario.timeline_file`` (called by :func:`sim.params.validate`)."""
    if p.timeline or p.scenario.timeline_file:
        schedule(p)
        history_operations(p)


# --------------------------------------------------------------------------------------------------
# During the run
# --------------------------------------------------------------------------------------------------
def apply(model: CartelModel) -> None:
    """Apply this week's changes (called from ``CartelModel.step`` after the interventions fire)."""
    plan = model.__dict__.get("timeline_schedule")
    if plan is None:
        plan = model.timeline_schedule = schedule(model.p)
    changes = plan.get(model.week)
    if not changes:
        return
    was = {c.key: _get(model.p, c.key) for c in changes}
    for c in changes:
        _put(model.p, c.key, c.value)
    relever(model)
    model.events.append({"kind": "timeline", "at_step": model.week, "fired": True,
                         "set": {c.key: c.value for c in changes}, "was": was,
                         "source": list(dict.fromkeys(c.label for c in changes)),
                         "funded_units": sum(1 for u in model.police if u.funded and u.operation is None)})


def relever(model: CartelModel) -> None:
    """After a change of inputs: every pillar's levers again (the disruption pillar adds or retires
    funded units of each force to match what the budget pays for)."""
    from .pillars import apply_levers  # the pillars import the model's modules, which import this one

    apply_levers(model)
