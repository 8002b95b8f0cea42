"""Benchmark: the cost of a simulated week, against the cost floor of Mesa itself.

    python -m experiments.bench [--repeats 3] [--weeks 520] [--sweep-runs 100] [--quick] [--out results/bench.json]

In one process, at fixed seeds, median of ``--repeats``:

1. this model on ``small``, ``mexico_states`` and ``national`` (kingpin, the busiest preset):
   seconds per run, weeks per second, agent-steps per second (agents alive each week, summed), and
   the share of time spent recording outcomes (the DataCollector and the node table);
2. the floor: a do-nothing Mesa model with the same agents (same classes and counts as the national
   run's average week), every agent activated once a week with ``shuffle_do``, for the same weeks;
   and the ratio of this model's time to it;
3. Mesa's bundled ``EpsteinCivilViolence`` and ``VirusOnNetwork`` at their default sizes, seeded:
   microseconds per agent-step, beside this model's;
4. scaling: time per week on synthetic territories of 100 to 10,000 nodes (population, and so
   agents, in proportion), and the fitted exponent of time against nodes;
5. peak memory (resident set) of a national run of ``--weeks`` weeks, in a separate process;
6. the page (``make app``) on ``mexico_states``: server seconds per Step click, that is one model
   step plus the page's three figures drawn and encoded as PNG, median over the first 104 weeks;
7. sweep throughput: runs per minute of a ``--sweep-runs``-run sweep (default 100) of national runs
   of ``--weeks`` weeks (kingpin, seeds 0..N-1), with the default launcher of ``-m`` (conf/config.yaml:
   joblib, ``n_jobs=-1``: all cores), timed from the command's start to its end as a separate process
   (start-up, checks, every run's files: ``experiments.bench_launchers.time_sweep``). ``--sweep-runs 0``
   leaves it out.

Prints a table, the targets of the performance issue beside each figure, and writes every figure to a
JSON file. ``--quick`` runs tiny versions (a smoke test; the sweep: 2 runs on ``small``).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

import mesa
import numpy as np

from sim import CartelModel
from sim.params import TERRITORIES

from . import io, quiet_mesa

MEXICO_POP = TERRITORIES["national"].population


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "mesa": version("mesa"),
            "numpy": version("numpy"), "platform": platform.platform()}


# --------------------------------------------------------------------------------------------------
def time_model(weeks: int, seed: int, **kwargs) -> dict:
    """Build and run one model, timing the weeks and the outcome recording separately."""
    start = time.perf_counter()
    model = CartelModel(rng=seed, steps=weeks, policy="kingpin", **kwargs)
    built = time.perf_counter()
    recording = 0.0
    measure = model.recorder.measure

    def timed_measure(m):
        nonlocal recording
        t0 = time.perf_counter()
        measure(m)
        recording += time.perf_counter() - t0

    model.recorder.measure = timed_measure
    agent_steps = 0
    counts: dict[str, int] = {}
    for _ in range(weeks):
        model.step()
        agent_steps += len(model.agents)
        for cls, agents in model.agents_by_type.items():
            counts[cls.__name__] = counts.get(cls.__name__, 0) + len(agents)
    end = time.perf_counter()
    return {"seed": seed, "build_s": built - start, "run_s": end - built, "recording_s": recording,
            "agent_steps": agent_steps, "mean_agents": {k: v / weeks for k, v in counts.items()}}


def model_sizes(weeks: int, repeats: int, sizes: list[str]) -> dict:
    out = {}
    for name in sizes:
        runs = [time_model(weeks, seed, territory=name) for seed in range(repeats)]
        run_s = statistics.median(r["run_s"] for r in runs)
        out[name] = {
            "weeks": weeks, "run_s": run_s, "total_s": statistics.median(r["build_s"] + r["run_s"] for r in runs),
            "weeks_per_s": weeks / run_s,
            "agent_steps_per_s": statistics.median(r["agent_steps"] / r["run_s"] for r in runs),
            "us_per_agent_step": 1e6 * statistics.median(r["run_s"] / r["agent_steps"] for r in runs),
            "recording_share": statistics.median(r["recording_s"] / r["run_s"] for r in runs),
            "mean_agents": runs[0]["mean_agents"],
        }
    return out


# --------------------------------------------------------------------------------------------------
class _Idle(mesa.Agent):
    def step(self) -> None:
        pass


def floor_model(counts: dict[str, float], weeks: int, seed: int) -> float:
    """Seconds for a do-nothing Mesa model with these agent counts, each activated weekly."""
    classes = {name: type(name, (_Idle,), {}) for name in counts}

    class Floor(mesa.Model):
        def __init__(self):
            super().__init__(rng=seed)
            for name, n in counts.items():
                classes[name].create_agents(self, int(round(n)))

        def step(self):
            for cls in classes.values():
                self.agents_by_type[cls].shuffle_do("step")

    model = Floor()
    start = time.perf_counter()
    for _ in range(weeks):
        model.step()
    return time.perf_counter() - start


def mesa_examples(steps: int, repeats: int) -> dict:
    """Microseconds per agent-step of two of Mesa's bundled models at their default sizes."""
    from mesa.examples import EpsteinCivilViolence, VirusOnNetwork
    from mesa.examples.advanced.epstein_civil_violence.model import EpsteinScenario

    builders = {"EpsteinCivilViolence": lambda s: EpsteinCivilViolence(scenario=EpsteinScenario(rng=s)),
                "VirusOnNetwork": lambda s: VirusOnNetwork(rng=s)}
    out = {}
    for name, build in builders.items():
        per = []
        for seed in range(repeats):
            model = build(seed)
            agents = 0
            start = time.perf_counter()
            for _ in range(steps):
                agents += len(model.agents)
                model.step()
            per.append(1e6 * (time.perf_counter() - start) / agents)
        out[name] = {"us_per_agent_step": statistics.median(per), "agents": len(model.agents), "steps": steps}
    return out


