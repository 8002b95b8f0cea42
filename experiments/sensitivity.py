"""Global sensitivity analysis (Sobol, Morris) and a robust ranking of the policy presets.

    python -m experiments.sensitivity [--method all|sobol|morris|ranking] [--n 32] [--trajectories 10]
                                      [--scenarios 48] [--territory mexico_states] [--steps 260]
                                      [--out results/sensitivity] [-- HYDRA OVERRIDES ...]

Each method writes its sample of the uncertain parameters to ``OUT/METHOD/samples.csv`` and runs it
as an ordinary sweep (``python -m experiments.run experiment=sensitivity +sample.file=...
'+sample.row=range(0,M)'``; see ``conf/experiment/sensitivity.yaml``),
so it uses the same launchers and results store as every other sweep: it resumes after a crash and
runs on a cluster unchanged (put launcher overrides after ``--``, e.g. ``-- hydra/launcher=slurm``).
Then it collects the runs and analyses them with SALib:

- ``sobol``: first-order and total indices (Saltelli sampling, ``--n`` base samples) of homicides
  in the last year and effective groups at the horizon, under ``--policy``;
- ``morris``: elementary effects (mu*, sigma) from ``--trajectories`` trajectories;
- ``ranking``: ``--scenarios`` scenarios (Latin hypercube over the same parameters) x the four
  presets on a common seed: the share of scenarios in which each preset has the lowest homicides and
  the lowest fragmentation, each preset's regret, and the parameter ranges where the ranking of
  kingpin and prevention flips.

Writes bar charts with confidence intervals, CSV tables and ``OUT/report.md``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from SALib.analyze import morris as morris_analyze
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import latin
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample

from sim import exploration
from sim.params import ParamError

from . import io
from .collect import collect
from .config import compose, sweep_combinations
from .figures import save

ROOT = Path(__file__).resolve().parents[1]

# The uncertain parameters and the ranges explored: declared once, in sim.exploration.UNCERTAINTIES
# (with units and the source of each range; the EMA model and docs/parameters.md read them too).
PARAMETERS = {u.key: (u.low, u.high) for u in exploration.UNCERTAINTIES}
OUTCOMES = {name: exploration.outcome(name).label for name in ("homicides_last_year", "effective_groups")}
POLICIES = ("none", "kingpin", "merida", "prevention")


def problem() -> dict:
    return {"num_vars": len(PARAMETERS), "names": list(PARAMETERS), "bounds": [list(b) for b in PARAMETERS.values()]}


def write_samples(x: np.ndarray, path: Path) -> Path:
    """The sample as a CSV (one row per run); an existing identical file is kept (resume)."""
    df = pd.DataFrame(x, columns=list(PARAMETERS))
    df.insert(0, "row", np.arange(len(df)))
    if path.exists():
        old = pd.read_csv(path)
        if old.shape == df.shape and np.allclose(old.to_numpy(dtype=float), df.to_numpy(dtype=float)):
            return path
    io.write_csv(df, path)
    return path


def run_sweep(samples: Path, rows: int, out: Path, base: list[str], extra: list[str]) -> None:
    """Run every row of the sample through experiments.run as a sweep (resumable)."""
    sweep = [*base, f"+sample.file={samples.resolve()}", f"+sample.row=range(0,{rows})"]
    print(f"  sweep of {len(sweep_combinations(sweep))} runs into {out}", flush=True)
    args = [sys.executable, "-m", "experiments.run", "-m", *sweep, f"hydra.sweep.dir={out.resolve()}", *extra]
    proc = subprocess.run(args, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"the sweep into {out} failed (exit {proc.returncode}); re-run to resume it")


def outcomes_by_row(sweep_dir: Path, rows: int, by: tuple[str, ...] = ()) -> pd.DataFrame:
    """End-of-run outcomes indexed by sample row (and ``by`` keys); every row must be present."""
    runs, left_out = collect(sweep_dir, quiet=True)
    if left_out:
        raise RuntimeError(f"{len(left_out)} runs unfinished under {sweep_dir}; re-run to complete them")
    runs = runs.rename(columns={"sample.row": "row"})
    missing = sorted(set(range(rows)) - set(runs["row"].astype(int)))
    if missing:
        raise RuntimeError(f"sample rows {missing[:5]} have no finished run under {sweep_dir}; re-run to complete")
    # several seeds per row: their mean (the model's own noise averaged out)
    return runs.groupby(["row", *by])[list(OUTCOMES)].mean().sort_index()


# --------------------------------------------------------------------------------------------------
def indices_chart(table: pd.DataFrame, value_cols: list[tuple[str, str]], title: str, path: Path) -> list[Path]:
    """Horizontal bars per parameter for each outcome, with confidence intervals."""
    outcomes = list(dict.fromkeys(table["outcome"]))
    fig, axes = plt.subplots(1, len(outcomes), figsize=(6 * len(outcomes), 4.5), constrained_layout=True,
                             squeeze=False)
    for ax, outcome in zip(axes[0], outcomes):
        part = table[table["outcome"] == outcome].set_index("parameter").reindex(list(PARAMETERS))
        y = np.arange(len(part))
        height = 0.8 / len(value_cols)
        for k, (col, label) in enumerate(value_cols):
            ax.barh(y + k * height, part[col], height=height, xerr=part[col + "_conf"], label=label, capsize=2)
        ax.set_yticks(y + height * (len(value_cols) - 1) / 2, part.index)
        ax.invert_yaxis()
        ax.set_title(OUTCOMES.get(outcome, outcome))
        ax.grid(alpha=0.3, axis="x")
        ax.legend(loc="lower right")
    fig.suptitle(title)
    return save(fig, path)


def sobol(out: Path, n: int, base: list[str], extra: list[str], seed: int) -> pd.DataFrame:
    prob = problem()
    x = sobol_sample.sample(prob, n, calc_second_order=False, seed=seed)
    samples = write_samples(x, out / "samples.csv")
    run_sweep(samples, len(x), out / "runs", base, extra)
    runs = outcomes_by_row(out / "runs", len(x))
    rows = []
    for outcome in OUTCOMES:
        result = sobol_analyze.analyze(prob, runs[outcome].to_numpy(dtype=float), calc_second_order=False,
                                       seed=seed)
        for k, name in enumerate(prob["names"]):
            rows.append({"outcome": outcome, "parameter": name, "S1": result["S1"][k], "S1_conf": result["S1_conf"][k],
                         "ST": result["ST"][k], "ST_conf": result["ST_conf"][k]})
    table = pd.DataFrame(rows)
    table.attrs["runs"] = len(x)  # sample rows (each run once per seed); the report states it
    io.write_csv(table, out / "sobol_indices.csv")
    indices_chart(table, [("S1", "first order S1"), ("ST", "total ST")],
                  f"Sobol indices ({len(x)} runs; bars: 95% confidence)", out / "sobol")
    return table


# Noise dominance: the model's own run-to-run noise, not the parameters, makes the Sobol indices when
# no parameter explains much on its own and the totals (which take in the noise) are large for all.
NOISE_MAX_S1 = 0.1  # every first-order index below this
NOISE_MEAN_ST = 0.8  # and the mean total index above this


def noise_dominated(part: pd.DataFrame) -> bool:
    """Whether one outcome's Sobol indices (rows of :func:`sobol`'s table) look like noise:
    max S1 < :data:`NOISE_MAX_S1` and mean ST > :data:`NOISE_MEAN_ST`."""
    return bool(part["S1"].max() < NOISE_MAX_S1 and part["ST"].mean() > NOISE_MEAN_ST)


def planned_runs(n: int, trajectories: int, scenarios: int, seeds: int) -> int:
    """Model runs of ``--method all`` with these settings: Sobol n x (parameters + 2), Morris
    trajectories x (parameters + 1), the ranking scenarios x presets; each once per seed."""
    d = len(PARAMETERS)
    return seeds * (n * (d + 2) + trajectories * (d + 1) + scenarios * len(POLICIES))


def morris(out: Path, trajectories: int, base: list[str], extra: list[str], seed: int) -> pd.DataFrame:
    prob = problem()
    x = morris_sample.sample(prob, trajectories, num_levels=4, seed=seed)
    samples = write_samples(x, out / "samples.csv")
    run_sweep(samples, len(x), out / "runs", base, extra)
    runs = outcomes_by_row(out / "runs", len(x))
    rows = []
    for outcome in OUTCOMES:
        y = runs[outcome].to_numpy(dtype=float)
        result = morris_analyze.analyze(prob, x, y, num_levels=4, seed=seed)
        scale = np.abs(y).mean() or 1.0
        for k, name in enumerate(prob["names"]):
            rows.append({"outcome": outcome, "parameter": name, "mu_star": result["mu_star"][k] / scale,
                         "mu_star_conf": result["mu_star_conf"][k] / scale, "sigma": result["sigma"][k] / scale,
                         "sigma_conf": 0.0})
    table = pd.DataFrame(rows)
    io.write_csv(table, out / "morris_indices.csv")
    indices_chart(table, [("mu_star", "mu* / mean outcome"), ("sigma", "sigma / mean outcome")],
                  f"Morris screening ({len(x)} runs; bars: 95% confidence of mu*)", out / "morris")
    return table


# --------------------------------------------------------------------------------------------------
def rank_policies(outcomes: pd.DataFrame, column: str) -> pd.DataFrame:
    """Per policy: share of scenarios where it is best (lowest ``column``), mean and max regret.

    ``outcomes``: one row per (scenario, policy) with ``column``; regret = value - best value in
    that scenario.
    """
    wide = outcomes[column].unstack("policy")
    best = wide.min(axis=1)
    regret = wide.sub(best, axis=0)
    tied = regret.le(1e-12)
    share = tied.div(tied.sum(axis=1), axis=0).mean()  # a tie shares the scenario among the tied policies
    return pd.DataFrame({"best_share": share, "mean_regret": regret.mean(), "max_regret": regret.max()})


def flips(samples: pd.DataFrame, outcomes: pd.DataFrame, column: str, a: str = "prevention",
          b: str = "kingpin") -> pd.DataFrame:
    """Where the ranking of ``a`` and ``b`` flips: the share of scenarios where ``a`` beats ``b``
    in the lowest and highest third of each parameter's range."""
    wide = outcomes[column].unstack("policy")
    wins = (wide[a] < wide[b]).rename("wins")
    data = samples.set_index("row").join(wins, how="inner")
    rows = []
    for name, (lo, hi) in PARAMETERS.items():
        low = data[data[name] <= lo + (hi - lo) / 3]["wins"].mean()
        high = data[data[name] >= hi - (hi - lo) / 3]["wins"].mean()
        rows.append({"parameter": name, f"{a}_beats_{b}_low_third": low, f"{a}_beats_{b}_high_third": high,
                     "swing": high - low})
    return pd.DataFrame(rows).sort_values("swing", key=np.abs, ascending=False)


