"""Validation: a hindcast from 2007 and pattern checks against published facts.

    python -m experiments.validate [--seeds 6] [--jobs 2] [--out docs/validation]

Runs each check as a small set of runs on shared seeds (common random numbers) and writes
``OUT/validation.md`` with one figure per pattern and a table: the published value, the model's
value (mean ± standard deviation across seeds), the tolerance and whether it is met.

The observed series below are used only here, after the runs: nothing in the model reads them.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from . import build, io
from .figures import save

# INEGI, homicides by year of occurrence (domain-facts.md)
INEGI_HOMICIDES = {2007: 8867, 2008: 14006, 2009: 19803, 2010: 25757, 2011: 27213, 2012: 25967, 2013: 23063,
                   2014: 20010, 2015: 20762, 2016: 24559, 2017: 32079, 2018: 36685, 2019: 36661, 2020: 36773,
                   2021: 35625}
# Number of groups: 4-7 in 2006-07; ~80 in 2011 (Atuesta & Pérez-Dávila 2018); 150-230 in 2019-20 (CIDE, Lantia)
GROUP_COUNTS = {2007: (4, 7), 2011: (70, 90), 2019: (150, 230)}
HINDCAST = ["territory=national", "policy=kingpin", "scenario=mexico_2007", "steps=780"]


@dataclass
class Check:
    fact: str
    source: str
    published: str
    model_mean: float
    model_sd: float
    low: float
    high: float
    unit: str = ""

    @property
    def met(self) -> bool:
        return self.low <= self.model_mean <= self.high

    def row(self) -> str:
        value = f"{self.model_mean:,.3g} ± {self.model_sd:,.2g}{self.unit}"
        return (f"| {self.fact} | {self.published} | {value} | {self.low:,.3g} to {self.high:,.3g}{self.unit} | "
                f"{'yes' if self.met else '**no**'} | {self.source} |")


def _run(overrides: list[str], nodes: bool = False) -> tuple[pd.DataFrame, pd.DataFrame | None, dict]:
    model = build(overrides + (["output.nodes=true"] if nodes else []))
    ts = model.run()
    table = model.node_table() if nodes else None
    extra = {"events": model.events, "population": float(model.population.sum()),
             "neighbours": model.neighbours if nodes else None}
    return ts, table, extra


def run_all(jobs: list[list[str]], n_jobs: int, nodes: bool = False) -> list:
    return Parallel(n_jobs=n_jobs)(delayed(_run)(o, nodes) for o in jobs)


def yearly(ts: pd.DataFrame, column: str, how: str = "sum") -> pd.Series:
    g = ts.groupby((ts["step"] - 1) // 52)[column]
    return g.sum() if how == "sum" else g.last()


# --------------------------------------------------------------------------------------------------
def hindcast(seeds: int, n_jobs: int, out: Path) -> tuple[list[Check], str]:
    results = run_all([HINDCAST + [f"seed={s}"] for s in range(seeds)], n_jobs)
    years = np.array(sorted(INEGI_HOMICIDES))
    hom = np.array([yearly(ts, "homicides").to_numpy()[: len(years)] for ts, _, _ in results])
    groups = np.array([yearly(ts, "groups_active", "last").to_numpy()[: len(years)] for ts, _, _ in results])
    observed = np.array([INEGI_HOMICIDES[y] for y in years])
    mean, sd = hom.mean(axis=0), hom.std(axis=0, ddof=1) if seeds > 1 else np.zeros(len(years))
    half = 1.96 * sd / np.sqrt(seeds)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), constrained_layout=True)
    ax = axes[0]
    ax.plot(years, observed, "k-o", ms=3, label="INEGI (observed)")
    ax.plot(years, mean, color="#d62728", label=f"model, kingpin from 2007 (mean of {seeds} seeds)")
    ax.fill_between(years, mean - half, mean + half, color="#d62728", alpha=0.2, lw=0, label="95% band")
    ax.set_ylabel("homicides per year")
    ax.set_xlabel("year")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend()
    ax = axes[1]
    gm = groups.mean(axis=0)
    ax.plot(years, gm, color="#d62728", label="model (mean across seeds)")
    ax.fill_between(years, groups.min(axis=0), groups.max(axis=0), color="#d62728", alpha=0.2, lw=0,
                    label="range across seeds")
    for year, (lo, hi) in GROUP_COUNTS.items():
        ax.errorbar([year], [(lo + hi) / 2], yerr=[[(hi - lo) / 2]], fmt="ks", capsize=4,
                    label="published counts" if year == 2007 else None)
    ax.set_ylabel("active groups (count)")
    ax.set_xlabel("year")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.suptitle("Hindcast 2007-2021: the model does not read the observed series")
    save(fig, out / "hindcast")
    err = pd.DataFrame({"year": years, "observed": observed, "model_mean": mean.round(0), "model_sd": sd.round(0),
                        "error_%": (100 * (mean / observed - 1)).round(1)})
    io.write_csv(err, out / "hindcast.csv")
    rise = mean[4] / mean[0]
    dip = mean[7] / mean[4]
    second = mean[11] / mean[7]
    mape = float(np.mean(np.abs(mean / observed - 1)) * 100)
    o_rise, o_dip, o_second = observed[4] / observed[0], observed[7] / observed[4], observed[11] / observed[7]
    shape = (f"Observed: rise 2007-2011 x{o_rise:.2f}, dip 2011-2014 x{o_dip:.2f}, second rise 2014-2018 "
             f"x{o_second:.2f}. Model: x{rise:.2f}, x{dip:.2f}, x{second:.2f}. "
             f"Mean absolute error per year {mape:.0f}%.")
    checks = [
        Check("Homicides 2007-2021, mean absolute error per year", "INEGI", "0%", mape, 0, 0, 25, "%"),
        Check("Rise in homicides 2007 to 2011 (ratio)", "INEGI", f"x{o_rise:.2f}", rise, 0, 2.0, 4.0),
        Check("Homicides 2011 to 2014 (ratio; a dip is < 1)", "INEGI", f"x{o_dip:.2f}", dip, 0, 0.6, 0.95),
        Check("Second rise 2014 to 2018 (ratio)", "INEGI", f"x{o_second:.2f}", second, 0, 1.3, 2.5),
        Check("Groups at the end of 2007", "Atuesta & Pérez-Dávila 2018", "4-7", gm[0], groups[:, 0].std(), 4, 10),
        Check("Groups in 2011", "Atuesta & Pérez-Dávila 2018", "about 80", gm[4], groups[:, 4].std(), 50, 110),
        Check("Groups in 2019", "CIDE; Lantia; Crisis Group", "150-230", gm[12], groups[:, 12].std(), 150, 230),
    ]
    last = [ts[(ts["step"] > 780 - 52)] for ts, _, _ in results]
    checks += [
        Check("Members around 2021", "Prieto-Curiel et al. 2023", "~175,000 (160-185k)",
              np.mean([x["members"].iloc[-1] for x in last]), np.std([x["members"].iloc[-1] for x in last]),
              160_000, 185_000),
        Check("Gross recruitment per week (last year)", "Prieto-Curiel et al. 2023", "350-440",
              np.mean([x["recruits"].mean() for x in last]), np.std([x["recruits"].mean() for x in last]), 350, 440),
        Check("Members killed per week (last year)", "Prieto-Curiel et al. 2023", "~120",
              np.mean([x["homicides_members"].mean() for x in last]),
              np.std([x["homicides_members"].mean() for x in last]), 90, 150),
        Check("Members arrested per week (last year)", "Prieto-Curiel et al. 2023", "~110",
              np.mean([x["members_arrested"].mean() for x in last]),
              np.std([x["members_arrested"].mean() for x in last]), 80, 140),
        Check("Largest group's share of members", "Prieto-Curiel et al. 2023", "16-18%",
              100 * np.mean([x["largest_group_share"].iloc[-1] for x in last]),
              100 * np.std([x["largest_group_share"].iloc[-1] for x in last]), 14, 20, "%"),
        Check("Ten largest groups' share of members", "Prieto-Curiel et al. 2023", "~50%",
              100 * np.mean([x["top10_group_share"].iloc[-1] for x in last]),
              100 * np.std([x["top10_group_share"].iloc[-1] for x in last]), 40, 60, "%"),
        Check("Homicide impunity", "Impunidad Cero 2016-2021", "90-95%",
              100 * np.mean([x["impunity"].iloc[-1] for x in last]),
              100 * np.std([x["impunity"].iloc[-1] for x in last]), 90, 95, "%"),
    ]
    return checks, shape


def leader_removal(seeds: int, n_jobs: int, out: Path) -> list[Check]:
    """Removing the largest group's leader in week 52 against no removal, same seeds, 26 weeks after."""
    base = ["territory=national", "policy=none", "steps=78"]
    iv = "interventions=[{kind:remove_leader,group:largest,at_step:52,mode:capture}]"
    jobs = [base + [f"seed={s}", iv] for s in range(seeds)] + [base + [f"seed={s}"] for s in range(seeds)]
    res = run_all(jobs, n_jobs, nodes=True)
    effects = {"plazas": [], "neighbours": []}
    curves = {"plazas": [], "neighbours": [], "plazas0": [], "neighbours0": []}
    for s in range(seeds):
        (_, nt, extra), (_, nt0, _) = res[s], res[seeds + s]
        event = next(e for e in extra["events"] if e["kind"] == "remove_leader")
        plazas = set(event["plazas"])
        near = {k for j in plazas for k in extra["neighbours"][j]} - plazas
        for key, members in (("plazas", plazas), ("neighbours", near)):
            a, b = _after(nt, members), _after(nt0, members)
            effects[key].append(100 * (a.sum() / max(b.sum(), 1) - 1))
            curves[key].append(a.to_numpy())
            curves[key + "0"].append(b.to_numpy())
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    for ax, key, title in zip(axes, ("plazas", "neighbours"), ("removed leader's plazas", "neighbouring plazas")):
        weeks = np.arange(1, 27)
        ax.plot(weeks, np.mean(curves[key + "0"], axis=0), color="#7f7f7f", label="no removal")
        ax.plot(weeks, np.mean(curves[key], axis=0), color="#d62728", label="removal in week 0")
        ax.set_title(f"{title}: {np.mean(effects[key]):+.0f}% over 26 weeks")
        ax.set_xlabel("weeks after the removal")
        ax.set_ylabel("homicides per week (mean across seeds)")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend()
    save(fig, out / "leader_removal")
    return [Check("Homicides in the removed leader's plazas, 6 months after", "Calderón et al. 2015", "+36.5%",
                  np.mean(effects["plazas"]), np.std(effects["plazas"]), 15, 60, "%"),
            Check("Homicides in neighbouring plazas, 6 months after", "Calderón et al. 2015; Osorio 2015",
                  "rise (spreads)", np.mean(effects["neighbours"]), np.std(effects["neighbours"]), 0.1, 100, "%")]