# --------------------------------------------------------------------------------------------------
def scaling(nodes_list: list[int], weeks: int, seed: int = 0) -> dict:
    """Seconds per week against territory size (population in proportion to nodes)."""
    rows = []
    for n in nodes_list:
        population = MEXICO_POP * n / 2470
        model = CartelModel(rng=seed, steps=weeks, policy="kingpin", territory="national",
                            territory__nodes=n, territory__population=population)
        start = time.perf_counter()
        for _ in range(weeks):
            model.step()
        rows.append({"nodes": n, "agents": len(model.agents), "s_per_week": (time.perf_counter() - start) / weeks})
    x = np.log([r["nodes"] for r in rows])
    y = np.log([r["s_per_week"] for r in rows])
    exponent = float(np.polyfit(x, y, 1)[0]) if len(rows) > 1 else float("nan")
    return {"rows": rows, "exponent": exponent}


def peak_memory(weeks: int, territory: str = "national") -> float:
    """Peak resident memory (MB) of a separate process running one model."""
    code = ("import resource; from sim import CartelModel; "
            f"CartelModel(rng=0, territory={territory!r}, policy='kingpin', steps={weeks}).run(); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1]) / 1024.0  # Linux reports KB


def page_step(weeks: int, territory: str = "mexico_states", seed: int = 0) -> dict:
    """Seconds a Step click costs the page's server: a week plus the page's three figures, as PNG
    (``experiments.page_plots``: built once per model, then only what changes is redrawn)."""
    from .app import ClassroomModel
    from .page_plots import views_of

    model = ClassroomModel(rng=seed, territory=territory, steps=weeks)
    views = views_of(model)
    step_s, draw_s = [], []
    for _ in range(weeks):
        start = time.perf_counter()
        model.step()
        drawn = time.perf_counter()
        views.pngs(model)
        step_s.append(drawn - start)
        draw_s.append(time.perf_counter() - drawn)
    click_s = np.add(step_s, draw_s)
    return {"territory": territory, "weeks": weeks, "step_s": statistics.median(step_s),
            "draw_s": statistics.median(draw_s), "click_s": float(np.median(click_s)),
            "click_max_s": float(click_s.max())}


def sweep(runs: int, weeks: int, territory: str = "national") -> dict:
    """Runs per minute of a ``runs``-run sweep (kingpin, seeds 0..runs-1) with the default launcher of
    ``experiments.run -m`` on all cores, as a separate process from start to end (files included)."""
    from .bench_launchers import time_sweep

    wall = time_sweep([], runs, [f"territory={territory}", f"steps={weeks}", "policy=kingpin"])
    return {"runs": runs, "territory": territory, "weeks": weeks, "launcher": "default (conf/config.yaml)",
            "cores": os.cpu_count(), "wall_s": wall, "runs_per_min": 60 * runs / wall}


# --------------------------------------------------------------------------------------------------
TARGETS = {  # figure -> (comparison, limit): issue 18's targets, and the earlier issues' where it sets none
    "national_s_per_run": ("<", 2.0),  # a national 520-week run (build + weeks) under 2 s on one core
    "national_over_floor": ("<=", 3.0),  # within 3 times Mesa's do-nothing floor with the same agents
    "sweep_runs_per_min": (">=", 40.0),  # a 100-run national sweep, default launcher, all cores (2 here)
    "national_peak_memory_mb": ("<", 300.0),
    "scaling_exponent": ("<=", 1.0),
    "epstein_over_national_per_agent_step": (">=", 5.0),
    "national_recording_share": ("<", 0.10),
    "page_step_s": ("<", 0.5),  # "a step well under a second" (teaching issue)
    "page_step_national_s": ("<", 0.5),  # a Step on national redrawn in under half a second (issue 16)
}


def run(weeks: int, repeats: int, quick: bool, sweep_runs: int = 100) -> dict:
    sizes = ["small"] if quick else ["small", "mexico_states", "national"]
    result: dict = {"weeks": weeks, "repeats": repeats, "quick": quick, "machine": machine()}
    result["model"] = model_sizes(weeks, repeats, sizes)
    ref = result["model"][sizes[-1]]
    floor_s = statistics.median(floor_model(ref["mean_agents"], weeks, s) for s in range(repeats))
    result["floor"] = {"territory": sizes[-1], "run_s": floor_s, "ratio": ref["run_s"] / floor_s,
                       "agents": ref["mean_agents"]}
    result["mesa_examples"] = mesa_examples(10 if quick else 100, 1 if quick else repeats)
    result["scaling"] = scaling([40, 100] if quick else [100, 300, 1000, 3000, 10000], 5 if quick else 52)
    result["peak_memory_mb"] = peak_memory(weeks, sizes[-1])
    result["page"] = page_step(5 if quick else 104)
    result["page_national"] = page_step(5 if quick else 52, "national")
    runs = min(sweep_runs, 2) if quick else sweep_runs
    result["sweep"] = sweep(runs, weeks, sizes[-1]) if runs > 0 else None
    epstein = result["mesa_examples"]["EpsteinCivilViolence"]["us_per_agent_step"]
    result["figures"] = {
        "national_s_per_run": ref["total_s"],
        "national_over_floor": result["floor"]["ratio"],
        "sweep_runs_per_min": result["sweep"]["runs_per_min"] if result["sweep"] else None,
        "national_peak_memory_mb": result["peak_memory_mb"],
        "scaling_exponent": result["scaling"]["exponent"],
        "epstein_over_national_per_agent_step": epstein / ref["us_per_agent_step"],
        "national_recording_share": ref["recording_share"],
        "page_step_s": result["page"]["click_s"],
        "page_step_national_s": result["page_national"]["click_s"],
    }
    ops = {"<=": float.__le__, ">=": float.__ge__, "<": float.__lt__}
    result["targets_met"] = {k: None if result["figures"][k] is None else
                             bool(ops[op](float(result["figures"][k]), limit)) for k, (op, limit) in TARGETS.items()}
    return result


def print_table(r: dict) -> None:
    m = r["machine"]
    print(f"machine: {m['cpu']}, {m.get('cores', '?')} cores, Python {m['python']}, Mesa {m['mesa']}, "
          f"numpy {m['numpy']}; one core except the sweep")
    print(f"\n{'territory':<15}{'s/run':>8}{'build+run':>10}{'weeks/s':>9}{'agents':>8}{'agent-steps/s':>15}"
          f"{'µs/agent-step':>15}{'recording':>11}")
    for name, s in r["model"].items():
        agents = sum(s["mean_agents"].values())
        print(f"{name:<15}{s['run_s']:>8.2f}{s['total_s']:>10.2f}{s['weeks_per_s']:>9.0f}{agents:>8.0f}"
              f"{s['agent_steps_per_s']:>15,.0f}{s['us_per_agent_step']:>15.2f}{100 * s['recording_share']:>10.1f}%")
    f = r["floor"]
    print(f"\nMesa floor (same agents, all activated weekly with shuffle_do, {r['weeks']} weeks): "
          f"{f['run_s']:.2f} s; this model / floor = {f['ratio']:.1f}x")
    for name, e in r["mesa_examples"].items():
        print(f"{name}: {e['us_per_agent_step']:.2f} µs per agent-step ({e['agents']} agents)")
    print("\nscaling (time per week):")
    for row in r["scaling"]["rows"]:
        print(f"  {row['nodes']:>6} nodes, {row['agents']:>6} agents: {1000 * row['s_per_week']:8.2f} ms")
    print(f"  fitted exponent: {r['scaling']['exponent']:.2f}")
    print(f"\npeak memory of a {r['floor']['territory']} run of {r['weeks']} weeks: {r['peak_memory_mb']:.0f} MB")
    for p in (r["page"], r["page_national"]):
        print(f"page on {p['territory']}, per Step click (median of {p['weeks']} weeks): model step "
              f"{1000 * p['step_s']:.1f} ms + figures {1000 * p['draw_s']:.0f} ms = {1000 * p['click_s']:.0f} ms "
              f"(slowest {1000 * p['click_max_s']:.0f} ms)")
    sw = r.get("sweep")
    if sw:
        print(f"sweep of {sw['runs']} {sw['territory']} runs of {sw['weeks']} weeks (kingpin), default launcher on "
              f"{sw['cores']} cores: {sw['wall_s']:.1f} s, {sw['runs_per_min']:.1f} runs per minute")
    else:
        print("sweep: not measured (--sweep-runs 0)")
    print("\ntargets (issue 18 first):")
    for key, (op, limit) in TARGETS.items():
        value, met = r["figures"][key], r["targets_met"][key]
        ok = "not measured" if met is None else "met" if met else "NOT met"
        shown = f"{value:>10.2f}" if value is not None else f"{'-':>10}"
        print(f"  {key:<40} {shown}  (target {op} {limit:g}): {ok}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weeks", type=int, default=520)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--sweep-runs", type=int, default=100,
                    help="runs in the timed sweep (default launcher, all cores); 0 leaves it out")
    ap.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test, not a measurement")
    ap.add_argument("--out", type=Path, default=Path("results/bench.json"))
    args = ap.parse_args(argv)
    if args.weeks < 1 or args.repeats < 1:
        print("error: invalid value for '--weeks'/'--repeats' (allowed: integers >= 1)", file=sys.stderr)
        return 2
    if args.sweep_runs < 0:
        print(f"error: invalid value for '--sweep-runs': {args.sweep_runs} (allowed: integers >= 0; 0 leaves the "
              "sweep out)", file=sys.stderr)
        return 2
    quiet_mesa()
    result = run(args.weeks, args.repeats, args.quick, args.sweep_runs)
    print_table(result)
    io.write_json(result, args.out)
    print(f"\nwritten: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
