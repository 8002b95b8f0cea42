"""The README's Python API example runs as written (a user copies it whole)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_api_example() -> str:
    """The first ```python block under the README's "## Python API" heading."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Python API"):]
    start = section.index("```python\n") + len("```python\n")
    return section[start:section.index("```", start)]


def test_readme_python_api_example_runs_as_written():
    namespace: dict = {}
    exec(compile(readme_api_example(), "README.md (Python API)", "exec"), namespace)
    model = namespace["model"]
    assert not model.running and model.week == model.p.steps  # run to its end after the scheduled events
    kinds = [event["kind"] for event in model.events]
    assert "operation" in kinds and "remove_leader" in kinds, kinds
