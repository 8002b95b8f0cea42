"""The main job (``make run``): the four policy presets on the same seeds, compared.

    python -m experiments.compare [--seeds 5] [--territory national] [--steps 520] [--jobs 2] [--out DIR]
    python -m experiments.compare --replot [--out DIR]    # the figure and tables again from DIR's files

Every run is composed exactly as ``python -m experiments.run policy=P seed=S territory=T steps=N``
would compose it, and the four policies share seeds (common random numbers). Prints a table of
end-of-run outcomes (mean and standard deviation across seeds), writes it as CSV, the weekly
results as parquet, and a figure of violence and fragmentation over time with 95% bands.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import pandas as pd
from joblib import Parallel, delayed
from tqdm.auto import tqdm

from sim import ParamError
from sim.metrics import CAUSES
from sim.params import POLICIES

from . import build, compose, figures, guard, io

OUTCOMES = {  # table column -> key of the run's summary (CartelModel.summary)
    "homicides_last_year": "homicides_last_year",
    "members": "members",
    "groups": "groups_active",
    "effective_groups": "effective_groups",
    "splinters_total": "splinters_total",
    "leaders_removed_total": "leaders_removed_total",
}


def _run(policy: str, seed: int, territory: str, steps: int) -> tuple[pd.DataFrame, dict]:
    """One run: its weekly timeseries and its row of end-of-run outcomes."""
    model = build([f"policy={policy}", f"seed={seed}", f"territory={territory}", f"steps={steps}"])
    ts = model.run()
    summary = model.summary()
    row = {"policy": policy, "seed": seed, **{name: summary[key] for name, key in OUTCOMES.items()},
           **{f"share_{cause}": summary[f"homicide_share_{cause}"] for cause in CAUSES}}
    return ts.assign(policy=policy, seed=seed), row


def table(runs: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """Mean and standard deviation across seeds, and the number of seeds, one row per policy."""
    stats = runs.groupby("policy")[list(OUTCOMES)].agg(["mean", "std"])
    stats[("seeds", "n")] = runs.groupby("policy")["seed"].nunique()
    return stats.reindex(order)


def format_table(stats: pd.DataFrame) -> str:
    lines = [f"{'policy':<11}" + "".join(f"{name:>24}" for name in OUTCOMES) + f"{'seeds':>7}"]
    for policy, row in stats.iterrows():
        cells = [f"{row[(n, 'mean')]:>14,.1f} ± " + (f"{row[(n, 'std')]:<7,.1f}" if row[(n, 'std')] == row[(n, 'std')]
                                                      else f"{'n/a':<7}") for n in OUTCOMES]
        lines.append(f"{policy:<11}" + "".join(f"{c:>24}" for c in cells) + f"{int(row[('seeds', 'n')]):>7}")
    return "\n".join(lines)


def format_causes(runs: pd.DataFrame, order: list[str]) -> str:
    """Mean share (%) of the last year's homicides from each cause, one row per policy."""
    shares = runs.groupby("policy")[[f"share_{c}" for c in CAUSES]].mean().reindex(order) * 100
    lines = [f"{'policy':<11}" + "".join(f"{c:>12}" for c in CAUSES)]
    for policy, row in shares.iterrows():
        lines.append(f"{policy:<11}" + "".join(f"{row[f'share_{c}']:>11.1f}%" for c in CAUSES))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5, help="seeds per policy (default 5)")
    ap.add_argument("--territory", default="national", help="territory preset (default national)")
    ap.add_argument("--steps", type=int, default=520, help="weeks per run (default 520 = 10 years)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="parallel processes (default: all cores)")
    ap.add_argument("--out", type=Path, default=Path("results/compare"), help="output folder (default results/compare)")
    ap.add_argument("--replot", action="store_true",
                    help="redraw the figure and reprint the tables from the files an earlier run wrote into --out "
                         "(nothing is simulated; --seeds, --territory, --steps are not used)")
    args = ap.parse_args(argv)
    try:  # the same rule as hydra.run.dir: not empty, not /, not the current folder, not a file, writable
        guard.check_output_dir("--out", args.out)
    except ParamError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.replot:
        return replot(args.out)
    if args.seeds < 1:
        print(f"error: invalid value for '--seeds': {args.seeds} (allowed: an integer >= 1)", file=sys.stderr)
        return 2
    if args.jobs < 1 and args.jobs != -1:
        print(f"error: invalid value for '--jobs': {args.jobs} (allowed: an integer >= 1, or -1 for all cores)",
              file=sys.stderr)
        return 2
    policies = list(POLICIES)
    _warnings_one_line()
    try:
        compose([f"territory={args.territory}", f"steps={args.steps}"])
    except ParamError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    jobs = [(p, s) for s in range(args.seeds) for p in policies]
    print(f"Running {len(jobs)} simulations ({len(policies)} policies x {args.seeds} seeds, "
          f"{args.territory}, {args.steps} weeks) on {args.jobs} processes ...")
    start = time.perf_counter()
    parts = Parallel(n_jobs=args.jobs, return_as="generator_unordered")(
        delayed(_run)(p, s, args.territory, args.steps) for p, s in jobs)
    done = list(tqdm(parts, total=len(jobs), desc="runs", unit="run", disable=None))
    elapsed = time.perf_counter() - start
    df = pd.concat([ts for ts, _ in done], ignore_index=True)
    runs = pd.DataFrame([row for _, row in done])
    stats = table(runs, policies)
    io.write_parquet(df, args.out / "timeseries.parquet")
    io.write_csv(runs, args.out / "runs.csv")
    flat = stats.copy()
    flat.columns = [f"{a}_{b}" for a, b in flat.columns]
    io.write_csv(flat.reset_index(), args.out / "comparison.csv")
    written = figures.policy_timeseries(df, args.out / "figures" / "policies")
    print(f"\nEnd of run, mean ± standard deviation across {args.seeds} seeds "
          f"({args.territory}, {args.steps} weeks; homicides: last {min(52, args.steps)} weeks):\n")
    _report(runs, stats, policies, args.seeds)
    print(f"\n{len(jobs)} runs in {elapsed:.0f} s. Written:")
    for path in [args.out / "timeseries.parquet", args.out / "runs.csv", args.out / "comparison.csv", *written]:
        print(f"  {path}")
    return 0


def _warnings_one_line() -> None:
    warnings.showwarning = lambda message, *a, **k: print(f"warning: {message}", file=sys.stderr)


def _report(runs: pd.DataFrame, stats: pd.DataFrame, policies: list[str], seeds: int) -> None:
    """Print the outcome table, the homicide causes and the few-seeds note."""
    print(format_table(stats))
    print("\nShare of the last year's homicides by cause, mean across seeds (members: killed in fights;"
          " bystanders: residents shot in fights; predation: residents killed by cells; leaders: killed by the"
          " state; security: members killed by police or armed forces in confrontations; background: not tied to"
          " organised crime, an input):\n")
    print(format_causes(runs, policies))
    few = figures.few_seeds_text(seeds, "standard deviations and the figure's 95% bands")
    if few:
        print(f"\nNote: {few}.")


SAVED = ("timeseries.parquet", "runs.csv")  # what replot reads back from --out


def replot(out: Path) -> int:
    """``--replot``: the figure and the tables again from the files a comparison wrote into ``out`` (a second)."""
    missing = [name for name in SAVED if not (out / name).is_file()]
    if missing:
        print(f"error: invalid value for '--out': '{out}' (allowed: a folder python -m experiments.compare wrote; "
              f"{', '.join(missing)} missing there)", file=sys.stderr)
        return 2
    _warnings_one_line()
    df = pd.read_parquet(out / "timeseries.parquet")
    runs = pd.read_csv(out / "runs.csv")
    policies = [p for p in POLICIES if p in set(runs["policy"])] + sorted(set(runs["policy"]) - set(POLICIES))
    seeds = int(runs.groupby("policy")["seed"].nunique().min())
    written = figures.policy_timeseries(df, out / "figures" / "policies")
    weeks = int(df["step"].max())
    print(f"Redrawn from {out / 'timeseries.parquet'} and {out / 'runs.csv'} ({len(runs)} runs, {weeks} weeks; "
          "nothing simulated).\n\nEnd of run, mean ± standard deviation across "
          f"{seeds} seeds (homicides: last {min(52, weeks)} weeks):\n")
    _report(runs, table(runs, policies), policies, seeds)
    print("\nWritten:")
    for path in written:
        print(f"  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
