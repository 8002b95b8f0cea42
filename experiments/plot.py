"""Figures and a table of policy effects for a collected sweep.

    python -m experiments.plot SWEEP_DIR [--weeks 1,104,208]
    python -m experiments.plot RUN_DIR              # one run: its weekly outcomes (and maps with nodes)

A folder that is neither one sweep nor one run is refused with one line (``experiments.folders``);
sweeps are never mixed.

Collects the sweep first if ``results.parquet`` is missing or older than a run. Writes into
``SWEEP_DIR/figures/`` (PNG and PDF), each when the sweep has what it needs:

- ``timeseries``: weekly outcomes per policy (or per swept value) with 95% bands across seeds;
- ``distributions``: end-of-horizon homicides, groups and effective groups per policy, one dot a seed
  (boxes from FEW_SEEDS seeds up; below, the mean and the few-seeds note);
- ``frontier``: prevention share by budget, coloured by homicides and by effective groups;
- ``event_study``: homicides in the removed leader's plazas and in neighbouring plazas by week
  relative to the removal, against the runs without removal on the same seeds;
- ``territory``: maps of one run (named in the title) at chosen weeks coloured by the group controlling
  each plaza, one dot-size scale and size key (homicides per week) for all the maps.

Prints, and writes as ``SWEEP_DIR/effects.csv``, the effect of each policy against a reference
(``none`` if swept) on end-of-run outcomes: mean paired difference across shared seeds and its 95%
bootstrap confidence interval.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim import CartelModel

from . import io
from .collect import collect
from .figures import (
    FEW_SEEDS,
    FewSeedsWarning,
    colour_of,
    draw_territory,
    few_seeds_text,
    mean_band,
    note_few_seeds,
    ordered,
    policy_timeseries,
    ranked_colours,
    run_timeseries,
    save,
    size_key,
)
from .folders import NotARunOrSweep, classify
from .store import check_run

OUTCOMES = {"homicides_last_year": "homicides in the last year", "members": "members (persons)",
            "groups_active": "active groups (count)", "effective_groups": "effective groups"}
DISTRIBUTION_LABELS = {"homicides_last_year": "homicides in the last year (count)",
                       "groups_active": "active groups at the end (count)",
                       "effective_groups": "effective groups at the end\n(1 / Herfindahl of member shares)"}
NOT_KEYS = {"run", "seed"}
BOOTSTRAP = 2000


def swept(runs: pd.DataFrame) -> list[str]:
    """Key columns that take more than one value (the sweep's axes, seed excluded)."""
    key_cols = [c for c in runs.columns if c not in NOT_KEYS and (c in ("policy", "scenario", "territory") or "." in c
                                                                 or c in ("interventions", "steps"))]
    return [c for c in key_cols if runs[c].astype(str).nunique() > 1]


def main_axis(axes: list[str]) -> str:
    for key in ("policy", "interventions", "scenario.gun_inflow", "policy.prevention_share"):
        if key in axes:
            return key
    return axes[0] if axes else "policy"


def intervention_label(value: str) -> str:
    """A short name for a list of interventions (as stored in runs.parquet)."""
    events = json.loads(value) if isinstance(value, str) else value
    if not events:
        return "no removal"
    return "; ".join(f"{e.get('kind', '?').replace('_', ' ')} wk {e.get('at_step')} ({e.get('mode', '')})"
                     for e in events)


# --------------------------------------------------------------------------------------------------
def distributions(runs: pd.DataFrame, by: str, path: Path) -> list[Path]:
    """End-of-run outcomes per value of ``by``, one dot per seed; a box only over FEW_SEEDS or more dots.

    With fewer seeds a box (quartiles from two or three values) means nothing: the dots and their
    mean (a black bar) are drawn alone and the figure carries the few-seeds note.
    """
    cols = ["homicides_last_year", "groups_active", "effective_groups"]
    fig, axes = plt.subplots(1, 3, figsize=(12, 4.4), constrained_layout=True)
    levels = ordered(runs[by])
    rng = np.random.default_rng(0)
    n_min = int(min(int((runs[by] == level).sum()) for level in levels))
    for ax, col in zip(axes, cols):
        data = [runs.loc[runs[by] == level, col].dropna().to_numpy() for level in levels]
        boxed = [k + 1 for k, values in enumerate(data) if len(values) >= FEW_SEEDS]
        if boxed:
            ax.boxplot([data[k - 1] for k in boxed], positions=boxed, showfliers=False, widths=0.5)
        for k, values in enumerate(data):
            ax.scatter(k + 1 + rng.uniform(-0.12, 0.12, len(values)), values, s=14 if boxed else 22, alpha=0.8,
                       color=colour_of(levels[k], k), zorder=3)
            if len(values) and k + 1 not in boxed:
                ax.hlines(values.mean(), k + 0.7, k + 1.3, color="k", lw=1.2, zorder=4, gid="mean-bar")
        ax.set_xticks(range(1, len(levels) + 1), [str(v) for v in levels], rotation=20)
        ax.set_xlim(0.4, len(levels) + 0.6)
        ax.set_ylabel(DISTRIBUTION_LABELS.get(col, OUTCOMES.get(col, col)))
        ax.set_xlabel(by)
        ax.grid(alpha=0.3, axis="y")
    shape = "boxes: quartiles, orange line: median; " if n_min >= FEW_SEEDS else ("black bar: mean; boxes only with "
                                                             f"{FEW_SEEDS}+ seeds; ")
    fig.suptitle(f"End-of-run outcomes by {by} (one dot per seed, {n_min} seeds per {by} at least; "
                 f"{shape}colour: {by})")
    note_few_seeds(fig, n_min, what="spreads of the dots")
    return save(fig, path)


def frontier(runs: pd.DataFrame, path: Path) -> list[Path]:
    share, budget = "policy.prevention_share", "policy.budget_musd"
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    for ax, (col, label) in zip(axes, [("homicides_last_year", "homicides in the last year"),
                                       ("effective_groups", "effective groups at the end")]):
        grid = runs.pivot_table(index=budget, columns=share, values=col, aggfunc="mean").sort_index()
        im = ax.imshow(grid.to_numpy(), aspect="auto", origin="lower", cmap="magma_r")
        ax.set_xticks(range(grid.shape[1]), [f"{v:.2g}" for v in grid.columns])
        ax.set_yticks(range(grid.shape[0]), [f"{v:g}" for v in grid.index])
        ax.set_xlabel("prevention share of the budget")
        ax.set_ylabel("budget (US$ M a year)")
        for (i, j), v in np.ndenumerate(grid.to_numpy()):
            text = f"{v:,.0f}" if v >= 100 else f"{v:.1f}"
            r, g, b, _ = im.cmap(im.norm(v))
            dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5  # white on dark cells, black on light ones
            ax.text(j, i, text, ha="center", va="center", fontsize=8, color="white" if dark else "black")
        fig.colorbar(im, ax=ax, label=f"{label} (mean across seeds)")
    fig.suptitle("Budget frontier")
    return save(fig, path)


def _territory(summary: dict):
    cfg = dict(summary["config"], steps=1, interventions=[], output={"nodes": False})
    return CartelModel.from_config(cfg).territory


def event_study(sweep_dir: Path, runs: pd.DataFrame, path: Path) -> tuple[list[Path], pd.DataFrame]:
    """Weekly homicides around the removal, removal runs against no-removal runs on the same seeds."""
    treated = runs[runs["interventions"] != "no removal"]
    control = runs[runs["interventions"] == "no removal"].set_index("seed")
    rows = []
    for _, t in treated.iterrows():
        if t["seed"] not in control.index:
            continue
        summary = json.loads((sweep_dir / t["run"] / "summary.json").read_text())
        event = next((e for e in summary["interventions"] if e.get("fired") and e["kind"] == "remove_leader"), None)
        if event is None:
            continue
        graph = _territory(summary)
        plazas = set(event["plazas"])
        near = {k for j in plazas for k in graph.neighbors(j)} - plazas
        for arm, run in (("removal", t["run"]), ("no removal", control.loc[t["seed"], "run"])):
            nodes = pd.read_parquet(sweep_dir / run / "nodes.parquet", columns=["step", "node", "homicides"])
            for place, members in (("removed leader's plazas", plazas), ("neighbouring plazas", near)):
                weekly = nodes[nodes["node"].isin(members)].groupby("step")["homicides"].sum()
                rows.append(pd.DataFrame({"seed": t["seed"], "arm": arm, "place": place,
                                          "week": weekly.index - event["at_step"], "homicides": weekly.to_numpy()}))
    data = pd.concat(rows, ignore_index=True)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), constrained_layout=True, sharex=True)
    for ax, place in zip(axes, ["removed leader's plazas", "neighbouring plazas"]):
        band = mean_band(data[data["place"] == place], "homicides", by="arm", at="week")
        for arm, colour in (("no removal", "#7f7f7f"), ("removal", "#d62728")):
            part = band[band["arm"] == arm]
            smooth = lambda s: s.rolling(4, min_periods=1).mean()  # noqa: E731  (trailing: no look-ahead)
            ax.plot(part["week"], smooth(part["mean"]), color=colour, label=arm)
            ax.fill_between(part["week"], smooth(part["lo"]), smooth(part["hi"]), color=colour, alpha=0.2, lw=0)
        ax.axvline(0, color="k", lw=0.8, ls="--")
        ax.set_title(place)
        ax.set_xlabel("weeks relative to the leader's removal")
        ax.set_ylabel("homicides per week (4-week mean)")
        ax.grid(alpha=0.3)
        ax.set_ylim(bottom=0)
    axes[0].legend()
    n = data["seed"].nunique()
    fig.suptitle(f"Leader removal event study: mean and 95% band across {n} paired seeds")
    note_few_seeds(fig, n, unit="paired seed")
    weeks = int(min(26, data["week"].max()))
    after = data[(data["week"] > 0) & (data["week"] <= weeks)].groupby(["place", "arm"])["homicides"].sum().unstack()
    after["change_%"] = 100 * (after["removal"] / after["no removal"] - 1)
    table = after.reset_index()
    table.attrs["weeks"] = weeks
    return save(fig, path), table


