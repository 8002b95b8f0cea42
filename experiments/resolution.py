"""Does the answer depend on the map's resolution? Table, checks and figure of ``experiment=resolution``.

    python -m experiments.run -m experiment=resolution        # the sweep (make resolution runs both)
    python -m experiments.resolution multirun/resolution      # this

Reads the sweep's ``runs.parquet`` (collecting it first with :mod:`experiments.collect` when it is
missing or older than a run) and, per preset and territory (a territory at one size is a "map"),
the mean across seeds and its 95% t-interval of:

- homicides per 100,000 people a year (the last 52 weeks; ``homicide_rate_last_year``),
- members per 100,000 people (end of run; members / the territory's population x 1e5),
- groups active and effective groups (1 / Herfindahl of member shares), end of run.

Then the two checks of issue 12, printed and written with their numbers:

(a) *same ranking*: the presets ordered by mean homicide rate, and by mean effective groups (the
    fragmentation measure; groups active is shown but not checked), are the same on every map;
(b) *within a quarter*: for every preset, max / min - 1 of its mean homicide rate across maps is
    below 0.25.

Writes ``SWEEP_DIR/resolution.csv``, ``SWEEP_DIR/resolution.md`` and
``SWEEP_DIR/figures/resolution.{png,pdf}``. The exit status is 0 whether the checks pass or fail
(their verdicts are in the output); 2 for bad input, with nothing written.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats

from . import io
from .collect import collect
from .figures import ordered, save

# column of the per-run table -> axis/table label with its unit
OUTCOMES = {
    "homicide_rate": "homicides per 100,000 a year\n(last 52 weeks)",
    "members_per_100k": "cartel members per 100,000\n(end of run)",
    "groups_active": "groups active (count, end of run)",
    "effective_groups": "effective groups\n(1 / Herfindahl, end of run)",
}
SHORT = {"homicide_rate": "homicides /100k/yr", "members_per_100k": "members /100k",
         "groups_active": "groups active", "effective_groups": "effective groups"}
HOMICIDES = "homicide_rate"
FRAGMENTATION = "effective_groups"  # the fragmentation measure of check (a)
TOLERANCE = 0.25  # check (b): max / min - 1 of a preset's homicide rate across maps
# keys that must take one value in the sweep folder (else runs of different sweeps would be mixed)
SINGLE = ("scenario", "weeks", "steps", "interventions")
# one colour and marker per map (not the policies' colours: x already says the policy)
MAP_STYLES = [("#1f77b4", "o"), ("#9467bd", "s"), ("#17becf", "D"), ("#8c564b", "^"), ("#e377c2", "v"),
              ("#bcbd22", "P")]


class ResolutionError(ValueError):
    """The sweep folder cannot be analysed (one line: what is wrong and what is needed)."""


# --------------------------------------------------------------------------------------------------
# The per-run table
# --------------------------------------------------------------------------------------------------
def _stale(sweep_dir: Path) -> bool:
    runs = sweep_dir / "runs.parquet"
    if not runs.exists():
        return True
    newest = max((p.stat().st_mtime for p in sweep_dir.rglob("summary.json")), default=0)
    return newest > runs.stat().st_mtime


def _territory_of(config: dict) -> tuple[int, float]:
    """(number of nodes, total population) of the territory a run's config builds (the model's own)."""
    from sim import CartelModel

    model = CartelModel.from_config(dict(config, steps=1, interventions=[], output={"nodes": False}))
    return int(model.n_nodes), float(np.sum(model.population))


def load(sweep_dir: Path) -> pd.DataFrame:
    """One row per finished run: ``policy, seed, territory, nodes, population, map`` and the outcomes.

    The population is the summary's ``population`` when it has one, else the total population of
    the territory the run's config builds (built once per territory and scenario).
    """
    sweep_dir = Path(sweep_dir)
    if _stale(sweep_dir):
        collect(sweep_dir, quiet=True)
    runs = pd.read_parquet(sweep_dir / "runs.parquet")
    varying = [k for k in SINGLE if k in runs and runs[k].astype(str).nunique() > 1]
    if varying:
        values = "; ".join(f"{k}: {', '.join(sorted(runs[k].astype(str).unique()))}" for k in varying)
        raise ResolutionError(f"{sweep_dir} mixes runs of different sweeps ({values}); "
                              "analyse one sweep per folder (hydra.sweep.dir=...)")
    cache: dict[str, tuple[int, float]] = {}
    rows = []
    for _, r in runs.iterrows():
        summary = json.loads((sweep_dir / r["run"] / "summary.json").read_text(encoding="utf-8"))
        config = summary["config"]
        key = json.dumps([config.get("territory"), config.get("scenario")], sort_keys=True)
        if key not in cache:
            cache[key] = _territory_of(config)
        nodes, population = cache[key]
        population = float(summary.get("population", population))
        rows.append({"run": r["run"], "policy": r["policy"], "seed": int(r["seed"]), "territory": r["territory"],
                     "nodes": nodes, "population": population,
                     "homicide_rate": float(r["homicide_rate_last_year"]),
                     "members_per_100k": float(r["members"]) / population * 1e5,
                     "groups_active": float(r["groups_active"]), "effective_groups": float(r["effective_groups"])})
    return with_maps(pd.DataFrame(rows))


def with_maps(runs: pd.DataFrame) -> pd.DataFrame:
    """Add the ``map`` label (territory and its size) to a per-run table, ordered by territory then size."""
    runs = runs.sort_values(["territory", "nodes", "policy", "seed"]).reset_index(drop=True)
    labels = runs["territory"] + " (" + runs["nodes"].map(lambda n: f"{n:,}") + " nodes)"
    order = list(dict.fromkeys(labels))
    return runs.assign(map=pd.Categorical(labels, categories=order, ordered=True))


# --------------------------------------------------------------------------------------------------
# The table and the checks
# --------------------------------------------------------------------------------------------------
def t_interval(values) -> tuple[float, float, float, int]:
    """Mean and its 95% t-interval across seeds: (mean, low, high, n); no interval for n < 2."""
    x = np.asarray(values, dtype=float)
    n = len(x)
    mean = float(x.mean()) if n else float("nan")
    if n < 2:
        return mean, float("nan"), float("nan"), n
    half = float(stats.t.ppf(0.975, n - 1) * x.std(ddof=1) / np.sqrt(n))
    return mean, mean - half, mean + half, n


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per preset and map: ``seeds`` and, per outcome, ``_mean``, ``_ci_low``, ``_ci_high``."""
    if "map" not in runs:
        runs = with_maps(runs)
    policies = ordered(runs["policy"])
    rows = []
    for (mp, policy), part in runs.groupby(["map", "policy"], observed=True, sort=False):
        first = part.iloc[0]
        row = {"policy": policy, "map": mp, "territory": first["territory"], "nodes": int(first["nodes"]),
               "population": float(first["population"]), "seeds": part["seed"].nunique()}
        for col in OUTCOMES:
            row[f"{col}_mean"], row[f"{col}_ci_low"], row[f"{col}_ci_high"], _ = t_interval(part[col])
        rows.append(row)
    table = pd.DataFrame(rows)
    table["map"] = pd.Categorical(table["map"], categories=runs["map"].cat.categories, ordered=True)
    table["policy"] = pd.Categorical(table["policy"], categories=policies, ordered=True)
    return table.sort_values(["policy", "map"]).reset_index(drop=True)


