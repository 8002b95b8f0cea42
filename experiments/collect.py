"""Gather a sweep's finished runs into two tidy tables, incrementally.

    python -m experiments.collect SWEEP_DIR [--csv]     # --csv: results.csv and runs.csv as well
    python -m experiments.collect RUN_DIR --csv         # one run: timeseries.csv (and nodes.csv)

- ``SWEEP_DIR/results.parquet``: one row per run and week: the weekly columns, plus ``run``,
  ``policy``, ``scenario``, ``territory``, ``seed`` and one column per overridden key.
- ``SWEEP_DIR/runs.parquet``: one row per run: the same keys, ``overrides`` (the run's full
  overrides, as typed: the folder name may be a prefix and a hash) and the end-of-run outcomes.

Each is a parquet *dataset*: a folder of part files (``part-00000.parquet``, ...), one or more per
collect, all with the same schema. ``pandas.read_parquet``, ``pyarrow.dataset.dataset``, DuckDB
(``read_parquet('SWEEP_DIR/results.parquet/*.parquet')``) and polars (``scan_parquet`` of the same
glob) read it as one table, and can read only the columns and rows they need.

Collecting is incremental: ``SWEEP_DIR/.collect.json`` records every run already read (with the size
and time of its files), so a second collect reads only new runs, and a run whose files changed
(re-run, damaged, removed) has its old rows dropped. Runs are read one at a time and written in
row groups, so memory stays bounded whatever the number of runs. Incomplete or damaged run
directories are named in a warning and left out; re-running the sweep command runs them again.

A folder that is neither one sweep nor one run (a folder of separate runs, or of several sweeps)
is refused with one line (``experiments.folders``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from tqdm.auto import tqdm

from . import io
from .folders import NotARunOrSweep, classify
from .store import NODES, SUMMARY, TIMESERIES, check_run, run_dirs

SKIP_KEYS = ("experiment", "hydra")
BASE_KEYS = ("policy", "scenario", "territory", "seed")
RESULTS, RUNS, MANIFEST = "results.parquet", "runs.parquet", ".collect.json"
RUNS_PER_GROUP = 100     # runs per parquet row group (about 52,000 weekly rows for 10-year runs)
RUNS_PER_PART = 2000     # runs per part file of the results dataset


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


def fingerprint(run_dir: Path) -> list[int] | None:
    """Size and modification time of a run's result files: changes whenever a file is rewritten."""
    out, base = [], os.fspath(run_dir)
    for name in (SUMMARY, TIMESERIES, NODES):
        try:
            st = os.stat(os.path.join(base, name))  # plain strings: ~40,000 calls for 20,000 runs
        except FileNotFoundError:
            if name == NODES:
                continue
            return None
        out += [st.st_size, st.st_mtime_ns]
    return out


# --------------------------------------------------------------------------------------------------
class _Dataset:
    """A folder of parquet part files with one schema; the manifest says which runs are in which part."""

    def __init__(self, folder: Path):
        self.folder = folder

    def parts(self) -> list[Path]:
        return sorted(self.folder.glob("part-*.parquet")) if self.folder.is_dir() else []

    def next_name(self) -> Path:
        numbers = [int(p.stem.split("-")[1]) for p in self.parts()]
        return self.folder / f"part-{max(numbers, default=-1) + 1:05d}.parquet"

    def schema(self) -> pa.Schema | None:
        schemas = [pq.read_schema(p) for p in self.parts()]
        return pa.unify_schemas(schemas, promote_options="permissive") if schemas else None

    def rewrite(self, drop: set[str], schema: pa.Schema | None) -> None:
        """Drop the rows of the runs ``drop`` and bring every part to ``schema``, one row group at a time."""
        for part in self.parts():
            f = pq.ParquetFile(part)
            runs_in = set(f.read(columns=["run"]).column("run").to_pylist())
            if not (runs_in & drop) and (schema is None or f.schema_arrow.equals(schema)):
                continue
            target = schema or f.schema_arrow
            tmp = part.with_name(f".{part.name}.part")
            with pq.ParquetWriter(tmp, target) as writer:
                for i in range(f.num_row_groups):
                    table = f.read_row_group(i)
                    if drop:
                        table = table.filter(pc.invert(pc.is_in(table.column("run"), pa.array(sorted(drop)))))
                    writer.write_table(_conform(table, target))
            tmp.replace(part)


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with ``schema``'s columns in its order (missing ones as nulls) and types."""
    cols = [table.column(f.name).cast(f.type) if f.name in table.column_names else pa.nulls(len(table), f.type)
            for f in schema]
    return pa.Table.from_arrays(cols, schema=schema)


