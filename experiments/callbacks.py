"""Hydra callbacks: progress of a sweep (runs finished, total, time left)."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from . import io
from .store import SUMMARY, check_run, run_dirs

log = logging.getLogger("cartelsim")
STATE = ".sweep.json"
TOTAL_ENV = "CARTELSIM_SWEEP_TOTAL"  # set by experiments.run's checks before Hydra starts


class SweepProgress(Callback):
    """Records the sweep's size at its start; each job reports progress when it ends."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        done = sum(check_run(d).finished for d in run_dirs(sweep_dir)) if sweep_dir.exists() else 0
        total = int(os.environ.get(TOTAL_ENV, "0")) or None
        io.write_json({"total": total, "finished_at_start": done, "started": time.time()}, sweep_dir / STATE)
        msg = f"sweep {sweep_dir}: {total or '?'} runs"
        log.info(msg + (f", {done} already finished (skipped)" if done else ""))


def report(sweep_dir: Path, depth: int | None = None) -> str:
    """'k/N runs finished, elapsed, about T left' for the sweep in ``sweep_dir``.

    ``depth``: how many folders below ``sweep_dir`` the runs are (1 with conf/config.yaml's
    ``hydra.sweep.subdir``); the finished runs are then counted by one look per folder, instead of a
    walk of every file of the sweep (which, done after each of N jobs, costs N squared).
    """
    try:
        state = json.loads((Path(sweep_dir) / STATE).read_text())
    except (OSError, ValueError):
        return ""
    if depth:
        finished = sum(1 for _ in Path(sweep_dir).glob("*/" * depth + SUMMARY))
    else:
        finished = sum(1 for d in run_dirs(sweep_dir) if (d / SUMMARY).exists())
    total, start = state.get("total"), state["started"]
    elapsed = time.time() - start
    new = finished - state.get("finished_at_start", 0)
    text = f"{finished}/{total or '?'} runs finished, {_clock(elapsed)} elapsed"
    if total and new > 0 and finished < total:
        text += f", about {_clock(elapsed / new * (total - finished))} left"
    return text


def _clock(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s"