def ranking(table: pd.DataFrame, outcome: str) -> dict[str, list[str]]:
    """Per map, the presets ordered by the mean of ``outcome``, highest first."""
    out = {}
    for mp, part in table.groupby("map", observed=True, sort=True):
        part = part.sort_values(f"{outcome}_mean", ascending=False, kind="stable")
        out[str(mp)] = [str(p) for p in part["policy"]]
    return out


@dataclass
class Check:
    name: str
    passed: bool
    lines: list[str] = field(default_factory=list)  # the numbers behind the verdict

    @property
    def verdict(self) -> str:
        return f"{'PASS' if self.passed else 'FAIL'}: {self.name}"


def check_ranking(table: pd.DataFrame, outcome: str, label: str) -> Check:
    """(a) The presets in the same order of ``outcome`` (mean, highest first) on every map."""
    orders = ranking(table, outcome)
    passed = len({tuple(o) for o in orders.values()}) == 1
    lines = []
    for mp, order in orders.items():
        part = table[table["map"] == mp].set_index("policy", drop=False)
        cells = [f"{p} {part.loc[p, f'{outcome}_mean']:,.2f}" for p in order]
        lines.append(f"{mp}: " + " > ".join(cells))
    lines += _swapped_pairs(table, outcome)
    return Check(f"ranking by {label} (highest first) is the same on all {len(orders)} maps", passed, lines)