def _after(nodes: pd.DataFrame, members: set, week: int = 52) -> pd.Series:
    """Weekly homicides in ``members`` after ``week``."""
    return nodes[(nodes["step"] > week) & nodes["node"].isin(members)].groupby("step")["homicides"].sum()


def violence_by_groups(seeds: int, n_jobs: int, out: Path) -> list[Check]:
    """Homicide rate of a plaza-week by the number of groups present (one national kingpin run per seed)."""
    res = run_all([["territory=national", "policy=kingpin", "steps=260", f"seed={s}"]
                   for s in range(seeds)], n_jobs, nodes=True)
    rates = []
    for _, nt, _ in res:
        nt = nt[nt["step"] > 52]
        by = nt.assign(k=nt["groups"].clip(upper=4)).groupby("k")["homicides"].mean()
        rates.append(by.reindex([0, 1, 2, 3, 4]).to_numpy())
    rates = np.array(rates)
    mean = np.nanmean(rates, axis=0)
    fig, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
    ax.bar(["0", "1", "2", "3", "4+"], mean, color="#d62728")
    ax.set_xlabel("groups present in the plaza")
    ax.set_ylabel("homicides per plaza-week (mean)")
    ax.set_title("Violence rises with the number of groups present")
    ax.grid(alpha=0.3, axis="y")
    save(fig, out / "violence_by_groups")
    step1, step2 = mean[2] - mean[1], mean[3] - mean[2]
    return [Check("Homicides per plaza-week, contested (2 groups) / held (1 group)", "Atuesta & Ponce 2017",
                  "more groups, more violence", mean[2] / mean[1], np.nanstd(rates[:, 2] / rates[:, 1]), 1.2, 50),
            Check("Third group adds less than the second (diminishing increments)", "Atuesta & Ponce 2017",
                  "increments shrink", step2 / step1 if step1 else np.nan, 0, -1, 1.0)]


