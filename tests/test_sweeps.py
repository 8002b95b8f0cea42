"""Sweeps: launchers, resume, crash safety, collection, experiment files and their figures."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from experiments import collect, plot
from experiments.config import sweep_combinations
from experiments.store import check_run, run_dirs

ROOT = Path(__file__).resolve().parents[1]
TINY = ["territory=small", "steps=12"]


def sweep(sweep_dir: Path, *overrides: str, launcher: str = "joblib", check: bool = True):
    args = [sys.executable, "-m", "experiments.run", "-m", *TINY, *overrides, f"hydra/launcher={launcher}",
            f"hydra.sweep.dir={sweep_dir}"]
    proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300)
    if check:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def weekly(sweep_dir: Path) -> dict[str, pd.DataFrame]:
    return {d.name: pd.read_parquet(d / "timeseries.parquet") for d in run_dirs(sweep_dir)}


def not_blank(png: Path) -> bool:
    lo, hi = Image.open(png).convert("L").getextrema()
    return hi - lo > 100


def test_launchers_give_identical_results_and_rerun_skips(tmp_path):
    grid = ("policy=kingpin,prevention", "seed=0,1")
    sweep(tmp_path / "joblib", *grid)
    sweep(tmp_path / "basic", *grid, launcher="basic")
    sweep(tmp_path / "submitit", *grid, "hydra.sweeper.max_batch_size=2", launcher="local")
    runs = {name: weekly(tmp_path / name) for name in ("joblib", "basic", "submitit")}
    assert len(runs["joblib"]) == 4 and runs["joblib"].keys() == runs["basic"].keys() == runs["submitit"].keys()
    for name, ts in runs["joblib"].items():
        pd.testing.assert_frame_equal(ts, runs["basic"][name])
        pd.testing.assert_frame_equal(ts, runs["submitit"][name])
    stamps = {d: (d / "summary.json").stat().st_mtime_ns for d in run_dirs(tmp_path / "joblib")}
    proc = sweep(tmp_path / "joblib", *grid)
    assert "finished before with the same configuration, skipped" in proc.stdout + proc.stderr
    assert stamps == {d: (d / "summary.json").stat().st_mtime_ns for d in run_dirs(tmp_path / "joblib")}


def test_killed_sweep_rerun_has_every_run_once_and_damage_is_caught(tmp_path):
    sweep_dir = tmp_path / "killed"
    args = [sys.executable, "-m", "experiments.run", "-m", "territory=small", "steps=150", "policy=kingpin,none",
            "seed=range(0,6)", "hydra/launcher=basic", f"hydra.sweep.dir={sweep_dir}"]
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and sum(check_run(d).finished for d in run_dirs(sweep_dir)) < 3:
        time.sleep(0.05)
    time.sleep(0.13)  # land somewhere inside a run
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = sum(check_run(d).finished for d in run_dirs(sweep_dir))
    assert 3 <= done_before < 12
    with warnings.catch_warnings(record=True):
        runs, _ = collect.collect(sweep_dir, quiet=True)  # collecting a half-done sweep reads finished runs only
    assert len(runs) == done_before
    # damage one finished run: collect names it and leaves it out, the re-run repeats it
    victim = next(d for d in run_dirs(sweep_dir) if check_run(d).finished)
    data = (victim / "timeseries.parquet").read_bytes()
    (victim / "timeseries.parquet").write_bytes(data[: len(data) // 2])
    with pytest.warns(UserWarning, match=victim.name.replace("[", r"\[").replace("]", r"\]")):
        runs, left_out = collect.collect(sweep_dir, quiet=True)
    assert victim.name in " ".join(left_out) and victim.name not in set(runs["run"])
    proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "damaged run" in proc.stdout + proc.stderr
    dirs = run_dirs(sweep_dir)
    assert len(dirs) == 12 and all(check_run(d).finished for d in dirs)
    assert not list(sweep_dir.rglob("*.part"))
    runs, left_out = collect.collect(sweep_dir, quiet=True)
    assert len(runs) == 12 and not left_out and runs["run"].is_unique
    results = pd.read_parquet(sweep_dir / "results.parquet")
    assert len(results) == 12 * 150
    assert results.groupby(["policy", "seed"]).size().eq(150).all()


@pytest.mark.parametrize("experiment, narrow", [
    ("kingpin_vs_prevention", ["seed=0"]),
    ("budget_frontier", ["seed=0", "policy.prevention_share=0,1", "policy.budget_musd=100,300"]),
    ("kingpin_event_study", ["seed=0,1", "steps=30",
                             "interventions=[],[{kind:remove_leader,group:largest,at_step:10,mode:capture}]"]),
    ("guns", ["seed=0", "scenario.gun_inflow=10000,400000", "policy=kingpin"]),
    ("budget_mix", ["seed=0"]),
])
def test_every_experiment_composes_and_a_tiny_version_runs_and_plots(tmp_path, experiment, narrow):
    full = sweep_combinations([f"experiment={experiment}"])
    assert len(full) >= 40  # the real sweep: many runs, every one a valid config
    out = tmp_path / experiment
    sweep(out, f"experiment={experiment}", *narrow, launcher="basic")
    expected = len(sweep_combinations([f"experiment={experiment}", *TINY, *narrow]))
    assert len(run_dirs(out)) == expected
    written = plot.plot(out)
    names = {p.name for p in written}
    assert {"timeseries.png", "distributions.png"} <= names
    if experiment == "budget_frontier":
        assert "frontier.png" in names
    if experiment == "kingpin_event_study":
        assert {"event_study.png", "territory.png"} <= names
        assert (out / "event_study.csv").exists()
    for png in (p for p in written if p.suffix == ".png"):
        assert not_blank(png), png
    assert (out / "effects.csv").exists() and (out / "runs.parquet").exists()


def test_slurm_config_composes_without_a_cluster():
    proc = subprocess.run([sys.executable, "-m", "experiments.run", "experiment=kingpin_vs_prevention",
                           "hydra/launcher=slurm", "hydra.launcher.partition=compute", "--cfg", "hydra",
                           "-p", "hydra.launcher"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "SlurmLauncher" in proc.stdout and "partition: compute" in proc.stdout
    assert "array_parallelism" in proc.stdout


def test_effects_on_a_toy_case_with_a_known_answer():
    runs = pd.DataFrame({"policy": ["none"] * 5 + ["kingpin"] * 5, "seed": list(range(5)) * 2,
                         "homicides_last_year": [100, 110, 90, 105, 95] + [150, 160, 140, 155, 145],
                         "members": [10] * 10, "groups_active": [1] * 10, "effective_groups": [1.0] * 10})
    table = plot.effects(runs, "policy").set_index("outcome")
    row = table.loc["homicides_last_year"]
    assert row["effect"] == pytest.approx(50.0) and row["ci_low"] == pytest.approx(50.0)
    assert table.loc["members", "effect"] == 0


def test_sigkill_at_random_moments_then_rerun_gives_each_run_once(tmp_path):
    sweep_dir = tmp_path / "kills"
    args = [sys.executable, "-m", "experiments.run", "-m", "territory=small", "steps=120", "policy=kingpin,prevention",
            "seed=range(0,5)", "hydra/launcher=joblib", f"hydra.sweep.dir={sweep_dir}"]
    rng = __import__("random").Random(2026)
    for _ in range(3):
        proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        time.sleep(rng.uniform(2.0, 5.0))
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        finished = [d for d in run_dirs(sweep_dir) if check_run(d).finished]
        if finished:
            with warnings.catch_warnings(record=True):
                runs, _ = collect.collect(sweep_dir, quiet=True)
            assert sorted(runs["run"]) == sorted(d.name for d in finished)  # partial runs never read
    proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    dirs = run_dirs(sweep_dir)
    assert len(dirs) == 10 and all(check_run(d).finished for d in dirs)
    runs, left_out = collect.collect(sweep_dir, quiet=True)
    assert len(runs) == 10 and runs["run"].is_unique and not left_out
    assert not list(sweep_dir.rglob("*.part"))


def test_checked_jobs_are_not_composed_again_before_launch(monkeypatch):
    """The sweeper skips Hydra's second composition only for jobs experiments.guard composed and validated."""
    from hydra.plugins.sweeper import Sweeper

    from experiments import guard
    from hydra_plugins.cartelsim_launchers import CheckedSweeper

    assert guard.check_command([*TINY, "policy=kingpin,prevention", "seed=range(0,3)"], True) == 6
    # as Hydra's sweeper writes a job (key=value in its order); an unchecked seed and a repeated key are not taken
    assert guard.was_checked(["policy=prevention", "seed=2", "steps=12", "territory=small"])
    assert guard.was_checked(["territory=small", "steps=12", "policy=kingpin", "seed=0"])
    assert not guard.was_checked(["territory=small", "steps=12", "policy=kingpin", "seed=3"])
    assert not guard.was_checked(["territory=small", "steps=12", "policy=kingpin", "seed=0", "seed=0"])
    validated = []
    monkeypatch.setattr(Sweeper, "validate_batch_is_legal", lambda self, b: validated.extend(b))  # Hydra's composition
    sweeper = CheckedSweeper(max_batch_size=2, params={"seed": "0,1"})
    assert (sweeper.max_batch_size, sweeper.params, sweeper.batch_index) == (2, {"seed": "0,1"}, 0)
    checked = [["territory=small", "steps=12", "policy=kingpin", "seed=1"]]
    sweeper.validate_batch_is_legal(checked)
    assert validated == []
    sweeper.validate_batch_is_legal(checked + [["territory=small", "steps=12", "policy=none", "seed=1"]])
    assert validated == [["territory=small", "steps=12", "policy=none", "seed=1"]]


def test_sweep_progress_counts_runs_at_their_depth(tmp_path):
    """callbacks.report counts finished runs by one look per folder (depth 1) as the full walk does."""
    import json

    from experiments import callbacks

    for i in range(5):
        run = tmp_path / f"seed={i}"
        (run / ".hydra").mkdir(parents=True)
        (run / ".hydra" / "config.yaml").write_text("seed: 0\n")
        if i < 3:
            (run / "summary.json").write_text("{}")
    (tmp_path / callbacks.STATE).write_text(json.dumps({"total": 5, "finished_at_start": 0, "started": time.time()}))
    assert callbacks.report(tmp_path, 1).startswith("3/5 runs finished")
    assert callbacks.report(tmp_path).startswith("3/5 runs finished")