def _swapped_pairs(table: pd.DataFrame, outcome: str) -> list[str]:
    """The pairs of presets whose order differs between maps, and on how many maps their 95%
    intervals overlap (overlapping: the seeds cannot tell the two apart there)."""
    lines = []
    policies = [str(p) for p in table["policy"].cat.categories if p in set(table["policy"])]
    by = {(str(r.policy), str(r.map)): r for r in table.itertuples()}
    maps = [str(m) for m in table["map"].cat.categories if m in set(table["map"])]
    for i, p in enumerate(policies):
        for q in policies[i + 1:]:
            signs, overlap, known = set(), 0, 0
            for mp in maps:
                a, b = by[(p, mp)], by[(q, mp)]
                signs.add(np.sign(getattr(a, f"{outcome}_mean") - getattr(b, f"{outcome}_mean")))
                lo_a, hi_a = getattr(a, f"{outcome}_ci_low"), getattr(a, f"{outcome}_ci_high")
                lo_b, hi_b = getattr(b, f"{outcome}_ci_low"), getattr(b, f"{outcome}_ci_high")
                if not np.isnan([lo_a, hi_a, lo_b, hi_b]).any():
                    known += 1
                    overlap += bool(lo_a <= hi_b and lo_b <= hi_a)
            if len(signs) > 1:
                note = (f"their 95% intervals overlap on {overlap} of {known} maps" if known
                        else "one seed: no intervals")
                lines.append(f"order of {p} and {q} differs between maps; {note}")
    return lines


def check_spread(table: pd.DataFrame, tolerance: float = TOLERANCE) -> tuple[Check, pd.DataFrame]:
    """(b) Each preset's mean homicide rate: max / min - 1 across maps below ``tolerance``."""
    rows = []
    for policy, part in table.groupby("policy", observed=True, sort=True):
        rates = part.set_index("map")[f"{HOMICIDES}_mean"]
        lo, hi = float(rates.min()), float(rates.max())
        spread = hi / lo - 1 if lo > 0 else float("inf")
        rows.append({"policy": str(policy), "min": lo, "min_map": str(rates.idxmin()), "max": hi,
                     "max_map": str(rates.idxmax()), "spread": spread, "passed": spread < tolerance})
    spreads = pd.DataFrame(rows)
    lines = [f"{r.policy}: {r.min:,.2f} ({r.min_map}) to {r.max:,.2f} ({r.max_map}): max/min - 1 = {r.spread:.3f}"
             f" {'<' if r.passed else '>='} {tolerance:g}" for r in spreads.itertuples()]
    check = Check(f"each preset's homicide rate within a quarter across maps (max/min - 1 < {tolerance:g})",
                  bool(spreads["passed"].all()), lines)
    return check, spreads


def analyse(runs: pd.DataFrame, tolerance: float = TOLERANCE) -> tuple[pd.DataFrame, list[Check]]:
    """The table per preset and map, and the three verdicts: ranking by homicides, ranking by
    fragmentation (effective groups), homicide rates within ``tolerance``."""
    if "map" not in runs:
        runs = with_maps(runs)
    maps = list(runs["map"].cat.categories)
    if len(maps) < 2:
        raise ResolutionError(f"the runs cover {len(maps)} map ({', '.join(map(str, maps))}); "
                              "the resolution checks need at least 2 territories or sizes")
    per_map = runs.groupby("map", observed=True)["policy"].agg(lambda s: frozenset(s))
    if per_map.nunique() > 1:
        shared = frozenset.intersection(*per_map)
        raise ResolutionError("the maps were not run with the same presets (" + "; ".join(
            f"{m}: {', '.join(sorted(p))}" for m, p in per_map.items()) + "); shared: " + (", ".join(sorted(shared))
                                                                                          or "none"))
    table = summarise(runs)
    spread, _ = check_spread(table, tolerance)
    checks = [check_ranking(table, HOMICIDES, "homicide rate"),
              check_ranking(table, FRAGMENTATION, "effective groups (fragmentation)"), spread]
    return table, checks


# --------------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------------
def _cell(row, col: str) -> str:
    mean, lo, hi = row[f"{col}_mean"], row[f"{col}_ci_low"], row[f"{col}_ci_high"]
    fmt = (lambda v: f"{v:,.0f}") if abs(mean) >= 1000 else (lambda v: f"{v:,.2f}" if abs(mean) < 100 else f"{v:,.1f}")
    return f"{fmt(mean)} [{fmt(lo)}, {fmt(hi)}]" if lo == lo else f"{fmt(mean)} [n/a]"


def _seeds(table: pd.DataFrame) -> str:
    seeds = sorted(set(table["seeds"]))
    return f"{'/'.join(map(str, seeds))} seed{'s' if seeds != [1] else ''}"


