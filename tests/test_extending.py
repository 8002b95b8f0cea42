"""docs/extending.md's steps work: a toy pillar, and the page's own example kind (Amnesty, read from the page).

Both registries are filled at import, so the steps are applied to a copy of the package, which a fresh
interpreter then imports (the test process's registries stay as shipped)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PILLAR_MODULE = textwrap.dedent('''
    """A toy pillar (test): money becomes an effect with diminishing returns."""


    def levers(model, spend_musd: float) -> None:
        model.toy_effect = spend_musd / (spend_musd + 100.0)
''')

def doc_kind() -> str:
    """The intervention class of docs/extending.md, as printed there (step 1 of adding a kind)."""
    text = (ROOT / "docs" / "extending.md").read_text()
    part = text.split("## Add an intervention kind")[1]
    block = part.split("```python\n")[1].split("```")[0]
    return "\n\n" + textwrap.dedent(block)


SCRIPT = textwrap.dedent('''
    from sim import CartelModel, ParamError
    shares = {"disruption": 0.3, "rule_of_law": 0.2, "border": 0.2, "prevention": 0.2, "toy": 0.1}
    m = CartelModel(rng=1, territory="small", steps=3, policy__budget_musd=200.0, policy__shares=shares,
                    interventions=[{"kind": "amnesty", "where": "S00", "at_step": 2}])
    assert abs(m.toy_effect - 20.0 / 120.0) < 1e-12, m.toy_effect
    m.run()
    assert [e["kind"] for e in m.events] == ["amnesty"] and m.events[0]["at_step"] == 2
    for bad, key in (({**shares, "toy": 0.5}, "policy.shares"),):
        try:
            CartelModel(rng=1, territory="small", steps=3, policy__shares=bad)
        except ParamError as err:
            assert key in str(err), err
        else:
            raise AssertionError("shares summing to 1.4 were accepted")
    try:
        CartelModel(rng=1, territory="small", steps=3, interventions=[{"kind": "amnesty", "where": "S00", "at_step": 9}])
    except ParamError as err:
        assert "interventions[0].at_step" in str(err), err
    else:
        raise AssertionError("an amnesty after the run was accepted")
    from experiments import app, params_table
    table = params_table.render()
    assert "policy.shares.toy" in table and "interventions[kind=amnesty].share" in table
    assert "toy" in app.MODEL_PARAMS
    print("ok")
''')


def test_a_toy_pillar_and_a_toy_intervention_kind_work_end_to_end(tmp_path):
    """The steps of docs/extending.md, applied to a copy of the package."""
    for package in ("sim", "experiments", "conf"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "sim" / "pillars" / "toy.py").write_text(PILLAR_MODULE)  # pillar, step 1
    registry = tmp_path / "sim" / "pillars" / "__init__.py"  # pillar, step 2
    listed = registry.read_text().replace(
        "\n)\nBUDGET_PILLARS", '\n    Pillar("toy", "5 Toy", "a toy pillar (test)", share=0.0),\n)\nBUDGET_PILLARS')
    assert listed != registry.read_text(), "the registry's layout changed: update docs/extending.md and this test"
    registry.write_text(listed)
    kinds = tmp_path / "sim" / "interventions.py"  # kind, step 1
    kinds.write_text(kinds.read_text() + doc_kind())
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300,
                          cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().endswith("ok")
