"""Sweeps on a real SLURM cluster (``make cluster-test`` starts a private single-node one).

Marked ``cluster``: left out of ``make test``. Without a cluster they are skipped, except when
``scripts/cluster.sh`` runs them (``CARTELSIM_CLUSTER_REQUIRED=1``), where a missing cluster fails.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pandas as pd
import pytest

from experiments import collect, sensitivity
from experiments.store import check_run, run_dirs

pytestmark = pytest.mark.cluster
ROOT = Path(__file__).resolve().parents[1]
SLURM = ["hydra/launcher=slurm", "hydra.launcher.mem_gb=1", "hydra.launcher.timeout_min=10"]


@pytest.fixture(scope="module", autouse=True)
def cluster():
    try:
        up = "is UP" in subprocess.run(["scontrol", "ping"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        up = False
    if not up:
        message = "no SLURM cluster answers `scontrol ping`; `make cluster-test` starts one"
        if os.environ.get("CARTELSIM_CLUSTER_REQUIRED") == "1":
            pytest.fail(message)
        pytest.skip(message)


def run_cmd(sweep_dir: Path, *overrides: str) -> list[str]:
    return [sys.executable, "-m", "experiments.run", "-m", *overrides, f"hydra.sweep.dir={sweep_dir}"]


def sweep(sweep_dir: Path, *overrides: str, check: bool = True, timeout: int = 600) -> subprocess.CompletedProcess:
    proc = subprocess.run(run_cmd(sweep_dir, *overrides), cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if check:
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc


def arrays(sweep_dir: Path) -> dict[str, list[int]]:
    """Jobs submitted for a sweep, from submitit's folders under it: array id -> task ids (a sweep of one
    run is submitted as a plain job: its id -> [0])."""
    out: dict[str, list[int]] = {}
    for d in (sweep_dir / ".submitit").iterdir():
        m = re.fullmatch(r"(\d+)(?:_(\d+))?", d.name)
        if m and list(d.glob("*_log.out")):
            out.setdefault(m[1], []).append(int(m[2] or 0))
    return {k: sorted(v) for k, v in out.items()}


def log_file(sweep_dir: Path, job: str, task: int, kind: str = "out") -> Path:
    folder = sweep_dir / ".submitit" / f"{job}_{task}"
    if not folder.exists():  # a plain job
        folder = sweep_dir / ".submitit" / job
    return folder / f"{folder.name}_0_log.{kind}"


def sacct_states(array_id: str) -> list[str]:
    out = subprocess.run(["sacct", "-X", "-n", "-P", "-j", array_id, "-o", "State"], capture_output=True, text=True,
                         timeout=30).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def not_finished_looking(d: Path) -> bool:
    """An unfinished run looks unfinished: no summary.json, no final tables (a killed writer leaves at
    most a hidden .part file, which check_run ignores)."""
    return not (d / "summary.json").exists() and not (d / "timeseries.parquet").exists()


def test_named_experiment_as_a_job_array_matches_joblib_and_logs_stay_in_the_sweep(tmp_path):
    narrow = ["experiment=kingpin_vs_prevention", "seed=0,1", "territory=mexico_states", "steps=52"]  # 4 x 2 = 8
    before = set(ROOT.glob("*.out")) | set(ROOT.glob("*.err"))
    start = time.perf_counter()
    sweep(tmp_path / "slurm", *narrow, *SLURM)
    slurm_s = time.perf_counter() - start
    sweep(tmp_path / "joblib", *narrow, "hydra/launcher=joblib")
    print(f"8-run kingpin_vs_prevention (mexico_states, 52 weeks) through SLURM: {slurm_s:.1f} s")
    dirs = run_dirs(tmp_path / "slurm")
    assert len(dirs) == 8 and all(check_run(d).finished for d in dirs)
    for d in dirs:
        pd.testing.assert_frame_equal(pd.read_parquet(d / "timeseries.parquet"),
                                      pd.read_parquet(tmp_path / "joblib" / d.name / "timeseries.parquet"))
    runs = {name: collect.collect(tmp_path / name, quiet=True)[0].sort_values("run", ignore_index=True)
            for name in ("slurm", "joblib")}
    outcome_cols = [c for c in runs["joblib"].columns if c != "wall_seconds" and not c.endswith("_seconds")]
    pd.testing.assert_frame_equal(runs["slurm"][outcome_cols], runs["joblib"][outcome_cols])
    # one job array of 8 tasks; every job's stdout/stderr under the sweep folder, none in the working directory
    jobs = arrays(tmp_path / "slurm")
    assert len(jobs) == 1 and list(jobs.values())[0] == list(range(8))
    array_id = next(iter(jobs))
    assert sacct_states(array_id) == ["COMPLETED"] * 8
    for task in range(8):
        assert log_file(tmp_path / "slurm", array_id, task).exists()
        assert log_file(tmp_path / "slurm", array_id, task, "err").exists()
    assert set(ROOT.glob("*.out")) | set(ROOT.glob("*.err")) == before  # no slurm-*.out beside the code
    shown = subprocess.run(["scontrol", "show", "job", f"{array_id}_0"], capture_output=True, text=True).stdout
    assert f"StdOut={tmp_path / 'slurm' / '.submitit'}" in shown


def test_scancel_mid_run_leaves_no_finished_looking_run_and_rerun_submits_only_the_rest(tmp_path):
    sweep_dir = tmp_path / "cancelled"
    grid = ["territory=mexico_states", "steps=600", "policy=kingpin,prevention", "seed=range(0,4)", *SLURM]
    proc = subprocess.Popen(run_cmd(sweep_dir, *grid), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    deadline = time.time() + 300
    while time.time() < deadline:  # at least one run finished and others running: cancel the whole array
        finished = sum(check_run(d).finished for d in run_dirs(sweep_dir)) if sweep_dir.exists() else 0
        running = subprocess.run(["squeue", "-h", "-t", "RUNNING", "-o", "%i"], capture_output=True,
                                 text=True).stdout.split()
        if finished >= 1 and running:
            break
        time.sleep(0.2)
    array_id = running[0].split("_")[0]
    subprocess.run(["scancel", array_id], check=True)
    output, _ = proc.communicate(timeout=300)
    assert proc.returncode != 0  # Hydra reports the cancelled jobs instead of waiting forever
    assert "CANCELLED" in sacct_states(array_id)
    dirs = run_dirs(sweep_dir)
    done = [d for d in dirs if check_run(d).finished]
    assert 1 <= len(done) < 8
    assert all(not_finished_looking(d) for d in dirs if d not in done)
    with warnings.catch_warnings(record=True):
        runs, _ = collect.collect(sweep_dir, quiet=True)
    assert sorted(runs["run"]) == sorted(d.name for d in done)  # only finished runs are read
    stamps = {d: (d / "summary.json").stat().st_mtime_ns for d in done}

    proc = sweep(sweep_dir, *grid)
    assert f"{len(done)} of 8 runs finished before with the same configuration: not submitted; " \
           f"submitting {8 - len(done)}" in proc.stdout + proc.stderr
    new = {k: v for k, v in arrays(sweep_dir).items() if k != array_id}
    assert len(new) == 1 and len(next(iter(new.values()))) == 8 - len(done)
    assert stamps == {d: (d / "summary.json").stat().st_mtime_ns for d in done}  # finished runs untouched
    dirs = run_dirs(sweep_dir)
    assert len(dirs) == 8 and all(check_run(d).finished for d in dirs)
    runs, left_out = collect.collect(sweep_dir, quiet=True)
    assert len(runs) == 8 and runs["run"].is_unique and not left_out


def test_time_limit_kill_leaves_no_finished_looking_run_and_rerun_completes(tmp_path):
    """SLURM's limit is whole minutes and is enforced up to 30 s late: the job waits 45 s before its run
    (``setup``), so its simulation (a national century, over a minute) is under way when the 1-minute limit
    kills it (60-92 s); the re-run, with a longer limit, completes it."""
    sweep_dir = tmp_path / "timeout"
    grid = ["territory=national", "steps=5200", "policy=kingpin", "seed=7"]  # 100 years (the longest run allowed)
    killed = ["hydra/launcher=slurm", "hydra.launcher.mem_gb=1", "hydra.launcher.timeout_min=1",
              "hydra.launcher.max_num_timeout=0", "hydra.launcher.signal_delay_s=0",
              "hydra.launcher.setup=['sleep 45']"]
    proc = sweep(sweep_dir, *grid, *killed, check=False)
    assert proc.returncode != 0, proc.stdout[-3000:]
    (array_id, tasks), = arrays(sweep_dir).items()
    assert sacct_states(array_id) == ["TIMEOUT"]
    log = log_file(sweep_dir, array_id, 0, "err").read_text()
    assert "DUE TO TIME LIMIT" in log
    (d,) = run_dirs(sweep_dir)  # the run had started (Hydra wrote its .hydra folder) and was killed
    assert not check_run(d).finished and not_finished_looking(d)
    proc = sweep(sweep_dir, *grid, *SLURM)
    assert check_run(d).finished and len(arrays(sweep_dir)) == 2


def test_sensitivity_and_calibration_batches_run_through_slurm(tmp_path):
    out = tmp_path / "sensitivity"
    proc = subprocess.run([sys.executable, "-m", "experiments.sensitivity", "--method", "morris", "--trajectories", "2",
                           "--territory", "small", "--steps", "12", "--out", str(out), "--", *SLURM],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    table = pd.read_csv(out / "morris" / "morris_indices.csv")
    assert len(table) == len(sensitivity.PARAMETERS) * len(sensitivity.OUTCOMES) and table["mu_star"].notna().all()
    jobs = arrays(out / "morris" / "runs")
    assert sum(len(v) for v in jobs.values()) == 2 * (len(sensitivity.PARAMETERS) + 1)  # 2 trajectories x (k + 1)

    cal = tmp_path / "calibration"
    targets = tmp_path / "targets.csv"
    targets.write_text("name,year,observed,low,high,source\nhomicides,2007,8867,8424,9310,INEGI\n"
                       "groups,2007,6,4,7,Atuesta & Perez-Davila 2018\n")
    proc = subprocess.run([sys.executable, "-m", "experiments.calibrate", "--waves", "3,2", "--seeds", "2",
                           "--final-seeds", "2", "--final-sets", "1", "--steps", "52", "--targets", str(targets),
                           "--candidates", "500", "--out", str(cal), "--json", str(cal / "calibration.json"),
                           "--", *SLURM, "territory.nodes=150"],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    table = pd.read_csv(cal / "evaluations.csv")
    assert len(table) == 2 * 5 + 2 * 2 and table["objective"].gt(0).all()  # 5 points x 2 seeds; defaults + 1 set
    batches = sorted((cal / "runs").iterdir())
    assert len(batches) == 3  # wave 1, wave 2, the final re-runs
    for batch in batches:
        assert len(arrays(batch)) == 1 and all(check_run(d).finished for d in run_dirs(batch))
        states = sacct_states(next(iter(arrays(batch))))  # one row per array task, or one for the array
        assert states and set(states) == {"COMPLETED"}