def _key_arrays(rows: list[dict], keys: list[str], types: dict[str, pa.DataType], lengths: list[int]) -> dict:
    """Each key's values repeated for every weekly row of each run."""
    index = pa.array([i for i, n in enumerate(lengths) for _ in range(n)], pa.int64())
    return {k: pa.array([r.get(k) for r in rows], types[k]).take(index) for k in keys}


def _load_manifest(sweep_dir: Path) -> dict:
    try:
        manifest = json.loads((sweep_dir / MANIFEST).read_text(encoding="utf-8"))
        if manifest.get("version") == 1:
            return manifest
    except (OSError, ValueError):
        pass
    return {"version": 1, "runs": {}}


def _part_names(sweep_dir: Path) -> dict[str, list[str]]:
    return {name: [p.name for p in _Dataset(sweep_dir / name).parts()] for name in (RESULTS, RUNS)}


def _reset(sweep_dir: Path) -> None:
    """Remove tables written by an older collect (single files) or parts the manifest does not know."""
    for name in (RESULTS, RUNS):
        path = sweep_dir / name
        if path.is_file():
            path.unlink()
        elif path.is_dir():
            for part in path.glob("*.parquet"):
                part.unlink()
            for part in path.glob(".*.part"):
                part.unlink()


def collect(sweep_dir: Path, quiet: bool = False) -> tuple[pd.DataFrame, list[str]]:
    """Bring results.parquet and runs.parquet up to date; return the runs table and the runs left out."""
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise FileNotFoundError(f"no sweep directory {sweep_dir}")
    manifest = _load_manifest(sweep_dir)
    known: dict[str, list[int]] = manifest["runs"]
    parts_ok = all((sweep_dir / n).is_dir() for n in (RESULTS, RUNS)) and known
    if not parts_ok or manifest.get("parts") != _part_names(sweep_dir):
        _reset(sweep_dir)
        known = {}
    # which runs are new, changed or gone (stat calls only for runs read before)
    left_out, new, seen = [], [], set()
    prefix = len(os.fspath(sweep_dir).rstrip(os.sep)) + 1
    for d in run_dirs(sweep_dir):
        name = os.fspath(d)[prefix:]
        seen.add(name)
        fp = fingerprint(d)
        if fp is not None and known.get(name) == fp:
            continue
        status = check_run(d)
        if status.finished:
            new.append((name, status, fingerprint(d)))
        elif status.state != "empty" or (d / ".hydra").exists():
            left_out.append(f"{name} ({status.state}: {status.reason})")
    drop = {name for name in known if name not in seen or name in {n for n, _, _ in new}}
    drop |= {name for name in known if any(entry.startswith(f"{name} (") for entry in left_out)}
    for name in left_out:
        warnings.warn(f"left out {name}; re-run the sweep command to complete it", stacklevel=2)
    if not known and not new:
        raise RuntimeError(f"no finished runs under {sweep_dir}")
    results, runs = _Dataset(sweep_dir / RESULTS), _Dataset(sweep_dir / RUNS)
    if drop:
        results.rewrite(drop, None)
        runs.rewrite(drop, None)
        for name in drop:
            known.pop(name, None)
    if new:
        _append(sweep_dir, new, results, runs, quiet)
        known.update({name: fp for name, _, fp in new})
    for ds in (results, runs):  # one schema for every part (a later collect may have added a key)
        schema = ds.schema()
        if schema is not None and any(not pq.read_schema(p).equals(schema) for p in ds.parts()):
            ds.rewrite(set(), schema)
    manifest = {"version": 1, "parts": _part_names(sweep_dir), "runs": known}
    io.write_text(json.dumps(manifest, separators=(",", ":")), sweep_dir / MANIFEST)
    for name in (RESULTS, RUNS):
        os.utime(sweep_dir / name)  # the folders' times say when they were last brought up to date
    table = pd.read_parquet(sweep_dir / RUNS).sort_values("run", ignore_index=True)
    if table.empty:
        raise RuntimeError(f"no finished runs under {sweep_dir}")
    return table, left_out