def two_arms(res: list, seeds: int, column: str, labels: tuple[str, str], colour: str, ylabel: str, title: str,
             path: Path) -> None:
    """One line per run: the first ``seeds`` runs in grey (``labels[0]``), the rest in ``colour``."""
    fig, ax = plt.subplots(figsize=(7, 4), constrained_layout=True)
    for k, (ts, _, _) in enumerate(res):
        ax.plot(ts["step"] / 52, ts[column], color="#7f7f7f" if k < seeds else colour, alpha=0.6, lw=1)
    ax.plot([], [], color="#7f7f7f", label=labels[0])
    ax.plot([], [], color=colour, label=labels[1])
    ax.set_xlabel("years")
    ax.set_ylabel(ylabel)
    ax.legend()
    ax.grid(alpha=0.3)
    ax.set_title(title)
    save(fig, path)


def prevention(seeds: int, n_jobs: int, out: Path) -> list[Check]:
    base = ["territory=national", "policy=merida", "steps=520"]
    jobs = [base + [f"seed={s}", "policy.prevention_share=0"] for s in range(seeds)]
    jobs += [base + [f"seed={s}", "policy.prevention_share=0.5"] for s in range(seeds)]
    res = run_all(jobs, n_jobs)
    rec0 = np.array([ts["recruits"].sum() for ts, _, _ in res[:seeds]])
    rec1 = np.array([ts["recruits"].sum() for ts, _, _ in res[seeds:]])
    mem0 = np.array([ts["members"].iloc[-1] for ts, _, _ in res[:seeds]])
    mem1 = np.array([ts["members"].iloc[-1] for ts, _, _ in res[seeds:]])
    two_arms(res, seeds, "members", ("prevention share 0", "prevention share 0.5"), "#2ca02c", "members (persons)",
             "Prevention lowers recruitment and, over years, membership", out / "prevention")
    cut = 100 * (1 - rec1 / rec0)
    return [Check("Recruitment cut by half the budget on prevention (10 years)", "Heller 2014; Heller et al. 2017",
                  "cuts (40-50% of participants, 55% take-up)", cut.mean(), cut.std(), 1, 50, "%"),
            Check("Members after 10 years, prevention 0.5 vs 0", "Prieto-Curiel et al. 2023 (recruitment)", "lower",
                  100 * (mem1 / mem0 - 1).mean(), 100 * (mem1 / mem0 - 1).std(), -60, -0.1, "%")]


