"""The results store: which run directories of a sweep are finished, incomplete or damaged.

A run directory is *finished* when ``summary.json`` (written last) parses with numbers where
numbers belong, every result file still has the size and SHA-256 recorded in it (:func:`verify_run`),
``timeseries.parquet`` holds one row per simulated week, and ``nodes.parquet`` does too when the run
asked for it. Files
are written atomically (``experiments.io``), so a killed run leaves at most a ``*.part`` file, which
does not count. A run with files but no valid summary is *incomplete*; one whose summary exists but
whose tables do not read back is *damaged*. Both are run again by re-running the sweep.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

SUMMARY, TIMESERIES, NODES = "summary.json", "timeseries.parquet", "nodes.parquet"
NAME_MAX = 80  # longest run-folder name kept as typed; longer or unsafe names become prefix + hash
_UNSAFE = re.compile(r"[^A-Za-z0-9._=,+-]")


def run_dirname(override_dirname: str) -> str:
    """A short, safe folder name for one job of a sweep, from Hydra's ``override_dirname``.

    A name that is already safe (letters, digits and ``. _ = , + -``, not starting with a dot) and at
    most :data:`NAME_MAX` characters is kept as it is. Any other gets a readable prefix (unsafe
    characters replaced by ``_``, cut to 60 characters) and ``-h`` plus 12 hex digits of the SHA-256
    of the full name, so it is one path component that never leaves the sweep folder and never
    reaches the file system's 255-byte limit. The full overrides are in the run's ``summary.json``
    and ``.hydra/overrides.yaml``; ``experiments.collect`` reads them from there.
    """
    name = str(override_dirname)
    if len(name) <= NAME_MAX and not _UNSAFE.search(name) and not name.startswith("."):
        return name
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:12]
    prefix = _UNSAFE.sub("_", name)[:60].lstrip(".") or "run"
    return f"{prefix}-h{digest}"


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


# outcomes that must be numbers in a finished run's summary (a text or null there means damage)
NUMERIC_KEYS = ("seed", "weeks", "homicides_last_year", "homicides_total", "homicide_rate_last_year", "members",
                "groups_active", "effective_groups", "largest_group_share", "splinters_total",
                "leaders_removed_total", "operators_arrested_total", "recruits_last_year", "impunity",
                "contested_plazas")
FILES_KEY = "files"  # summary.json: {file name: {"sha256": hex, "bytes": n}} of the run's result files


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def checksums(run_dir: Path, names: list[str]) -> dict[str, dict]:
    """The record of the result files ``names`` in ``run_dir`` (for summary.json, written last)."""
    return {n: {"sha256": sha256(Path(run_dir) / n), "bytes": (Path(run_dir) / n).stat().st_size} for n in names}


def verify_run(run_dir: Path, summary: dict) -> str:
    """Why a run whose summary.json parsed is not a sound finished run ('' when it is).

    Checks the types of the outcomes (numbers where numbers belong) and, when the summary records
    them, each result file's size and SHA-256: a byte changed anywhere in a table is caught, not only
    in its footer. Called by :func:`check_run`, so by the resume check and by ``collect``.
    """
    for key in NUMERIC_KEYS:
        value = summary.get(key)
        if key in summary and (isinstance(value, bool) or not isinstance(value, (int, float))):
            return f"summary.json: {key} is {value!r}, not a number"
    if "seed" in summary and not 0 <= summary["seed"] < 2**63:
        return f"summary.json: seed {summary['seed']} outside 0..2^63-1"
    recorded = summary.get(FILES_KEY)
    if recorded is None:
        return ""  # written before checksums were recorded: the row counts below still apply
    if not isinstance(recorded, dict):
        return f"summary.json: {FILES_KEY} is not a mapping"
    for name, rec in recorded.items():
        path = Path(run_dir) / name
        if "/" in name or "\\" in name or not isinstance(rec, dict):
            return f"summary.json: bad {FILES_KEY} entry {name!r}"
        try:
            if path.stat().st_size != rec.get("bytes") or sha256(path) != rec.get("sha256"):
                return f"{name} changed since the run finished (checksum differs)"
        except OSError as err:
            return f"{name} unreadable ({err.strerror})"
    return ""


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
    reason = verify_run(run_dir, summary)
    if reason:
        return RunStatus(run_dir, "damaged", reason)
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


# Every file a run writes (experiments.run) or draws from it (experiments.plot's plot_run) in its folder. A run
# that replaces another in the same folder removes those of these the new run did not write (clean_stale).
REPLACING = ".replacing"  # a run replacing another is writing here (experiments.run.run_one); removed once it is done
RUN_OUTPUTS = (SUMMARY, TIMESERIES, NODES, "timeseries.csv", "nodes.csv",
               *(f"figures/{name}.{ext}" for name in ("timeseries", "territory") for ext in ("png", "pdf")))


def clean_stale(run_dir: Path, written: list[str]) -> list[str]:
    """Remove the files of :data:`RUN_OUTPUTS` in ``run_dir`` that are not in ``written`` (left by an earlier
    run of another configuration in the same folder); never any other file. Returns the names removed.

    Called after the new run has written all its files, summary.json last, so an interrupted re-run
    leaves the earlier run's files in place (the folder then reads as damaged and is run again)."""
    removed = []
    for name in RUN_OUTPUTS:
        path = Path(run_dir) / name
        if name not in written and path.is_file():
            path.unlink(missing_ok=True)
            removed.append(name)
    figures = Path(run_dir) / "figures"
    if removed and figures.is_dir() and not any(figures.iterdir()):
        figures.rmdir()
    return removed


def clean_partials(run_dir: Path) -> None:
    """Remove ``*.part`` files left by a killed writer."""
    for part in Path(run_dir).glob(".*.part"):
        part.unlink(missing_ok=True)
