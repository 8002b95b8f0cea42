"""The typed-configuration machinery: errors, ranges, and building dataclasses from plain mappings.

Parameter groups (:mod:`sim.params`) and intervention kinds (:mod:`sim.interventions`) are dataclasses
whose numeric fields declare their allowed :class:`Range` (``ranged``/``unit``); :func:`build` turns a
nested mapping (Hydra's, or keyword arguments) into them, checking every key and type on the way.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
import typing
from dataclasses import dataclass, field
from typing import Any

class ParamError(ValueError):
    """A parameter value that is not allowed. ``str(err)`` is one line naming key, value and rule."""

    def __init__(self, key: str, value: Any, allowed: str, unknown_key: bool = False):
        self.key, self.value, self.allowed, self.unknown_key = key, value, allowed, unknown_key
        if unknown_key:
            super().__init__(f"unknown key '{key}' (set to {value!r}; allowed keys here: {allowed})")
        else:
            super().__init__(f"invalid value for '{key}': {value!r} (allowed: {allowed})")

    def __reduce__(self):  # pickles (Mesa's batch_run with several processes sends it back to the parent)
        return (type(self), (self.key, self.value, self.allowed, self.unknown_key))


# --------------------------------------------------------------------------------------------------
# Ranges: where each number has a meaning. Declared with the field (``ranged``), checked by validate(),
# listed in docs/parameters.md. A numeric field declared without one gets DEFAULT_RANGE (>= 0, finite).
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Range:
    """Allowed values of one numeric key: ``lo``..``hi`` (ends open or closed), or one of ``also``."""

    lo: float = 0.0
    hi: float = math.inf
    lo_open: bool = False  # True: lo itself is refused (the key divides, or 0 has no meaning)
    hi_open: bool = False
    also: tuple = ()  # single values allowed outside the interval (e.g. 0 = the builder's default)
    hint: str = ""  # said when the value is refused (e.g. a unit)

    def __contains__(self, value: float) -> bool:
        if value in self.also:
            return True
        above = value > self.lo if self.lo_open else value >= self.lo
        below = value < self.hi if self.hi_open else value <= self.hi
        return above and below and math.isfinite(value)

    def text(self, integer: bool = False) -> str:
        """'a number in (0, 1]', 'an integer in 1..520', 'a number >= 0', ..."""
        fmt = (lambda x: f"{int(x)}") if integer else (lambda x: f"{x:g}")
        if integer and self.hi < math.inf:
            lo = int(self.lo) + (1 if self.lo_open else 0)
            body = f"an integer in {lo}..{fmt(self.hi)}"
        elif self.hi == math.inf:
            body = ("an integer" if integer else "a number") + (" > " if self.lo_open else " >= ") + fmt(self.lo)
        else:
            body = (f"a number in {'(' if self.lo_open else '['}{fmt(self.lo)}, {fmt(self.hi)}"
                    f"{')' if self.hi_open else ']'}")
        if self.also:
            body = " or ".join(fmt(v) for v in self.also) + ", or " + body
        return body + (f"; {self.hint}" if self.hint else "")


DEFAULT_RANGE = Range()
UNIT = Range(0.0, 1.0)  # probabilities, shares, indices in [0, 1]


def ranged(default: Any, lo: float = 0.0, hi: float = math.inf, doc: str = "", **kw: Any) -> Any:
    """A dataclass field with its default and its :class:`Range` (``lo_open``, ``hi_open``, ``also``, ``hint``);
    ``doc``: its line of meaning, for fields made in code rather than written with a comment."""
    return field(default=default, metadata={"range": Range(lo, hi, **kw), "doc": doc})


def unit(default: float, **kw: Any) -> Any:
    """A field in [0, 1] (a probability, share or index); ``hi_open=True`` where 1 divides by zero."""
    return ranged(default, 0.0, 1.0, **kw)


def range_of(f: dataclasses.Field) -> Range:
    return f.metadata.get("range", DEFAULT_RANGE)


def to_dict(obj: Any) -> Any:
    """A dataclass (or list of them) as plain nested dicts and lists."""
    return dataclasses.asdict(obj) if dataclasses.is_dataclass(obj) else obj


@functools.cache
def field_types(cls: type) -> dict[str, Any]:
    """The resolved annotations of a parameter dataclass (once: resolving them is slow)."""
    return typing.get_type_hints(cls)


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


def _plain(value: Any) -> Any:
    """A numpy scalar (``np.int64(3)``, ``np.float64(0.5)``, ``np.bool_(True)``) as its Python value."""
    item = getattr(value, "item", None)
    if item is not None and type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 0:
        return item()
    return value


def _coerce(key: str, value: Any, tp: Any) -> Any:
    """Check ``value`` against the annotated type ``tp``; ints are accepted where floats are, and
    numpy scalars as the Python numbers they hold (samplers such as EMA's pass numpy integers)."""
    if tp is Any:
        return _plain(value)
    value = _plain(value)
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ParamError(key, value, "true or false")
    if tp is int:
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            return int(value)  # numpy integers included
        if isinstance(value, float) and value.is_integer() and abs(value) <= 2**53:  # exact as a float
            return int(value)
        raise ParamError(key, value, "an integer")
    if tp is float:
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            value = float(value)
            if value != value or value in (float("inf"), float("-inf")):
                raise ParamError(key, value, "a finite number")
            return value
        raise ParamError(key, value, "a number")
    if tp is str:
        if isinstance(value, str):
            return value
        raise ParamError(key, value, "a string")
    raise ParamError(key, value, _type_name(tp))


def build(cls: type, data: Any, prefix: str) -> Any:
    """Build dataclass ``cls`` from ``data`` (a mapping), starting from its defaults."""
    if dataclasses.is_dataclass(data):
        data = dataclasses.asdict(data)
    if not isinstance(data, dict):
        raise ParamError(prefix.rstrip("."), data, f"a mapping of {cls.__name__} fields")
    hints = field_types(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ParamError(prefix + unknown[0], data[unknown[0]], ", ".join(sorted(names)), unknown_key=True)
    kwargs = {}
    for name, value in data.items():
        tp, key = hints[name], prefix + name
        if dataclasses.is_dataclass(tp):
            kwargs[name] = build(tp, value, key + ".")
        elif typing.get_origin(tp) is list:
            if not isinstance(value, (list, tuple)):
                raise ParamError(key, value, "a list")
            (item_tp,) = typing.get_args(tp)
            make = getattr(item_tp, "from_mapping", None) or functools.partial(build, item_tp)  # a kind per item
            kwargs[name] = [make(v, f"{key}[{i}].") for i, v in enumerate(value)]
        else:
            kwargs[name] = _coerce(key, value, tp)
    return cls(**kwargs)


def check(cond: bool, key: str, value: Any, allowed: str) -> None:
    if not cond:
        raise ParamError(key, value, allowed)


def check_ranges(obj: Any, prefix: str = "") -> None:
    """Every numeric field of ``obj`` (a parameter dataclass, recursively) inside its declared Range."""
    hints = field_types(type(obj))
    for f in dataclasses.fields(obj):
        value, tp = getattr(obj, f.name), hints[f.name]
        if dataclasses.is_dataclass(tp):
            check_ranges(value, f"{prefix}{f.name}.")
        elif tp in (int, float):
            r = range_of(f)
            check(value in r, prefix + f.name, value, r.text(integer=tp is int))