def run_label(summary: dict) -> str:
    """Which run this is, for a title: policy, seed, territory and scenario, then its other overrides."""
    cfg = summary.get("config", {})
    name = lambda key: cfg[key].get("name", "?") if isinstance(cfg.get(key), dict) else cfg.get(key, "?")  # noqa: E731
    named = {"policy": name("policy"), "seed": summary.get("seed", cfg.get("seed", "?")),
             "territory": name("territory"), "scenario": name("scenario")}
    others = [o for o in summary.get("overrides", [])
              if o.split("=", 1)[0].lstrip("+~") not in named and not o.startswith(("output.", "hydra"))]
    return ", ".join(f"{k} {v}" for k, v in named.items()) + ("; " + ", ".join(others) if others else "")


def territory_maps(sweep_dir: Path, run: str, weeks: list[int], path: Path, which: str = "") -> list[Path]:
    """Maps of one run at ``weeks``: one dot-size scale and one colour per group for all of them.

    ``which``: how this run was chosen among others (for a sweep), appended to the title.
    """
    summary = json.loads((sweep_dir / run / "summary.json").read_text())
    graph = _territory(summary)
    nodes = pd.read_parquet(sweep_dir / run / "nodes.parquet")
    last = int(nodes["step"].max())
    weeks = [w for w in weeks if 1 <= w <= last] or [1, last]
    snaps = [nodes[nodes["step"] == week].sort_values("node") for week in weeks]
    scale = float(max(snap["homicides"].max() for snap in snaps))  # the same dot for the same homicides
    colours = ranked_colours([snap["controller"].to_numpy() for snap in snaps])
    fig, axes = plt.subplots(1, len(weeks), figsize=(4.9 * len(weeks), 5.2), constrained_layout=True, squeeze=False)
    for ax, week, snap in zip(axes[0], weeks, snaps):
        ctrl = snap["controller"].to_numpy()
        groups = len(set(ctrl[ctrl >= 0].tolist()))
        draw_territory(ax, graph, ctrl, snap["homicides"].to_numpy(), snap["groups"].to_numpy(),
                       f"week {week}: {groups} groups hold plazas", scale=scale, colours=colours)
    size_key(fig, scale, graph.number_of_nodes())
    fig.suptitle(f"Plazas coloured by controlling group, by rank of plazas held (a group keeps its colour "
                 f"across the maps)\nrun: {run_label(summary)}" + (f" ({which})" if which else ""), fontsize=10)
    return save(fig, path)