def ranking(out: Path, scenarios: int, base: list[str], extra: list[str], seed: int) -> dict:
    x = latin.sample(problem(), scenarios, seed=seed)
    samples = write_samples(x, out / "samples.csv")
    policy_free = [b for b in base if not b.startswith("policy=")]
    run_sweep(samples, len(x), out / "runs", [*policy_free, "policy=" + ",".join(POLICIES)], extra)
    runs = outcomes_by_row(out / "runs", len(x), by=("policy",))
    sample_table = pd.read_csv(samples)
    result = {}
    fig, axes = plt.subplots(1, len(OUTCOMES), figsize=(11, 4), constrained_layout=True)
    for ax, column in zip(axes, OUTCOMES):
        table = rank_policies(runs, column).reindex(POLICIES)
        flip = flips(sample_table, runs, column)
        io.write_csv(table.reset_index(names="policy"), out / f"ranking_{column}.csv")
        io.write_csv(flip, out / f"flips_{column}.csv")
        result[column] = (table, flip)
        ax.bar(table.index, 100 * table["best_share"], color=["#7f7f7f", "#d62728", "#ff7f0e", "#2ca02c"])
        ax.set_ylabel(f"% of {len(x)} scenarios with the lowest value")
        ax.set_title(OUTCOMES[column])
        ax.set_ylim(0, 100)
        ax.grid(alpha=0.3, axis="y")
    fig.suptitle("Robust ranking: which preset is best across uncertain scenarios")
    save(fig, out / "ranking")
    return result


