"""Documentation stays true to the code."""

from __future__ import annotations

import dataclasses
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
        for name in cls.__dataclass_fields__:
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
    assert params.POLICIES  # presets exist
