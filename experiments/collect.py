"""Gather a sweep's finished runs into two tidy tables.

    python -m experiments.collect SWEEP_DIR [--csv]     # --csv: results.csv and runs.csv as well
    python -m experiments.collect RUN_DIR --csv         # one run: timeseries.csv (and nodes.csv)

- ``SWEEP_DIR/results.parquet``: one row per run and week: the weekly columns, plus ``run``,
  ``policy``, ``scenario``, ``territory``, ``seed`` and one column per overridden key.
- ``SWEEP_DIR/runs.parquet``: one row per run: the same keys, ``overrides`` (the run's full
  overrides, as typed: the folder name may be a prefix and a hash) and the end-of-run outcomes.

Runs are read one at a time and appended to the results file, so memory stays flat in the number
of runs. Incomplete or damaged run directories are named in a warning and left out; re-running the
sweep command runs them again. A folder that is neither one sweep nor one run (a folder of separate
runs, or of several sweeps) is refused with one line (``experiments.folders``).
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm.auto import tqdm

from . import io
from .folders import NotARunOrSweep, classify
from .store import NODES, TIMESERIES, check_run, run_dirs

SKIP_KEYS = ("experiment", "hydra")
BASE_KEYS = ("policy", "scenario", "territory", "seed")


def _get(config: dict, dotted: str) -> Any:
    node: Any = config
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def run_keys(summary: dict, overridden: list[str]) -> dict[str, Any]:
    """The identifying keys of a run: preset names, seed, and the values of overridden keys."""
    cfg = summary.get("config", {})
    keys: dict[str, Any] = {
        "policy": _get(cfg, "policy.name"), "scenario": _get(cfg, "scenario.name"),
        "territory": _get(cfg, "territory.name"), "seed": summary.get("seed"),
    }
    for key in overridden:
        if key in BASE_KEYS:
            continue
        value = _get(cfg, key)
        keys[key] = json.dumps(value, sort_keys=True) if isinstance(value, (list, dict)) else value
    return keys


def overridden_keys(summary: dict) -> list[str]:
    out = []
    for item in summary.get("overrides", []):
        key = item.split("=", 1)[0].lstrip("+~")
        if not key.startswith(SKIP_KEYS):
            out.append(key)
    return out


def outcomes(summary: dict) -> dict[str, Any]:
    """The scalar end-of-run outcomes of a summary."""
    return {k: v for k, v in summary.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and k != "seed"}


def collect(sweep_dir: Path, quiet: bool = False) -> tuple[pd.DataFrame, list[str]]:
    """Write results.parquet and runs.parquet; return the runs table and the names of runs left out."""
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise FileNotFoundError(f"no sweep directory {sweep_dir}")
    finished, left_out = [], []
    for d in run_dirs(sweep_dir):
        status = check_run(d)
        if status.finished:
            finished.append(status)
        elif status.state != "empty" or (d / ".hydra").exists():
            left_out.append(f"{d.relative_to(sweep_dir)} ({status.state}: {status.reason})")
    for name in left_out:
        warnings.warn(f"left out {name}; re-run the sweep command to complete it", stacklevel=2)
    keys = sorted({k for s in finished for k in overridden_keys(s.summary)} - set(BASE_KEYS))
    rows = []
    for s in finished:
        # the folder name may be a prefix + hash (store.run_dirname): the full overrides map it back
        row = {"run": str(s.path.relative_to(sweep_dir)), "overrides": " ".join(s.summary.get("overrides", []))}
        row.update(dict.fromkeys(keys))
        row.update(run_keys(s.summary, overridden_keys(s.summary)))
        row.update(outcomes(s.summary))
        rows.append(row)
    runs = pd.DataFrame(rows)
    if runs.empty:
        raise RuntimeError(f"no finished runs under {sweep_dir}")
    key_cols = ["run", *BASE_KEYS, *keys]
    _write_results(sweep_dir, finished, runs[key_cols], quiet)
    io.write_parquet(runs, sweep_dir / "runs.parquet")
    return runs, left_out


def _write_results(sweep_dir: Path, finished: list, keys: pd.DataFrame, quiet: bool) -> None:
    """Append each run's weekly rows with its key columns; one run in memory at a time."""
    target = sweep_dir / "results.parquet"
    tmp = target.with_name(".results.parquet.part")
    writer = None
    try:
        for (_, key_row), status in tqdm(zip(keys.iterrows(), finished), total=len(finished), desc="collect",
                                         unit="run", disable=quiet or None):
            ts = pd.read_parquet(status.path / TIMESERIES)
            for col in reversed(keys.columns):
                ts.insert(0, col, pd.Series([key_row[col]] * len(ts), dtype=keys[col].dtype))
            table = pa.Table.from_pandas(ts, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema)
            writer.write_table(table.cast(writer.schema))
        writer.close()
        tmp.replace(target)
    except BaseException:
        if writer is not None:
            writer.close()
        tmp.unlink(missing_ok=True)
        raise


def write_csv_copies(folder: Path, names: tuple[str, ...]) -> list[Path]:
    """A CSV beside each of ``names`` (parquet files in ``folder``) that exists; return the CSV paths."""
    written = []
    for name in names:
        source = folder / name
        if source.exists():
            target = source.with_suffix(".csv")
            io.write_csv(pd.read_parquet(source), target)
            written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m experiments.collect", description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path, metavar="SWEEP_DIR", help="a sweep folder (or one run's folder, with --csv)")
    ap.add_argument("--csv", action="store_true", help="also write each table as CSV beside its parquet file")
    args = ap.parse_args(argv)
    warnings.showwarning = lambda message, *args, **kwargs: print(f"warning: {message}", file=sys.stderr)
    try:
        folder = classify(args.folder)
    except NotARunOrSweep as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if folder.kind == "run":
        if not args.csv:
            print(f"{args.folder} is one run: its tables are already written (timeseries.parquet, summary.json); "
                  "add --csv for CSV copies")
            return 0
        if check_run(args.folder).state != "finished":
            print(f"error: {args.folder} is not a finished run ({check_run(args.folder).reason})", file=sys.stderr)
            return 2
        written = write_csv_copies(args.folder, (TIMESERIES, NODES))
        print("written: " + ", ".join(str(p) for p in written))
        return 0
    try:
        runs, left_out = collect(args.folder)
    except (FileNotFoundError, RuntimeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"collected {len(runs)} finished runs into {args.folder / 'results.parquet'} and "
          f"{args.folder / 'runs.parquet'}")
    if args.csv:
        written = write_csv_copies(args.folder, ("results.parquet", "runs.parquet"))
        print("written: " + ", ".join(str(p) for p in written))
    if left_out:
        print(f"{len(left_out)} run(s) left out (incomplete or damaged); re-run the sweep command to complete them")
    return 0


if __name__ == "__main__":
    sys.exit(main())