def markdown(table: pd.DataFrame, checks: list[Check], weeks: int | None = None) -> str:
    head = (f"Mean and 95% t-interval across {_seeds(table)} per preset and map"
            + (f", {weeks} weeks" if weeks else "") + "; homicides over the last 52 weeks, the rest at the end.")
    cols = ["preset", "territory (size)", "seeds", *SHORT.values()]
    lines = [head, "", "| " + " | ".join(cols) + " |", "|" + "|".join(["---"] * 3 + ["---:"] * len(SHORT)) + "|"]
    for _, row in table.iterrows():
        lines.append(f"| {row['policy']} | {row['map']} | {row['seeds']} | "
                     + " | ".join(_cell(row, c) for c in OUTCOMES) + " |")
    lines += ["", "Checks (issue 12): fragmentation is measured by effective groups (1 / Herfindahl of member "
              "shares); the quarter is max / min - 1 of a preset's mean homicide rate across maps.", ""]
    for check in checks:
        lines += [f"- **{'PASS' if check.passed else 'FAIL'}**: {check.name}"]
        lines += [f"  - {line}" for line in check.lines]
    return "\n".join(lines) + "\n"


def figure(table: pd.DataFrame, path: Path) -> list[Path]:
    """One panel per outcome: x = preset, one point per map with its 95% t-interval."""
    policies = list(table["policy"].cat.categories)
    maps = list(table["map"].cat.categories)
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5), constrained_layout=True)
    width = 0.7 / max(len(maps), 1)
    for ax, (col, label) in zip(axes.flat, OUTCOMES.items()):
        for k, mp in enumerate(maps):
            part = table[table["map"] == mp].set_index("policy").reindex(policies)
            x = np.arange(len(policies)) + (k - (len(maps) - 1) / 2) * width
            mean = part[f"{col}_mean"].to_numpy(dtype=float)
            lo, hi = part[f"{col}_ci_low"].to_numpy(dtype=float), part[f"{col}_ci_high"].to_numpy(dtype=float)
            err = np.vstack([mean - lo, hi - mean])
            colour, marker = MAP_STYLES[k % len(MAP_STYLES)]
            ax.errorbar(x, mean, yerr=np.nan_to_num(err), fmt=marker, ms=5, capsize=3, color=colour, label=str(mp))
        ax.set_xticks(range(len(policies)), policies)
        ax.set_xlabel("policy preset")
        ax.set_ylabel(label)
        top = np.nanmax(table[[f"{col}_mean", f"{col}_ci_high"]].to_numpy(dtype=float))
        ax.set_ylim(0, max(top, 1e-9) * 1.08)
        ax.grid(alpha=0.3, axis="y")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, title="territory (size)", loc="outside lower center", ncol=min(len(maps), 4),
               fontsize=9)
    fig.suptitle(f"Presets by map resolution: mean and 95% t-interval across {_seeds(table)}")
    return save(fig, path)


def report(sweep_dir: Path) -> tuple[pd.DataFrame, list[Check], list[Path]]:
    """Load, analyse and write everything; return the table, the checks and the files written."""
    sweep_dir = Path(sweep_dir)
    runs = load(sweep_dir)
    table, checks = analyse(runs)
    weeks = None
    summary_weeks = pd.read_parquet(sweep_dir / "runs.parquet", columns=["weeks"])["weeks"]
    if summary_weeks.nunique() == 1:
        weeks = int(summary_weeks.iloc[0])
    flat = table.assign(policy=table["policy"].astype(str), map=table["map"].astype(str))
    io.write_csv(flat, sweep_dir / "resolution.csv")
    io.write_text(markdown(table, checks, weeks), sweep_dir / "resolution.md")
    written = [sweep_dir / "resolution.csv", sweep_dir / "resolution.md"]
    written += figure(table, sweep_dir / "figures" / "resolution")
    return table, checks, written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sweep_dir", type=Path, help="the folder of an experiment=resolution sweep")
    args = ap.parse_args(argv)
    if not args.sweep_dir.is_dir():
        print(f"error: sweep_dir: no such folder {args.sweep_dir} (allowed: the folder of a finished sweep, "
              "e.g. multirun/resolution)", file=sys.stderr)
        return 2
    try:
        table, checks, written = report(args.sweep_dir)
    except (ResolutionError, RuntimeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(markdown(table, checks))
    print("\n".join(check.verdict for check in checks))
    print("\nWritten:")
    for path in written:
        print(f"  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
