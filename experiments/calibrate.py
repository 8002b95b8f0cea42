"""Calibration: search a few free parameters for the best fit to published Mexican targets.

    python -m experiments.calibrate [--evaluations 24] [--seeds 2] [--jobs 2] [--out results/calibration]
                                    [-- HYDRA OVERRIDES ...]

Each batch of evaluations runs on this machine's cores (``--jobs``), or, with Hydra overrides after
``--`` (``-- hydra/launcher=slurm hydra.launcher.partition=PART``), as a resumable sweep of
``experiments.run`` through that launcher into ``OUT/runs/batch-<hash>`` (the batch's points as a
sample file, as the sensitivity analysis does): on a cluster, re-running after a lost job runs only
what is missing. Overrides that are not ``hydra`` settings change the runs (e.g. ``territory.nodes=300``).

The model runs the hindcast set-up (``national``, kingpin from 2007, 520 weeks = 2007-2016) on shared
seeds. The distance to the targets is the mean of squared log-ratios model/observed over:

- yearly homicides 2007-2016 (INEGI; ten terms, weighted 1/10 each, so together they weigh 1);
- members at the end of 2012, about 115,000 (Prieto-Curiel et al. 2023);
- groups in 2011, about 80 (Atuesta & Pérez-Dávila 2018).

Search: a Latin hypercube over the ranges of ``FREE`` (two thirds of the evaluations), then random
steps around the best point, shrinking (the rest). Prints the distance of the current defaults and
of the best points, and writes every evaluation to ``OUT/evaluations.csv`` and the best to
``OUT/best.json``. The defaults in ``sim/params.py`` are changed by hand from that result, each with
its line of provenance; the parameters not listed here keep their literature values.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from SALib.sample import latin

from sim import params

from . import io, simulate
from .store import TIMESERIES, check_run, run_dirs
from .validate import INEGI_HOMICIDES, yearly

ROOT = Path(__file__).resolve().parents[1]

FREE = {  # parameter -> (low, high) searched
    "cartels.recruitment_rate": (0.0018, 0.0036),
    "cartels.saturation": (0.0010, 0.0030),
    "cartels.predation_rate": (0.015, 0.045),
    "cartels.lethality": (0.005, 0.012),
    "cartels.defection_rate": (0.3, 0.8),
}
TARGETS = {"members_2012": 115_000.0, "groups_2011": 80.0}
BASE = ["territory=national", "policy=kingpin", "scenario=mexico_2007", "steps=520"]


def default_point() -> dict[str, float]:
    p = params.Params()
    return {key: getattr(getattr(p, key.split(".")[0]), key.split(".")[1]) for key in FREE}


def outcomes(point: dict[str, float], seed: int) -> dict[str, float]:
    return outcomes_of(simulate([*BASE, f"seed={seed}", *(f"{k}={v:.6g}" for k, v in point.items())]))


def outcomes_of(ts: pd.DataFrame) -> dict[str, float]:
    return {**{f"homicides_{2007 + y}": float(h) for y, h in yearly(ts, "homicides").items()},
            "members_2012": float(yearly(ts, "members", "last")[5]),
            "groups_2011": float(yearly(ts, "groups_active", "last")[4])}


def distance(mean: dict[str, float]) -> float:
    terms = [np.log(max(mean[f"homicides_{y}"], 1) / INEGI_HOMICIDES[y]) ** 2 / 10 for y in range(2007, 2017)]
    terms += [np.log(max(mean[k], 1) / v) ** 2 for k, v in TARGETS.items()]
    return float(sum(terms) / (1 + len(TARGETS)))


def evaluate(points: list[dict[str, float]], seeds: int, jobs: int, sweep: tuple[Path, list[str]] | None = None
             ) -> list[dict]:
    """Mean outcomes and distance of each point over ``seeds`` seeds; ``sweep=(out, overrides)`` runs the
    batch through ``experiments.run -m`` with those Hydra overrides (a launcher) instead of joblib."""
    work = [(i, s) for i in range(len(points)) for s in range(seeds)]
    if sweep is None:
        out = Parallel(n_jobs=jobs)(delayed(outcomes)(points[i], s) for i, s in work)
    else:
        found = run_batch(points, seeds, *sweep)
        out = [found[(i, s)] for i, s in work]
    rows = []
    for i, point in enumerate(points):
        runs = [o for (k, _), o in zip(work, out) if k == i]
        mean = {k: float(np.mean([r[k] for r in runs])) for k in runs[0]}
        rows.append({**point, **mean, "distance": distance(mean)})
    return rows


def run_batch(points: list[dict[str, float]], seeds: int, out: Path, overrides: list[str]
              ) -> dict[tuple[int, int], dict[str, float]]:
    """Run every (point, seed) as one sweep through ``overrides``' launcher; outcomes by (point, seed).

    The batch folder is named by a hash of its points, seeds and overrides, so a re-run finds the runs
    that finished before and the launcher submits only the rest."""
    table = pd.DataFrame(points, columns=list(FREE))
    table.insert(0, "row", np.arange(len(table)))
    key = json.dumps([table.to_csv(index=False), seeds, overrides, BASE])
    batch = (out / "runs" / f"batch-{hashlib.sha1(key.encode()).hexdigest()[:10]}").resolve()
    samples = batch / "points.csv"
    if not samples.exists():
        io.write_csv(table, samples)
    args = [sys.executable, "-m", "experiments.run", "-m", *BASE, f"+sample.file={samples}",
            f"+sample.row=range(0,{len(points)})", f"seed=range(0,{seeds})", f"hydra.sweep.dir={batch}", *overrides]
    proc = subprocess.run(args, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"the batch sweep into {batch} failed (exit {proc.returncode}); re-run to resume it")
    found = {}
    for d in run_dirs(batch):
        status = check_run(d)
        if status.finished:
            sample = status.summary["config"]["sample"]
            found[(int(sample["row"]), int(status.summary["seed"]))] = outcomes_of(pd.read_parquet(d / TIMESERIES))
    missing = [(i, s) for i in range(len(points)) for s in range(seeds) if (i, s) not in found]
    if missing:
        raise RuntimeError(f"{len(missing)} runs of {batch} did not finish; re-run to resume it")
    return found


def search(evaluations: int, seeds: int, jobs: int, seed: int = 0, sweep: tuple[Path, list[str]] | None = None
           ) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    names, bounds = list(FREE), np.array(list(FREE.values()))
    evaluate_ = evaluate
    if sweep is not None:
        def evaluate_(points, seeds, jobs):
            return evaluate(points, seeds, jobs, sweep)
    rows = evaluate_([default_point()], seeds, jobs)
    rows[0]["stage"] = "defaults"
    n_global = max(1, (2 * evaluations) // 3)
    x = latin.sample({"num_vars": len(names), "names": names, "bounds": bounds.tolist()}, n_global, seed=seed)
    for r in evaluate_([dict(zip(names, v)) for v in x], seeds, jobs):
        rows.append({**r, "stage": "hypercube"})
    width = 0.25
    for _ in range(evaluations - n_global):
        best = min(rows, key=lambda r: r["distance"])
        centre = np.array([best[k] for k in names])
        step = rng.normal(0, width, len(names)) * (bounds[:, 1] - bounds[:, 0])
        candidate = np.clip(centre + step, bounds[:, 0], bounds[:, 1])
        rows.append({**evaluate_([dict(zip(names, candidate))], seeds, jobs)[0], "stage": "local"})
        width *= 0.85
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--evaluations", type=int, default=24)
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--out", type=Path, default=Path("results/calibration"))
    argv = sys.argv[1:] if argv is None else list(argv)
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    args = ap.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    if args.evaluations < 2 or args.seeds < 1:
        print("error: invalid value for '--evaluations'/'--seeds' (allowed: >= 2 and >= 1)", file=sys.stderr)
        return 2
    try:
        table = search(args.evaluations, args.seeds, args.jobs, sweep=(args.out, extra) if extra else None)
    except RuntimeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    io.write_csv(table, args.out / "evaluations.csv")
    best = table.loc[table["distance"].idxmin()]
    io.write_json({"best": {k: float(best[k]) for k in FREE}, "distance": float(best["distance"]),
                   "defaults_distance": float(table.loc[0, "distance"]), "targets": TARGETS,
                   "homicides": INEGI_HOMICIDES, "seeds": args.seeds, "evaluations": args.evaluations},
                  args.out / "best.json")
    show = ["stage", *FREE, "members_2012", "groups_2011", "distance"]
    print(table.sort_values("distance")[show].head(5).to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print(f"\ndistance of the current defaults: {table.loc[0, 'distance']:.4f}; best: {best['distance']:.4f}")
    print("best point (to carry into sim/params.py by hand, with its line of provenance):")
    for k in FREE:
        print(f"  {k} = {best[k]:.4g}")
    print(f"written: {args.out / 'evaluations.csv'}, {args.out / 'best.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