# --------------------------------------------------------------------------------------------------
def _leaders(table: pd.DataFrame, column: str, label: str, describe) -> list[str]:
    """One line per outcome naming the three parameters with the largest ``column``."""
    lines = []
    for outcome in OUTCOMES:
        part = table[table["outcome"] == outcome].sort_values(column, ascending=False)
        lines.append(f"- {OUTCOMES[outcome]}: {label} " + ", ".join(describe(r) for r in part.head(3).itertuples()))
    return [*lines, ""]


def report(out: Path, settings: dict, sobol_t, morris_t, ranking_r) -> Path:
    lines = ["# Sensitivity analysis and robust policy ranking", "",
             "Produced by `python -m experiments.sensitivity` with: " +
             ", ".join(f"{k}={v}" for k, v in settings.items() if k != "inert") + ".", "",
             "Uncertain parameters and ranges explored: " +
             "; ".join(f"`{k}` {lo:g}-{hi:g}" for k, (lo, hi) in PARAMETERS.items()) + ".", ""]
    inert = settings.get("inert") or []
    if inert:
        lines += [f"Inert by construction in these runs: {', '.join(f'`{k}`' for k in inert)} act only through "
                  "financial intelligence, and `policy.finance_share` is 0 here (add `-- policy.finance_share=0.2` "
                  "to explore them): their indices are zero and their runs add only noise.", ""]
    if sobol_t is not None:
        lines += ["## Sobol indices", "", "![Sobol](sobol/sobol.png)", ""]
        lines += _leaders(sobol_t, "ST", "largest total indices",
                          lambda r: f"`{r.parameter}` ST={r.ST:.2f}±{r.ST_conf:.2f} (S1={r.S1:.2f})")
        runs = sobol_t.attrs.get("runs")
        seeds = settings.get("seeds", 1)
        done = f"{runs:,} sample rows x {seeds} seed(s)" if runs else "this sample"
        for outcome in OUTCOMES:
            part = sobol_t[sobol_t["outcome"] == outcome]
            figures = f"max S1 = {part['S1'].max():.2f}, mean ST = {part['ST'].mean():.2f}"
            if noise_dominated(part):
                lines.append(f"- {OUTCOMES[outcome]}: the model's own noise dominates these indices ({figures}; "
                             f"noise: max S1 < {NOISE_MAX_S1:g} and mean ST > {NOISE_MEAN_ST:g}) from {done}: "
                             "read the Morris screening and the ranking, or average more seeds (`--seeds`).")
            else:
                lines.append(f"- {OUTCOMES[outcome]}: {figures} from {done}; not noise-dominated by this report's "
                             f"test (max S1 < {NOISE_MAX_S1:g} and mean ST > {NOISE_MEAN_ST:g}).")
        lines.append("")
    if morris_t is not None:
        lines += ["## Morris screening", "", "![Morris](morris/morris.png)", ""]
        lines += _leaders(morris_t, "mu_star", "largest mu* (relative to the mean outcome)",
                          lambda r: f"`{r.parameter}` {r.mu_star:.2f}")
    if ranking_r is not None:
        lines += ["## Robust ranking", "", "![Ranking](ranking/ranking.png)", ""]
        for column, (table, flip) in ranking_r.items():
            lines += [f"### Lowest {OUTCOMES[column]}", "", "| policy | best in | mean regret | max regret |",
                      "|---|---|---|---|"]
            for policy, r in table.iterrows():
                lines.append(f"| {policy} | {100 * r.best_share:.0f}% | {r.mean_regret:,.1f} | {r.max_regret:,.1f} |")
            top = flip.iloc[0]
            cols = [c for c in flip.columns if c.endswith("_third")]
            if abs(top["swing"]) < 0.2 or top[cols[0]] == top[cols[1]]:
                lines += ["", "No parameter range changes which of prevention and kingpin does better in this "
                              "sample (no swing of 20 points or more between a range's lowest and highest third).", ""]
            else:
                lines += ["", f"Where prevention and kingpin swap places most: `{top.parameter}` (prevention beats "
                              f"kingpin in {100 * top[cols[0]]:.0f}% of scenarios in the lowest third of its range, "
                              f"{100 * top[cols[1]]:.0f}% in the highest third).", ""]
    lines += ["## Settings for a publication-grade run", "",
              "`python -m experiments.sensitivity --n 1024 --trajectories 50 --scenarios 500 --territory national "
              "--steps 520 --seeds 5 -- hydra/launcher=slurm hydra.launcher.partition=PART` "
              f"({planned_runs(1024, 50, 500, 5):,} national runs of about 4 s each on one core (make bench): a cluster job).", ""]
    path = out / "report.md"
    io.write_text("\n".join(lines), path)
    return path