def effects(runs: pd.DataFrame, by: str, reference: str | None = None, seed: int = 0) -> pd.DataFrame:
    """Mean paired difference (level - reference) across shared seeds, with a 95% bootstrap interval.

    ``pairs`` is the number of seeds both arms share; with fewer than two pairs there is no interval
    (``ci_low``, ``ci_high`` are NaN), and ``note`` says ``few pairs`` below FEW_SEEDS.
    """
    levels = ordered(runs[by])
    reference = reference if reference is not None else ("none" if "none" in levels else levels[0])
    others = [c for c in swept(runs) if c != by]
    rng = np.random.default_rng(seed)
    rows = []
    for context, part in (runs.groupby(others) if others else [((), runs)]):
        ref = part[part[by] == reference].set_index("seed")
        for level in levels:
            if level == reference:
                continue
            cur = part[part[by] == level].set_index("seed")
            shared = ref.index.intersection(cur.index)
            for col in OUTCOMES:
                if col not in part or not len(shared):
                    continue
                diff = (cur.loc[shared, col] - ref.loc[shared, col]).to_numpy(dtype=float)
                boots = rng.choice(diff, size=(BOOTSTRAP, len(diff)), replace=True).mean(axis=1)
                lo, hi = (np.percentile(boots, 2.5), np.percentile(boots, 97.5)) if len(diff) > 1 else (np.nan,) * 2
                row = dict(zip(others, context if isinstance(context, tuple) else (context,)))
                row.update({by: level, "reference": reference, "outcome": col, "pairs": len(shared),
                            "reference_mean": ref.loc[shared, col].mean(), "effect": diff.mean(),
                            "ci_low": lo, "ci_high": hi, "note": "few pairs" if len(shared) < FEW_SEEDS else ""})
                rows.append(row)
    return pd.DataFrame(rows)


