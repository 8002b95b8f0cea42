"""Dry run of a sweep: how many runs, how long on this machine, how much disk. Nothing is run or written.

    python -m experiments.plan experiment=kingpin_vs_prevention
    python -m experiments.plan policy=kingpin,prevention 'seed=range(0,10)' territory=national
    python -m experiments.run -m experiment=guns --dry-run          # the same, from the run command

Every combination is composed and checked as ``experiments.run -m`` would (a bad value gets one line
and exit status 2). Time: each run's weeks times the seconds per week of its territory from
``make bench`` (``results/bench.json`` when it exists, else the figures below, measured on a 2-core
Intel Xeon), plus the launcher's cost per run (``experiments.bench_launchers``), spread over the
launcher's parallel workers. Disk: the size of each run's files, from measured parquet sizes.
Both are estimates (about ±50%: a loaded machine is slower, violent runs compress less well).
Runs the sweep folder already holds as finished are not subtracted (re-running skips them).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from sim import ParamError

from .config import compose, sweep_combinations

BENCH_JSON = Path("results/bench.json")
# seconds per 520-week run, one core (make bench, README's Performance table)
RUN_S_520 = {"small": 0.74, "mexico_states": 1.62, "national": 3.91}
NATIONAL_NODES = 2470
SCALING_EXPONENT = 0.57  # time per week grows as nodes ** 0.57 (make bench, 100 to 10,000 nodes)
# CPU seconds a run costs beyond its simulation (experiments.bench_launchers: 16 small one-week runs, README,
# Performance; submitit_slurm as submitit_local, ray not measured)
LAUNCHER_OVERHEAD_S = {"basic": 0.20, "joblib": 0.40, "submitit_local": 1.54, "submitit_slurm": 1.54, "ray": 1.0}
# bytes (measured): per run, summary.json + .hydra/ + run.log, each file rounded up to a 4 KiB block
FIXED_BYTES = 6 * 4096
TIMESERIES_BYTES = (16_000, 100)  # fixed, per week (parquet, 520 weeks: 67 KB)
NODES_BYTES = (4_000, 1.4, 130)  # fixed, per node-week, + this / nodes per node-week (small graphs compress less)
CSV_BYTES = (200, 14)  # output.csv: per week (timeseries.csv), per node-week (nodes.csv)


@dataclass
class Plan:
    runs: int
    weeks: int  # simulated weeks over all runs
    cpu_s: float  # one-core seconds, simulation plus launcher overhead
    workers: int | None  # parallel runs (None: a cluster, unknown here)
    launcher: str
    bytes: int
    source: str  # where the seconds per week came from

    @property
    def wall_s(self) -> float | None:
        return None if self.workers is None else self.cpu_s / self.workers


def seconds_per_week(bench: Path = BENCH_JSON) -> tuple[dict[str, float], str]:
    """Seconds per simulated week per territory: from results/bench.json if present, else built in."""
    if bench.exists():
        try:
            model = json.loads(bench.read_text())["model"]
            weeks = json.loads(bench.read_text())["weeks"]
            measured = {name: float(m["run_s"]) / weeks for name, m in model.items()}
            return {**{k: v / 520 for k, v in RUN_S_520.items()}, **measured}, str(bench)
        except (ValueError, KeyError, TypeError):
            pass
    return {k: v / 520 for k, v in RUN_S_520.items()}, "make bench figures in experiments/plan.py (2-core Intel Xeon)"


def _week_s(cfg, per_week: dict[str, float]) -> float:
    name = str(cfg.territory.get("name", ""))
    nodes = int(cfg.territory.get("nodes", 0) or 0)
    if name == "national" and nodes and nodes != NATIONAL_NODES:
        return per_week["national"] * (nodes / NATIONAL_NODES) ** SCALING_EXPONENT
    if name in per_week:
        return per_week[name]
    # a territory of files: scale from the national one by its number of nodes (unknown: as mexico_states)
    return per_week["mexico_states"]


def _nodes(cfg) -> int:
    name = str(cfg.territory.get("name", ""))
    return int(cfg.territory.get("nodes", 0) or {"small": 40, "mexico_states": 32}.get(name, NATIONAL_NODES))


def run_bytes(steps: int, nodes: int, with_nodes: bool, csv: bool = False) -> int:
    """Estimated bytes of one run's folder."""
    size = FIXED_BYTES + TIMESERIES_BYTES[0] + TIMESERIES_BYTES[1] * steps + (CSV_BYTES[0] * steps if csv else 0)
    if with_nodes:
        fixed, per, small = NODES_BYTES
        size += fixed + (per + small / nodes) * nodes * steps + (CSV_BYTES[1] * nodes * steps if csv else 0)
    return int(size)


def _launcher(hydra_cfg) -> tuple[str, int | None]:
    target = str(hydra_cfg.launcher.get("_target_", ""))
    cores = os.cpu_count() or 1
    if "Joblib" in target:
        n = int(hydra_cfg.launcher.get("n_jobs", -1) or -1)
        return "joblib", cores if n < 0 else min(n, cores)
    if "LocalLauncher" in target and "submitit" in target:
        batch = hydra_cfg.sweeper.get("max_batch_size") or cores
        return "submitit_local", max(1, min(int(batch), cores))
    if "Slurm" in target:
        return "submitit_slurm", None
    if "Ray" in target:
        return "ray", cores
    return "basic", 1


def plan(overrides: list[str], bench: Path = BENCH_JSON) -> Plan:
    """The size of ``python -m experiments.run -m OVERRIDES`` (raises ParamError on a bad value)."""
    combos = sweep_combinations(overrides)
    per_week, source = seconds_per_week(bench)
    first = compose(combos[0], with_hydra=True)
    launcher, workers = _launcher(first.hydra)
    cpu_s, weeks, size = 0.0, 0, 0
    for combo in combos:
        cfg = compose(combo)
        steps = int(cfg.steps)
        weeks += steps
        cpu_s += steps * _week_s(cfg, per_week) + LAUNCHER_OVERHEAD_S[launcher]
        size += run_bytes(steps, _nodes(cfg), bool(cfg.output.nodes), bool(cfg.output.get("csv")))
    return Plan(len(combos), weeks, cpu_s, workers, launcher, size, source)


def human_time(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


def describe(p: Plan) -> str:
    lines = [f"runs: {p.runs} ({p.weeks:,} simulated weeks)"]
    if p.wall_s is None:
        lines.append(f"time: about {human_time(p.cpu_s)} of one core in all, on the {p.launcher} launcher "
                     f"(a cluster: divide by the runs it runs at once)")
    else:
        lines.append(f"time: about {human_time(p.wall_s)} on this machine ({p.workers} parallel run"
                     f"{'s' if p.workers != 1 else ''} with the {p.launcher} launcher; "
                     f"{human_time(p.cpu_s)} of one core in all)")
    lines.append(f"disk: about {human_bytes(p.bytes)}")
    lines.append(f"(estimates, about ±50%; seconds per week from {p.source}; runs already finished in the "
                 "sweep folder are skipped when it runs)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    argv = [a for a in argv if a not in ("-m", "--multirun", "--dry-run")]
    if any(a.startswith("-") for a in argv):
        bad = next(a for a in argv if a.startswith("-"))
        print(f"error: invalid option {bad!r} (allowed: Hydra overrides only, as for experiments.run -m)",
              file=sys.stderr)
        return 2
    try:
        p = plan(argv)
    except ParamError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(describe(p))
    return 0


if __name__ == "__main__":
    sys.exit(main())
