"""Write docs/parameters.md: every default parameter with its value and its line of provenance,
read from sim/params.py (the single source). ``tests/test_docs.py`` checks the file is current.

    python -m experiments.params_table                  # rewrite docs/parameters.md
    python -m experiments.params_table --out FILE       # write the table elsewhere
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import re
import sys
import typing
from pathlib import Path

from sim import exploration, params
from sim.interventions import Intervention

from . import io

OUT = Path(__file__).resolve().parents[1] / "docs" / "parameters.md"
def groups(cls: type = params.Params, prefix: str = "") -> dict[str, type]:
    """Config key prefix -> parameter dataclass, for every group of :class:`sim.params.Params` (nested
    groups such as policy.shares included), then one entry per intervention kind."""
    out = {prefix: cls}
    for f in dataclasses.fields(cls):
        tp = typing.get_type_hints(cls)[f.name]
        if dataclasses.is_dataclass(tp):
            out.update(groups(tp, f"{prefix}.{f.name}" if prefix else f.name))
    if cls is params.Params:
        out.update({f"interventions[kind={kind}]": kind_cls for kind, kind_cls in Intervention.KINDS.items()})
        out["timeline[]"] = params.TimelineEntry
    return out


GROUPS = groups()  # config key -> dataclass
LINE = re.compile(r"^\s+(\w+): [^=]+= (.+?)\s+# (.+)$")


def comments(cls: type) -> dict[str, str]:
    """Field name -> its trailing comment in the source of ``cls`` (or the ``doc`` of a field made in code)."""
    out = {f.name: f.metadata["doc"] for f in dataclasses.fields(cls) if f.metadata.get("doc")}
    try:
        source = inspect.getsource(cls)
    except (OSError, TypeError):  # made in code (sim.params.Shares, from the pillar registry)
        return out
    for line in source.splitlines():
        m = LINE.match(line)
        if m:
            out[m.group(1)] = m.group(3)
    return out


def allowed(f: dataclasses.Field, tp: object) -> str:
    """The values a key accepts (numbers: the Range declared in sim/params.py, checked by validate)."""
    if tp in (int, float):
        return params.range_of(f).text(integer=tp is int).replace("|", "/")
    if tp is bool:
        return "true or false"
    return "text" if tp is str else "see meaning"


def render() -> str:
    lines = [
        "# Parameters",
        "",
        "Generated from `sim/params.py` by `python -m experiments.params_table`; do not edit by hand.",
        "Each default: config key, value, the values allowed (the range in which the model is defined; any",
        "other value is refused before a run starts with one line naming the key and this range), and its",
        "line (meaning, unit; source). *calibrated*: fitted to the targets in `docs/odd.md` (section 8), by",
        "history matching on the 2007-2014 hindcast where the line cites `experiments.calibrate`, by hand",
        "against the default `national` run otherwise; *assumed*: a modelling choice with no published",
        "number, a candidate for sensitivity analysis. An intervention's *required* fields have no default",
        "in a config mapping. Presets (`policy=`, `scenario=`, `territory=`) replace the defaults of their",
        "group; they are listed at the end.",
        "",
    ]
    for prefix, cls in GROUPS.items():
        doc = comments(cls)
        hints = typing.get_type_hints(cls)
        rows = [f for f in dataclasses.fields(cls) if not dataclasses.is_dataclass(hints[f.name]) and f.name in doc]
        if not rows:
            continue
        lines += [f"## `{prefix or 'top level'}`", "", "| key | default | allowed | meaning, unit; source |",
                  "|---|---|---|---|"]
        default = cls()
        required = getattr(cls, "REQUIRED", ())  # an intervention's when and where: no default in a mapping
        for f in rows:
            key = f"{prefix}.{f.name}" if prefix else f.name
            value = "*required*" if f.name in required else f"`{getattr(default, f.name)!r}`"
            lines.append(f"| `{key}` | {value} | {allowed(f, hints[f.name])} | {doc[f.name].replace('|', '/')} |")
        lines.append("")
    lines += _exploration()
    lines += ["## Presets", ""]
    for group, table in params.PRESETS.items():
        lines.append(f"### `{group}=`")
        lines.append("")
        for name, preset in table.items():
            changed = _diff(params.to_dict(type(preset)()), params.to_dict(preset))
            lines.append(f"- `{name}`: " + (", ".join(f"`{k}={v!r}`" for k, v in changed.items()) or "the defaults"))
        lines.append("")
    return "\n".join(lines)


def _exploration() -> list[str]:
    """The declarations of sim/exploration.py: what sensitivity analysis and the EMA model vary and measure."""
    lines = ["## Exploration: uncertainties, levers, outcomes", "",
             "Declared once in `sim/exploration.py`; `experiments.sensitivity`, `experiments.ema` and the page",
             "read them. *name* is the model's keyword and the EMA parameter name.", "",
             "### Uncertainties", "", "| name | range | unit | source of the range |", "|---|---|---|---|"]
    for u in exploration.UNCERTAINTIES:
        lines.append(f"| `{u.name}` | {u.range_text()} | {u.unit} | {u.why} |")
    lines += ["", "### Levers", "", "| name | range | unit | meaning |", "|---|---|---|---|"]
    for lever in exploration.LEVERS:
        lines.append(f"| `{lever.name}` | {lever.range_text()} | {lever.unit} | {lever.why} |")
    lines += ["", "### Outcomes", "", "| name | unit | prefer | computed from the weekly table |", "|---|---|---|---|"]
    for o in exploration.OUTCOMES:
        prefer = {"min": "lower", "max": "higher", "info": "(information)"}[o.direction]
        lines.append(f"| `{o.name}` | {o.unit} | {prefer} | {o.how} |")
    return [*lines, ""]


def _diff(base: dict, other: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in other.items():
        if isinstance(v, dict):
            out.update(_diff(base[k], v, f"{prefix}{k}."))
        elif base.get(k) != v:
            out[f"{prefix}{k}"] = v
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.params_table", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"where to write the table (default: {OUT})")
    out = parser.parse_args(argv).out
    io.write_text(render(), out)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