def _stale(sweep_dir: Path) -> bool:
    results = sweep_dir / "results.parquet"
    if not results.exists() or not (sweep_dir / "runs.parquet").exists():
        return True
    newest = max((p.stat().st_mtime for p in sweep_dir.rglob("summary.json")), default=0)
    return newest > results.stat().st_mtime


def plot(sweep_dir: Path, weeks: list[int] | None = None) -> list[Path]:
    """Draw every figure the sweep supports; return the files written."""
    sweep_dir = Path(sweep_dir)
    if _stale(sweep_dir):
        collect(sweep_dir)
    runs = pd.read_parquet(sweep_dir / "runs.parquet")
    axes = swept(runs)
    by = main_axis(axes)
    out = sweep_dir / "figures"
    written: list[Path] = []
    cols = [c for c in dict.fromkeys([by, *axes]) if c in runs]
    results = pd.read_parquet(sweep_dir / "results.parquet", columns=[*cols, "seed", "step", "run", *[p for p in
                              ("homicides", "members", "groups_active", "effective_groups")]])
    if "interventions" in cols:
        results["interventions"] = results["interventions"].map(intervention_label)
        runs = runs.assign(interventions=runs["interventions"].map(intervention_label))
    keyed = runs.copy()  # the runs with their swept keys only, for the effects table
    line = by
    if len(axes) > 1:  # one line per combination of the swept values, not an average across them
        line = " / ".join(axes)
        for table in (results, runs):
            table[line] = table[axes].astype(str).agg(" / ".join, axis=1)
    written += policy_timeseries(results, out / "timeseries", by=line)
    written += distributions(runs, line, out / "distributions")
    if {"policy.prevention_share", "policy.budget_musd"} <= set(axes):
        written += frontier(runs, out / "frontier")
    with_nodes = [r for r in runs["run"] if (sweep_dir / r / "nodes.parquet").exists()]
    if "interventions" in axes and with_nodes:
        files, change = event_study(sweep_dir, runs, out / "event_study")
        written += files
        io.write_csv(change, sweep_dir / "event_study.csv")
        print(f"Homicides in the {int(change.attrs.get('weeks', 26))} weeks after the removal, summed over seeds:")
        print(change.to_string(index=False, float_format=lambda v: f"{v:,.1f}"))
    if with_nodes:
        labels = runs.set_index("run").get("interventions", pd.Series(dtype=str))
        treated = [r for r in with_nodes if str(labels.get(r, "no removal")) != "no removal"]
        run = (treated or with_nodes)[0]
        last = int(runs.set_index("run").loc[run, "weeks"])
        which = ""
        if len(with_nodes) > 1:
            which = (f"the first of {len(treated)} runs with a removal, among {len(with_nodes)} with node output"
                     if treated else f"the first of {len(with_nodes)} runs with node output")
        written += territory_maps(sweep_dir, run, weeks or [1, last // 2, last], out / "territory", which)
    seeds = int(results.groupby(line)["seed"].nunique().min())
    print(f"timeseries: 95% bands across {seeds} seeds per line (n = {seeds})")
    table = effects(keyed, by)
    if not table.empty:
        io.write_csv(table, sweep_dir / "effects.csv")
        pairs = int(table["pairs"].min())
        note = " (one pair: no interval)" if table["pairs"].max() < 2 else ""
        reference = table["reference"].iloc[0]
        reference = reference.item() if hasattr(reference, "item") else reference  # a numpy scalar prints as np.float64(0.0)
        print(f"\nEffects against {by} = {reference!r} (paired by seed; 95% bootstrap interval over "
              f"`pairs` seeds){note}:")
        print(table.to_string(index=False, float_format=lambda v: f"{v:,.1f}", na_rep="n/a"))
        text = few_seeds_text(pairs, "bootstrap intervals", unit="pair")
        if text:
            warnings.warn(text, FewSeedsWarning, stacklevel=2)
    return written


def plot_run(run_dir: Path, weeks: list[int] | None = None) -> list[Path]:
    """Figures of one run: its weekly outcomes, and territory maps when it wrote nodes.parquet."""
    run_dir = Path(run_dir)
    status = check_run(run_dir)
    if not status.finished:
        raise RuntimeError(f"{run_dir} is not a finished run ({status.reason})")
    summary = status.summary
    title = f"One run: {run_label(summary)} (one seed: no band)"
    ts = pd.read_parquet(run_dir / "timeseries.parquet")
    out = run_dir / "figures"
    written = run_timeseries(ts, out / "timeseries", title)
    if (run_dir / "nodes.parquet").exists():
        last = int(summary["weeks"])
        written += territory_maps(run_dir.parent, run_dir.name, weeks or [1, last // 2, last], out / "territory")
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sweep_dir", type=Path, metavar="SWEEP_DIR", help="a sweep folder, or one run's folder")
    ap.add_argument("--weeks", default="", help="weeks for the territory maps, e.g. 1,104,208")
    args = ap.parse_args(argv)
    warnings.showwarning = lambda message, *a, **k: print(f"warning: {message}", file=sys.stderr)
    try:
        folder = classify(args.sweep_dir)
    except NotARunOrSweep as err:
        if all((args.sweep_dir / name).is_file() for name in ("comparison.csv", "timeseries.parquet", "runs.csv")):
            err = (f"{args.sweep_dir} is the output of python -m experiments.compare (make run), not a run or a "
                   f"sweep; redraw its figure with: python -m experiments.compare --replot --out {args.sweep_dir}")
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:
        weeks = [int(w) for w in args.weeks.split(",") if w.strip()]
    except ValueError:
        print(f"error: invalid value for '--weeks': {args.weeks!r} (allowed: comma-separated week numbers)",
              file=sys.stderr)
        return 2
    try:
        draw = plot_run if folder.kind == "run" else plot
        written = draw(args.sweep_dir, weeks or None)
    except RuntimeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print("\nWritten:")
    for path in written:
        print(f"  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
