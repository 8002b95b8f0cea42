"""The submitit launchers (local here, SLURM in tests/test_cluster.py) submit only unfinished runs on a re-run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from experiments.store import check_run, run_dirs

ROOT = Path(__file__).resolve().parents[1]


def jobs(sweep_dir: Path) -> set[str]:
    return {d.name for d in (sweep_dir / ".submitit").iterdir() if d.name.isdigit() and list(d.glob("*_log.out"))}


def test_rerun_through_submitit_submits_only_the_unfinished_runs(tmp_path):
    args = [sys.executable, "-m", "experiments.run", "-m", "territory=small", "steps=12", "policy=kingpin,prevention",
            "seed=0,1", "hydra/launcher=local", "hydra.sweeper.max_batch_size=4", f"hydra.sweep.dir={tmp_path}"]
    first = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr[-3000:]
    assert len(jobs(tmp_path)) == 4
    victim = tmp_path / "policy=kingpin,seed=1,steps=12,territory=small"
    (victim / "summary.json").unlink()  # as if its job had been cancelled before the end
    again = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "3 of 4 runs finished before with the same configuration: not submitted; submitting 1" in \
        again.stdout + again.stderr
    assert len(jobs(tmp_path)) == 5  # one new job
    assert all(check_run(d).finished for d in run_dirs(tmp_path)) and len(run_dirs(tmp_path)) == 4