def guns(seeds: int, n_jobs: int, out: Path) -> list[Check]:
    levels = [50_000, 200_000, 400_000]
    base = ["territory=mexico_states", "policy=kingpin", "steps=260"]
    res = run_all([base + [f"seed={s}", f"scenario.gun_inflow={g}"] for g in levels for s in range(seeds)], n_jobs)
    killed = np.array([ts["homicides_members"].sum() for ts, _, _ in res]).reshape(len(levels), seeds)
    fig, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
    ax.errorbar(levels, killed.mean(axis=1), yerr=killed.std(axis=1), fmt="o-", color="#d62728", capsize=3)
    ax.set_xlabel("guns a year crossing south")
    ax.set_ylabel("members killed in 5 years")
    ax.set_title("More guns, deadlier fights")
    ax.grid(alpha=0.3)
    save(fig, out / "guns")
    ratio = killed[-1] / killed[0]
    return [Check("Members killed, 400k vs 50k guns a year (ratio)", "GAO-16-223; McDougal et al. 2015",
                  "more guns, more deaths", ratio.mean(), ratio.std(), 1.05, 10)]


def kingpin_fragments(seeds: int, n_jobs: int, out: Path) -> list[Check]:
    base = ["territory=national", "steps=260"]
    res = run_all([base + [f"seed={s}", f"policy={p}"] for p in ("none", "kingpin") for s in range(seeds)], n_jobs)
    g0 = np.array([ts["groups_active"].iloc[-1] for ts, _, _ in res[:seeds]])
    g1 = np.array([ts["groups_active"].iloc[-1] for ts, _, _ in res[seeds:]])
    two_arms(res, seeds, "groups_active", ("none", "kingpin"), "#d62728", "active groups (count)",
             "The number of groups grows under a kingpin strategy", out / "kingpin_fragments")
    return [Check("Groups after 5 years, kingpin / none (ratio)", "Atuesta & Pérez-Dávila 2018; Calderón et al. 2015",
                  "kingpin fragments", (g1 / g0).mean(), (g1 / g0).std(), 1.5, 50)]


