"""Golden baselines: small fixed-seed runs must reproduce the stored results exactly.

A change of results is either a bug or an intended change of the model; if intended, regenerate
with ``UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py`` and say so in the commit.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from .conftest import ON_CI, make

GOLDEN = Path(__file__).parent / "golden"
IV = [{"kind": "remove_leader", "group": "largest", "at_step": 30, "mode": "capture"}]
CASES = {
    # kingpin with a leader captured in week 30: succession, splinters, the police's leader hunt
    "small_kingpin_seed1": dict(policy="kingpin", rng=1, steps=104, interventions=IV),
    # the 32 states (the small map funds about one unit): police sent where the violence is, with armed
    # forces (14 units) and financial intelligence funded, the levers the kingpin run leaves at zero
    "states_merida_violence_seed2": dict(territory="mexico_states", policy="merida", rng=2, steps=104,
                                         policy__targeting="violence", policy__military_share=0.3,
                                         policy__finance_share=0.3),
}


@pytest.mark.parametrize("name", CASES)
def test_golden_baseline(name):
    if os.environ.get("UPDATE_GOLDEN") and ON_CI:
        pytest.fail("UPDATE_GOLDEN is set under CI: CI compares with the golden file, it never rewrites it")
    ts = make(**CASES[name]).run()
    path = GOLDEN / f"{name}.csv"
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.mkdir(exist_ok=True)
        ts.to_csv(path, index=False, float_format="%.10g")
        pytest.skip(f"golden file rewritten: {path.name} (compare it with git diff; run again without "
                    "UPDATE_GOLDEN to check it)")
    expected = pd.read_csv(path)
    assert list(ts.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(ts, expected, check_dtype=False, rtol=1e-8)
