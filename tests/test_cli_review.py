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


@pytest.fixture
def conf_copy(tmp_path, monkeypatch):
    """A copy of conf/ the test may spoil, used by compose and the command line in this process."""
    import shutil

    from experiments import config

    conf = tmp_path / "conf"
    shutil.copytree(config.CONF_DIR, conf)
    monkeypatch.setattr(config, "CONF_DIR", conf)
    return conf


def test_a_malformed_yaml_file_is_one_line_naming_the_file_and_where(conf_copy, tmp_path, capsys):
    (conf_copy / "policy" / "x.yaml").write_text("defaults:\n  - kingpin\nbudget_musd: [300\n")
    out = tmp_path / "run"
    assert run.cli(["policy=x", "territory=small", "steps=2", f"hydra.run.dir={out}"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err, err
    assert "policy/x.yaml: not valid YAML at line 4, column 1" in err and "line 3, column 14" in err
    assert "expected ',' or ']'" in err and not out.exists()
    (conf_copy / "experiment" / "y.yaml").write_text("hydra:\n  sweeper:\n    params: {seed: 1\n")
    from sim import ParamError
    with pytest.raises(ParamError, match=r"experiment/y.yaml: not valid YAML at line 4, column 1"):
        compose(["experiment=y"])


@pytest.mark.parametrize("where", ["root", "file", "under_file", "cwd"])
def test_compare_checks_its_out_folder_as_hydra_run_dir_is_checked(tmp_path, capsys, monkeypatch, where):
    from experiments import compare

    def never(*args):  # were the check missing, nothing runs, so nothing is written (into / least of all)
        raise AssertionError("compare ran with a bad --out")
    monkeypatch.setattr(compare, "_run", never)
    monkeypatch.chdir(tmp_path)
    afile = tmp_path / "a_file"
    afile.write_text("keep")
    out = {"root": "/", "file": str(afile), "under_file": str(afile / "sub"), "cwd": "."}[where]
    before = sorted(p.name for p in Path("/").iterdir())
    assert compare.main(["--out", out, "--seeds", "1", "--steps", "2", "--territory", "small", "--jobs", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: invalid value for '--out'") and "allowed: a folder" in err and "\n" not in err
    assert afile.read_text() == "keep" and sorted(p.name for p in tmp_path.iterdir()) == ["a_file"]
    assert sorted(p.name for p in Path("/").iterdir()) == before


@pytest.mark.parametrize("override, fields", [
    ("policy.shares=[0.5,0.5]", "policy.shares.<field>=... (fields: disruption, rule_of_law, border, prevention)"),
    ("output=[1]", "output.<field>=... (fields: nodes, csv)"),
])
def test_a_list_where_a_mapping_is_expected_says_a_mapping(tmp_path, capsys, override, fields):
    out = tmp_path / "bad"
    assert run.cli([override, f"hydra.run.dir={out}"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and f"'{override.split('=')[0]}'" in err and not out.exists()
    assert "allowed: a mapping, not a list: set its fields as " + fields in err and "a list [" not in err