# --------------------------------------------------------------------------------------------------
def write_report(out: Path, checks: dict[str, list[Check]], shape: str, seeds: int) -> Path:
    lines = ["# Validation report", "",
             f"Generated by `python -m experiments.validate --seeds {seeds}` (`make validate`). Each pattern is a "
             "small set of runs on shared seeds; the model never reads the observed values, which are compared "
             "afterwards. Tolerances are stated per fact; the model value is the mean ± standard deviation across "
             "seeds.", "", "| fact | published | model | tolerance | met | source |", "|---|---|---|---|---|---|"]
    for group in checks.values():
        lines += [c.row() for c in group]
    met = sum(c.met for g in checks.values() for c in g)
    total = sum(len(g) for g in checks.values())
    lines += ["", f"**{met} of {total} checks met.**", "", "## Hindcast 2007-2021", "", "![hindcast](hindcast.png)", "",
              shape + " Yearly errors are in `hindcast.csv`.", ""]
    for name, title in [("leader_removal", "Leader removal"), ("violence_by_groups", "Violence and groups present"),
                        ("prevention", "Prevention"), ("guns", "Guns"), ("kingpin_fragments", "Kingpin strategy")]:
        lines += [f"## {title}", "", f"![{name}]({name}.png)", ""]
    path = out / "validation.md"
    io.write_text("\n".join(lines), path)
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=6)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--out", type=Path, default=Path("docs/validation"))
    args = ap.parse_args(argv)
    if args.seeds < 2:
        print(f"error: invalid value for '--seeds': {args.seeds} (allowed: an integer >= 2)", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    checks: dict[str, list[Check]] = {}
    steps = [("hindcast", None), ("leader_removal", leader_removal), ("violence_by_groups", violence_by_groups),
             ("prevention", prevention), ("guns", guns), ("kingpin_fragments", kingpin_fragments)]
    shape = ""
    for name, fn in steps:
        print(f"validation: {name} ...", flush=True)
        if fn is None:
            checks[name], shape = hindcast(args.seeds, args.jobs, args.out)
        else:
            checks[name] = fn(args.seeds, args.jobs, args.out)
    path = write_report(args.out, checks, shape, args.seeds)
    print(path.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
