"""Benchmark: how long a national run takes on one core.

    python -m experiments.bench [--weeks 520] [--repeats 3] [--policy kingpin] [--out results/bench.json]

Runs the ``national`` territory for ``--weeks`` weeks in this process (one core), ``--repeats``
times at fixed seeds, and prints the median wall time, weeks per second and agent-steps per
second, with the machine it ran on. Writes every figure to a JSON file.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from importlib.metadata import version
from pathlib import Path

from sim import CartelModel

from . import io, quiet_mesa


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "python": platform.python_version(), "mesa": version("mesa"), "numpy": version("numpy"),
            "platform": platform.platform()}


def time_run(territory: str, policy: str, weeks: int, seed: int) -> dict:
    start = time.perf_counter()
    model = CartelModel(rng=seed, territory=territory, policy=policy, steps=weeks)
    built = time.perf_counter()
    agent_steps = 0
    for _ in range(weeks):
        model.step()
        agent_steps += len(model.agents)
    end = time.perf_counter()
    return {"seed": seed, "build_s": built - start, "run_s": end - built, "total_s": end - start,
            "agents_final": len(model.agents), "agent_steps": agent_steps}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--territory", default="national")
    ap.add_argument("--policy", default="kingpin")
    ap.add_argument("--weeks", type=int, default=520)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path, default=Path("results/bench.json"))
    args = ap.parse_args(argv)
    quiet_mesa()
    runs = []
    for seed in range(args.repeats):
        runs.append(time_run(args.territory, args.policy, args.weeks, seed))
        r = runs[-1]
        print(f"  seed {seed}: {r['total_s']:.1f} s ({args.weeks / r['run_s']:.0f} weeks/s)", file=sys.stderr)
    total = statistics.median(r["total_s"] for r in runs)
    run_s = statistics.median(r["run_s"] for r in runs)
    result = {
        "territory": args.territory, "policy": args.policy, "weeks": args.weeks, "repeats": args.repeats,
        "median_total_s": total, "median_run_s": run_s, "weeks_per_s": args.weeks / run_s,
        "agent_steps_per_s": statistics.median(r["agent_steps"] / r["run_s"] for r in runs),
        "machine": machine(), "runs": runs,
    }
    io.write_json(result, args.out)
    m = result["machine"]
    print(f"{args.territory}, {args.policy}, {args.weeks} weeks, median of {args.repeats}: "
          f"{total:.1f} s per run (build + run) on one core; {result['weeks_per_s']:.0f} weeks/s, "
          f"{result['agent_steps_per_s']:,.0f} agent-steps/s")
    print(f"machine: {m['cpu']}, Python {m['python']}, Mesa {m['mesa']}, numpy {m['numpy']}")
    print(f"written: {args.out}")
    print(json.dumps({k: v for k, v in result.items() if k not in ("runs", "machine")}, indent=None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
