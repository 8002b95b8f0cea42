"""The results store: which run directories of a sweep are finished, incomplete or damaged.

A run directory is *finished* when ``summary.json`` (written last) parses, ``timeseries.parquet``
holds one row per simulated week, and ``nodes.parquet`` does too when the run asked for it. Files
are written atomically (``experiments.io``), so a killed run leaves at most a ``*.part`` file, which
does not count. A run with files but no valid summary is *incomplete*; one whose summary exists but
whose tables do not read back is *damaged*. Both are run again by re-running the sweep.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

SUMMARY, TIMESERIES, NODES = "summary.json", "timeseries.parquet", "nodes.parquet"


@dataclass
class RunStatus:
    path: Path
    state: str  # finished | incomplete | damaged | empty
    reason: str = ""
    summary: dict | None = None

    @property
    def finished(self) -> bool:
        return self.state == "finished"


def _rows(path: Path) -> int:
    return pq.ParquetFile(path).metadata.num_rows


def check_run(run_dir: Path) -> RunStatus:
    """The state of one run directory (reads only the summary and parquet footers)."""
    run_dir = Path(run_dir)
    summary_path = run_dir / SUMMARY
    if not summary_path.exists():
        has_files = (run_dir / TIMESERIES).exists() or (run_dir / NODES).exists()
        return RunStatus(run_dir, "incomplete" if has_files else "empty", "no summary.json")
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        weeks = int(summary["weeks"])
    except (ValueError, KeyError, TypeError, OSError) as err:
        return RunStatus(run_dir, "damaged", f"summary.json unreadable ({err.__class__.__name__})")
    try:
        rows = _rows(run_dir / TIMESERIES)
    except Exception as err:  # noqa: BLE001 - any failure to read back means damaged
        return RunStatus(run_dir, "damaged", f"timeseries.parquet unreadable ({err.__class__.__name__})")
    if rows != weeks:
        return RunStatus(run_dir, "damaged", f"timeseries.parquet has {rows} rows, expected {weeks}")
    if summary.get("config", {}).get("output", {}).get("nodes"):
        try:
            _rows(run_dir / NODES)
        except Exception as err:  # noqa: BLE001
            return RunStatus(run_dir, "damaged", f"nodes.parquet unreadable ({err.__class__.__name__})")
    return RunStatus(run_dir, "finished", summary=summary)


def run_dirs(sweep_dir: Path) -> list[Path]:
    """Every job directory of a sweep (each holds Hydra's ``.hydra/`` folder), in a stable order."""
    return sorted({p.parent.parent for p in Path(sweep_dir).rglob(".hydra/config.yaml")})


def clean_partials(run_dir: Path) -> None:
    """Remove ``*.part`` files left by a killed writer."""
    for part in Path(run_dir).glob(".*.part"):
        part.unlink(missing_ok=True)