def _append(sweep_dir: Path, new: list, results: _Dataset, runs: _Dataset, quiet: bool) -> None:
    """Write the new runs: their run rows as one part of runs.parquet, their weekly rows as parts of
    results.parquet (a row group per RUNS_PER_GROUP runs, one run's table in memory at a time)."""
    keys = sorted({k for _, s, _ in new for k in overridden_keys(s.summary)} - set(BASE_KEYS))
    rows = []
    for name, s, _ in new:
        # the folder name may be a prefix + hash (store.run_dirname): the full overrides map it back
        row = {"run": name, "overrides": " ".join(s.summary.get("overrides", [])), **dict.fromkeys(keys)}
        row.update(run_keys(s.summary, overridden_keys(s.summary)))
        row.update(outcomes(s.summary))
        rows.append(row)
    run_table = pa.Table.from_pylist(rows)
    key_cols = ["run", *BASE_KEYS, *keys]
    types = {k: run_table.schema.field(k).type for k in key_cols}
    for name in (RESULTS, RUNS):
        (sweep_dir / name).mkdir(exist_ok=True)
    writer, target, written, group, group_rows = None, None, 0, [], []
    progress = tqdm(total=len(new), desc="collect", unit="run", disable=quiet or None)

    def close():
        nonlocal writer, written
        if writer is not None:
            writer.close()
            target.with_name(f".{target.name}.part").replace(target)  # a part appears whole or not at all
        writer, written = None, 0

    def flush():
        nonlocal writer, target, written, group, group_rows
        if not group:
            return
        weekly = pa.concat_tables(group, promote_options="permissive")
        table = pa.table({**_key_arrays(group_rows, key_cols, types, [len(t) for t in group]),
                          **{c: weekly.column(c) for c in weekly.column_names}})
        if writer is not None and written >= RUNS_PER_PART:
            close()
        if writer is not None and not table.schema.equals(writer.schema):
            try:
                if not set(table.column_names) <= set(writer.schema.names):
                    raise KeyError("new columns")
                table = _conform(table, writer.schema)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, KeyError):
                close()  # another schema: a part of its own (collect then unifies the parts)
        if writer is None:
            target = results.next_name()
            writer = pq.ParquetWriter(target.with_name(f".{target.name}.part"), table.schema)
        writer.write_table(table)
        written += len(group)
        group, group_rows = [], []

    try:
        for row, (_, s, _) in zip(rows, new):
            group.append(pq.read_table(s.path / TIMESERIES))
            group_rows.append(row)
            progress.update()
            if len(group) >= RUNS_PER_GROUP:
                flush()
        flush()
    finally:
        progress.close()
        close()
    target = runs.next_name()
    pq.write_table(run_table, target.with_name(f".{target.name}.part"))
    target.with_name(f".{target.name}.part").replace(target)


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
        status = check_run(args.folder)
        if not status.finished:  # an interrupted or damaged run: nothing to collect, as --csv and plot say
            print(f"error: {args.folder} is not a finished run ({status.state}: {status.reason}); run it again "
                  "with the same command to finish it", file=sys.stderr)
            return 2
        if not args.csv:
            print(f"{args.folder} is one run: its tables are already written (timeseries.parquet, summary.json); "
                  "add --csv for CSV copies")
            return 0
        written = write_csv_copies(args.folder, (TIMESERIES, NODES))
        print("written: " + ", ".join(str(p) for p in written))
        return 0
    try:
        runs, left_out = collect(args.folder)
    except (FileNotFoundError, RuntimeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"collected {len(runs)} finished runs into {args.folder / RESULTS} and {args.folder / RUNS} "
          "(parquet datasets)")
    if args.csv:
        written = write_csv_copies(args.folder, (RESULTS, RUNS))
        print("written: " + ", ".join(str(p) for p in written))
    if left_out:
        print(f"{len(left_out)} run(s) left out (incomplete or damaged); re-run the sweep command to complete them")
    return 0


if __name__ == "__main__":
    sys.exit(main())