def inert_parameters(overrides: list[str]) -> list[str]:
    """The explored parameters that cannot act under ``overrides`` (the sweep's base, without its seeds): the
    ``finance.*`` ones when no financial intelligence is funded (``policy.finance_share`` 0)."""
    try:
        cfg = compose(overrides, _sweep_ok=True, check=False)
    except ParamError:
        return []  # the sweep itself will name the bad override
    return [] if cfg.policy.finance_share > 0 else [k for k in PARAMETERS if k.startswith("finance.")]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    own = argv[: argv.index("--")] if "--" in argv else argv
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--method", choices=["all", "sobol", "morris", "ranking"], default="all")
    ap.add_argument("--n", type=int, default=32, help="Sobol base samples (runs: n x (parameters + 2))")
    ap.add_argument("--trajectories", type=int, default=10, help="Morris trajectories")
    ap.add_argument("--scenarios", type=int, default=48, help="scenarios for the ranking (x 4 presets)")
    ap.add_argument("--policy", default="kingpin", help="policy preset under which indices are computed")
    ap.add_argument("--territory", default="mexico_states")
    ap.add_argument("--steps", type=int, default=260)
    ap.add_argument("--seed", type=int, default=0, help="first seed")
    ap.add_argument("--seeds", type=int, default=1, help="seeds per sample row, averaged (common to all rows)")
    ap.add_argument("--out", type=Path, default=Path("results/sensitivity"))
    args = ap.parse_args(own)
    for key in ("n", "trajectories", "scenarios", "steps"):
        if getattr(args, key) < 2:
            print(f"error: invalid value for '--{key}': {getattr(args, key)} (allowed: an integer >= 2)",
                  file=sys.stderr)
            return 2
    seeds = f"seed={args.seed}" if args.seeds == 1 else f"seed=range({args.seed},{args.seed + args.seeds})"
    base = ["experiment=sensitivity", f"territory={args.territory}", f"steps={args.steps}", f"policy={args.policy}",
            seeds]
    settings = {k: getattr(args, k) for k in ("method", "n", "trajectories", "scenarios", "policy", "territory",
                                              "steps", "seed", "seeds")}
    settings["inert"] = inert_parameters([*base[:-1], *extra])
    todo = ["sobol", "morris", "ranking"] if args.method == "all" else [args.method]
    try:
        s = sobol(args.out / "sobol", args.n, base, extra, args.seed) if "sobol" in todo else None
        m = morris(args.out / "morris", args.trajectories, base, extra, args.seed) if "morris" in todo else None
        r = ranking(args.out / "ranking", args.scenarios, base, extra, args.seed) if "ranking" in todo else None
    except RuntimeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    path = report(args.out, settings, s, m, r)
    print(path.read_text(encoding="utf-8"))
    print(f"written: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
