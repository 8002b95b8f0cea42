"""Benchmark of the results store: collect 20,000 finished runs, then again after 100 new ones.

    python -m experiments.bench_store [--runs 20000] [--new 100] [--weeks 520] [--dir DIR]
                                      [--out results/bench_store.json]

Writes ``--runs`` synthetic finished run folders (the files a real run writes: ``.hydra/config.yaml``,
``summary.json`` and a 520-week ``timeseries.parquet`` copied from a few real small-territory runs,
each run with its own policy and seed), then times, each in a fresh process, a first
``python -m experiments.collect`` and a second one after ``--new`` more runs were added, and
reports wall time and peak memory (maximum resident set size of that process). Finally it reads
the datasets with pyarrow.dataset, DuckDB and polars where installed (a mean by policy, one
column). Targets (issue 17): first collect under 3 minutes and 1 GB, second under 15 seconds.
This is a benchmark, not a test: the numbers depend on the disk and on what else runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import io

ROOT = Path(__file__).resolve().parents[1]
POLICIES = ("none", "kingpin", "merida", "prevention")
TEMPLATES = 4


def templates(weeks: int) -> list[tuple[bytes, dict]]:
    """(timeseries.parquet bytes, summary) of a few real runs on the small territory."""
    import io as _io

    from sim import CartelModel

    out = []
    for k in range(TEMPLATES):
        m = CartelModel(rng=k, territory="small", steps=weeks, policy=POLICIES[k % len(POLICIES)])
        ts = m.run()
        buf = _io.BytesIO()
        ts.to_parquet(buf, index=False)
        out.append((buf.getvalue(), m.summary()))
    return out


def make_runs(sweep_dir: Path, start: int, n: int, tpl: list[tuple[bytes, dict]]) -> None:
    """Finished run folders ``start .. start+n-1``: policy cycles, seed = index."""
    for i in range(start, start + n):
        policy = POLICIES[i % len(POLICIES)]
        data, summary = tpl[i % len(tpl)]
        d = sweep_dir / f"policy={policy},seed={i}"
        (d / ".hydra").mkdir(parents=True, exist_ok=True)
        (d / ".hydra" / "config.yaml").write_text(f"seed: {i}\n")
        (d / "timeseries.parquet").write_bytes(data)
        config = {"policy": {"name": policy}, "scenario": {"name": "baseline"}, "territory": {"name": "small"},
                  "seed": i}
        (d / "summary.json").write_text(json.dumps({**summary, "seed": i, "overrides": [f"policy={policy}",
                                                    f"seed={i}"], "config": config}))


def timed_collect(sweep_dir: Path) -> dict:
    """Wall time and peak RSS of ``python -m experiments.collect`` in a fresh process."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "experiments.collect", str(sweep_dir)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env={**os.environ, "TQDM_DISABLE": "1"})
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    out = proc.stdout.read().decode().strip()
    proc.stdout.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"collect failed: {out}")
    return {"seconds": round(wall, 2), "peak_mb": round(usage.ru_maxrss / 1024, 1), "output": out}


def read_back(sweep_dir: Path) -> dict:
    """Seconds to compute mean weekly homicides by policy from results.parquet with each reader."""
    glob = str(sweep_dir / "results.parquet" / "*.parquet")
    out = {}
    import pyarrow.dataset as ds

    start = time.perf_counter()
    table = ds.dataset(sweep_dir / "results.parquet", format="parquet").to_table(columns=["policy", "homicides"])
    table.group_by("policy").aggregate([("homicides", "mean")])
    out["pyarrow.dataset"] = round(time.perf_counter() - start, 2)
    try:
        import duckdb

        start = time.perf_counter()
        duckdb.sql(f"SELECT policy, avg(homicides) FROM read_parquet('{glob}') GROUP BY policy").fetchall()
        out["duckdb"] = round(time.perf_counter() - start, 2)
    except ImportError:
        out["duckdb"] = None
    try:
        import polars as pl

        start = time.perf_counter()
        pl.scan_parquet(glob).group_by("policy").agg(pl.col("homicides").mean()).collect()
        out["polars"] = round(time.perf_counter() - start, 2)
    except ImportError:
        out["polars"] = None
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20_000)
    ap.add_argument("--new", type=int, default=100)
    ap.add_argument("--weeks", type=int, default=520)
    ap.add_argument("--dir", type=Path, default=None, help="where to write the synthetic sweep (default: temp folder)")
    ap.add_argument("--out", type=Path, default=Path("results/bench_store.json"))
    args = ap.parse_args(argv)
    if args.runs < 1 or args.new < 0 or args.weeks < 1:
        print("error: invalid value for '--runs'/'--new'/'--weeks' (allowed: >= 1, >= 0, >= 1)", file=sys.stderr)
        return 2
    tmp = None if args.dir else tempfile.mkdtemp(prefix="cartelsim-store-")
    sweep_dir = args.dir or Path(tmp) / "sweep"
    try:
        tpl = templates(args.weeks)
        start = time.perf_counter()
        make_runs(sweep_dir, 0, args.runs, tpl)
        made = time.perf_counter() - start
        print(f"{args.runs} synthetic finished runs of {args.weeks} weeks written in {made:.1f} s", flush=True)
        first = timed_collect(sweep_dir)
        print(f"first collect:  {first['seconds']:.1f} s, peak memory {first['peak_mb']:.0f} MB", flush=True)
        make_runs(sweep_dir, args.runs, args.new, tpl)
        second = timed_collect(sweep_dir)
        print(f"second collect after {args.new} new runs: {second['seconds']:.1f} s, "
              f"peak memory {second['peak_mb']:.0f} MB", flush=True)
        size = sum(p.stat().st_size for name in ("results.parquet", "runs.parquet")
                   for p in (sweep_dir / name).glob("*.parquet"))
        reads = read_back(sweep_dir)
        print(f"datasets on disk: {size / 1e6:.0f} MB; mean homicides by policy over "
              f"{(args.runs + args.new) * args.weeks:,} weekly rows: " +
              ", ".join(f"{k} {v:.2f} s" for k, v in reads.items() if v is not None))
        result = {"runs": args.runs, "new": args.new, "weeks": args.weeks, "cpus": os.cpu_count(),
                  "write_runs_s": round(made, 1), "first_collect": first, "second_collect": second,
                  "dataset_mb": round(size / 1e6, 1), "read_s": reads,
                  "targets_met": first["seconds"] < 180 and first["peak_mb"] < 1024 and second["seconds"] < 15}
        io.write_json(result, args.out)
        print(f"targets (first < 180 s and < 1 GB, second < 15 s) met: {result['targets_met']}; written: {args.out}")
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
