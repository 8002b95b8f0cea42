"""Defects a new user's review of the command line and the Python API found (one test or more each)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from experiments import compose, run
from experiments.store import check_run

ROOT = Path(__file__).resolve().parents[1]


def _run_in(out: Path, *overrides: str) -> dict:
    return run.run_one(compose(["territory=small", "steps=6", *overrides]), out, list(overrides))


def test_a_run_replacing_another_removes_the_old_runs_outputs_and_nothing_else(tmp_path):
    out = tmp_path / "x"
    _run_in(out, "seed=4", "output.nodes=true", "output.csv=true")
    for name in ("figures/timeseries.png", "figures/territory.pdf"):  # as experiments.plot draws them
        (out / name).parent.mkdir(exist_ok=True)
        (out / name).write_bytes(b"old figure")
    (out / "notes.txt").write_text("mine")
    (out / "figures" / "mine.png").write_bytes(b"user's")
    assert {p.name for p in out.iterdir()} >= {"nodes.parquet", "nodes.csv", "timeseries.csv"}
    _run_in(out, "seed=5")
    assert sorted(p.name for p in out.iterdir()) == ["figures", "notes.txt", "summary.json", "timeseries.parquet"]
    assert [p.name for p in (out / "figures").iterdir()] == ["mine.png"]  # not a file the run owns
    status = check_run(out)
    assert status.finished and status.summary["seed"] == 5
    assert (out / "notes.txt").read_text() == "mine"


def test_an_interrupted_replacement_keeps_the_earlier_run_whole(tmp_path, monkeypatch):
    out = tmp_path / "x"
    _run_in(out, "seed=4", "output.nodes=true")
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def killed(model):
        raise KeyboardInterrupt
    monkeypatch.setattr(run, "_run_watched", killed)
    with pytest.raises(KeyboardInterrupt):
        _run_in(out, "seed=5")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert check_run(out).finished and check_run(out).summary["seed"] == 4
