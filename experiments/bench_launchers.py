"""Benchmark of Hydra launchers: per-run overhead and the throughput of a 16-run sweep.

    python -m experiments.bench_launchers [--runs 16] [--out results/bench_launchers.json]

For each launcher (basic, joblib, submitit local) it times, as separate processes:
- ``overhead``: a sweep of ``--runs`` runs that simulate a single week on the small territory
  (wall time per run is what the launcher and Hydra cost);
- ``throughput``: a sweep of ``--runs`` default national runs (520 weeks, kingpin; about 10 s of
  simulation each, so that the launcher, not start-up, is measured).
It prints a table and the joblib/basic throughput ratio.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import io

ROOT = Path(__file__).resolve().parents[1]
LAUNCHERS = {"basic": ["hydra/launcher=basic"], "joblib": ["hydra/launcher=joblib"],
             "submitit_local": ["hydra/launcher=local", "hydra.sweeper.max_batch_size=2"]}


def time_sweep(launcher: list[str], runs: int, work: list[str]) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        args = [sys.executable, "-m", "experiments.run", "-m", *work, f"seed=range(0,{runs})", *launcher,
                f"hydra.sweep.dir={tmp}/sweep"]
        start = time.perf_counter()
        done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True)
        wall = time.perf_counter() - start
        if done.returncode != 0:
            tail = "\n".join(done.stderr.strip().splitlines()[-5:])
            raise RuntimeError(f"sweep failed (exit {done.returncode}): {' '.join(args[1:])}\n{tail}")
        return wall


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=16)
    ap.add_argument("--out", type=Path, default=Path("results/bench_launchers.json"))
    args = ap.parse_args(argv)
    result = {"runs": args.runs, "launchers": {}}
    print(f"{'launcher':<16}{'overhead s/run':>16}{'throughput runs/min':>22}")
    for name, launcher in LAUNCHERS.items():
        overhead = time_sweep(launcher, args.runs, ["territory=small", "steps=1"]) / args.runs
        wall = time_sweep(launcher, args.runs, ["territory=national", "steps=520", "policy=kingpin"])
        result["launchers"][name] = {"overhead_s_per_run": overhead, "sweep_s": wall,
                                     "runs_per_min": 60 * args.runs / wall}
        print(f"{name:<16}{overhead:>16.2f}{60 * args.runs / wall:>22.1f}")
    ratio = result["launchers"]["joblib"]["runs_per_min"] / result["launchers"]["basic"]["runs_per_min"]
    result["joblib_over_basic"] = ratio
    print(f"joblib / basic throughput on {args.runs} runs: {ratio:.2f}x")
    io.write_json(result, args.out)
    print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
