"""Documentation stays true to the code."""

from __future__ import annotations

import dataclasses
import re
import typing
from pathlib import Path

from experiments import params_table
from sim import params

ROOT = Path(__file__).resolve().parents[1]


def test_parameter_table_is_current():
    assert (ROOT / "docs" / "parameters.md").read_text(encoding="utf-8") == params_table.render(), \
        "docs/parameters.md is stale: run python -m experiments.params_table"


def test_every_default_has_a_line_of_provenance():
    for cls in params_table.GROUPS.values():
        doc = params_table.comments(cls)
        hints = typing.get_type_hints(cls)
        for name in (f.name for f in dataclasses.fields(cls)):  # fields, not ClassVars such as REQUIRED
            if dataclasses.is_dataclass(hints[name]) or name in ("interventions", "timeline"):  # groups, lists
                continue
            assert name in doc and len(doc[name]) > 10, f"{cls.__name__}.{name} has no line of provenance"


def test_readme_shows_the_two_commands_and_odd_exists():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make run" in readme and "make test" in readme
    odd = (ROOT / "docs" / "odd.md").read_text(encoding="utf-8")
    sections = ("Purpose", "Entities", "Process overview", "Design concepts", "Initiali", "Input data", "Submodels")
    for section in sections:
        assert section in odd


def test_every_policy_preset_is_whole_and_every_named_one_exists():
    """The built-in presets and the files of conf/policy spend their whole budget (shares sum to 1) under
    their own name; every preset a config or an experiment names exists."""
    from experiments.config import compose, to_params
    from sim.pillars import BUDGET_PILLARS

    files = sorted((ROOT / "conf" / "policy").glob("*.yaml"))
    presets = dict(params.POLICIES)
    assert {"none", "kingpin", "merida", "prevention"} <= set(presets) and len(files) >= 4
    for f in files:
        assert f.stem not in params.POLICIES, f"conf/policy/{f.name} shadows a built-in preset"
        presets[f.stem] = to_params(compose([f"policy={f.stem}"])).policy
    for name, pol in presets.items():
        assert pol.name == name, f"preset {name} calls itself {pol.name}"
        total = sum(getattr(pol.shares, k) for k in BUDGET_PILLARS)
        assert abs(total - 1) < 1e-9, f"preset {name}: shares sum to {total}"
    named = {}  # every `policy: X` / `- override /policy: X` / a sweep's `policy: a,b` and `defaults: - X` of a policy
    pattern = re.compile(r"^\s*(?:-\s*)?(?:override\s+/)?policy:\s*([\w,]+)\s*(?:#.*)?$")
    for f in [ROOT / "conf" / "config.yaml", *sorted((ROOT / "conf" / "experiment").glob("*.yaml"))]:
        for line in f.read_text(encoding="utf-8").splitlines():
            if m := pattern.match(line):
                named.update((n, f.name) for n in m.group(1).split(","))
    for f in files:
        text = f.read_text(encoding="utf-8")
        named.update((m, f.name) for m in re.findall(r"^defaults:\s*\n\s*-\s*(\w+)", text, re.M))
    assert {"merida", "kingpin", "finance_heavy"} <= set(named)  # the scan finds the names it should
    missing = {n: where for n, where in named.items() if n not in presets}
    assert not missing, f"presets named but not defined: {missing}"
