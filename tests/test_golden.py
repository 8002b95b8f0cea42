"""Golden baseline: a small fixed-seed run must reproduce the stored results exactly.

A change of results is either a bug or an intended change of the model; if intended, regenerate
with ``UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py`` and say so in the commit.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from .conftest import make

GOLDEN = Path(__file__).parent / "golden" / "small_kingpin_seed1.csv"
IV = [{"kind": "remove_leader", "group": "largest", "at_step": 30, "mode": "capture"}]


def test_golden_baseline():
    if os.environ.get("UPDATE_GOLDEN") and os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail("UPDATE_GOLDEN is set under CI: CI compares with the golden file, it never rewrites it")
    ts = make(policy="kingpin", rng=1, steps=104, interventions=IV).run()
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        ts.to_csv(GOLDEN, index=False, float_format="%.10g")
        pytest.skip(f"golden file rewritten: {GOLDEN.name} (compare it with git diff; run again without "
                    "UPDATE_GOLDEN to check it)")
    expected = pd.read_csv(GOLDEN)
    assert list(ts.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(ts, expected, check_dtype=False, rtol=1e-8)
