# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 03 · Why kingpin strategies fragment cartels
#
# A leader removed **with** an accepted successor leaves the group whole. **Without** one, the
# lieutenants contest the leadership for some weeks; some defect and take a region with them: a
# splinter. Splinters fight their parent and their neighbours. We remove the largest group's leader in
# week 26 and compare with the same seeds without removal (an event study).

# %%
import subprocess
import sys

from IPython.display import Image, display

from experiments import plot
from experiments.notebook import figures_dir

sweep = figures_dir("03_event_study")  # beside this notebook, whatever the working directory
removal = "[],[{kind:remove_leader,group:largest,at_step:26,mode:capture}]"
subprocess.run([sys.executable, "-m", "experiments.run", "experiment=kingpin_event_study", "territory=small",
                "steps=78", "seed=0,1,2", f"interventions={removal}", "cartels.succession_clarity=0",
                "hydra/launcher=basic", f"hydra.sweep.dir={sweep}"], check=True, capture_output=True)

# %% [markdown]
# ## The event study and maps before and after
# `experiments.plot` draws the package's figures for a sweep: homicides in the removed leader's plazas and
# in neighbouring plazas by week relative to the removal, and maps coloured by the controlling group.

# %%
written = plot.plot(sweep, weeks=[20, 40, 78])
for name in ("event_study.png", "territory.png"):
    display(Image(str(sweep / "figures" / name)))

# %% [markdown]
# ## The role of succession clarity
# `cartels.succession_clarity` is the probability that a removed leader has an accepted heir.

# %%
from sim import CartelModel  # noqa: E402

for clarity in (0.0, 1.0):
    splinters = [CartelModel(rng=s, territory="mexico_states", policy="kingpin", steps=156,
                             cartels__succession_clarity=clarity).run()["splinters"].sum() for s in range(3)]
    print(f"succession clarity {clarity}: splinters in 3 years, per seed: {[int(n) for n in splinters]}")

# %% [markdown]
# ## Exercises
# 1. Repeat the event study with `cartels.succession_clarity=1`. What happens in the removed leader's plazas?
# 2. Use `mode:kill` instead of `mode:capture`. Does it matter in this model? Why?
# 3. Look at the maps: where do splinters appear, relative to the removed leader's territory?

# %% [markdown]
# ## The hindcast: Mexico 2007-2021 with its history as input
# Does a model built from these mechanisms reproduce what happened in Mexico? `scenario=mexico_2007`
# starts in the first week of 2007 with the organisations and the population of 2007, and carries a
# **timeline of inputs**: dated changes to the policy, the budget and the forces, each with its source
# (`sim/data/mexico_2007_timeline.csv`, read by `sim.timeline.load_history`). Only inputs change; nothing
# in it reads or fits the homicide series. Rows whose number still needs a source are skipped (listed below).

# %%
import datetime as dt  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from experiments import compose  # noqa: E402
from experiments.validate import CUTOFF, GROUP_COUNTS, INEGI_HOMICIDES  # noqa: E402
from sim.timeline import history_path, load_history  # noqa: E402

history = load_history(str(history_path("mexico_2007")), "mexico_2007")
start = compose(["territory=mexico_states", "scenario=mexico_2007"])
print(f"week 1 starts on {history.start}; {start.cartels.initial_groups} organisations, "
      f"population of {start.scenario.population_year}")
rows = [{"week": w, "date": history.start + dt.timedelta(weeks=w - 1), "input": key, "value": value}
        for w, key, value, _ in history.changes]
print(pd.DataFrame(rows).to_string(index=False))
print(f"{len(history.operations)} joint operations with units; {len(history.skipped)} rows still need a source:")
for line, why in history.skipped:
    print(f"  line {line}: {why}")

# %% [markdown]
# A small run: the 32 states instead of the national map of municipalities, three seeds. The report in
# `docs/validation/` uses the national map, several calibrated parameter sets and more seeds
# (`python -m experiments.validate --help` lists them). The right panel's squares are the published
# counts of groups (`experiments.validate.GROUP_COUNTS`), with their ranges.

# %%
from sim import CartelModel  # noqa: E402

runs = [CartelModel(rng=s, territory="mexico_states", scenario="mexico_2007", policy="kingpin", steps=780).run()
        for s in range(3)]
years = np.arange(2007, 2022)
model_h = np.array([ts.groupby((ts["step"] - 1) // 52)["homicides"].sum().to_numpy()[:15] for ts in runs])
groups = np.array([ts.groupby((ts["step"] - 1) // 52)["groups_active"].last().to_numpy()[:15] for ts in runs])
observed = np.array([INEGI_HOMICIDES[y] for y in years])
fig, axes = plt.subplots(1, 2, figsize=(12, 4), constrained_layout=True)
axes[0].plot(years, observed, "k-o", ms=3, label="INEGI (observed)")
axes[0].plot(years, np.median(model_h, axis=0), color="#d62728", label="model, median of 3 seeds")
axes[0].fill_between(years, model_h.min(axis=0), model_h.max(axis=0), color="#d62728", alpha=0.2, lw=0,
                     label="model, range of 3 seeds")
axes[0].set_ylabel("homicides per year (count)")
axes[1].plot(years, np.median(groups, axis=0), color="#d62728", label="model, median of 3 seeds")
published = list(GROUP_COUNTS.items())
axes[1].errorbar([y for y, _ in published], [(lo + hi) / 2 for _, (lo, hi) in published],
                 yerr=[(hi - lo) / 2 for _, (lo, hi) in published], fmt="ks", capsize=4, label="published counts")
axes[1].set_ylabel("active groups at the end of the year (count)")
for ax in axes:
    ax.axvline(CUTOFF + 0.5, color="#555555", ls="--", lw=1)
    ax.text(CUTOFF + 0.6, 0.97, "calibration cut-off", transform=ax.get_xaxis_transform(), va="top", fontsize=8)
    ax.set_xlabel("year")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ### What the model gets right, and what it misses
# The next cell compares three things and prints its reading of each.
#
# 1. **Shape: the change by period** (homicides in the last year of a period divided by those in its first
#    year; x2.00 means twice as many). Observed homicides rose steeply from 2007 to 2011, fell to 2014, rose
#    again to 2018 and then stayed flat. Does the model rise, turn and rise again in the same periods?
# 2. **Level: model / observed**, year by year. 1.00 is a match; 2.00 means twice the observed count.
# 3. **Groups**: active groups at the end of the year, against the published counts, and whether the
#    model's count ever falls from one year to the next.

# %%
median_h, median_g = np.median(model_h, axis=0), np.median(groups, axis=0)
at = {int(y): i for i, y in enumerate(years)}
print("Homicides per year (model: median of 3 seeds) and groups at the end of the year")
print(pd.DataFrame({"year": years, "model": median_h.round().astype(int), "observed": observed,
                    "model / observed": (median_h / observed).round(2),
                    "groups (model)": median_g.astype(int)}).to_string(index=False))


def trend(x):
    return "rises" if x > 1.05 else "falls" if x < 0.95 else "stays flat"


print("\nChange by period (last year / first year; model: median of 3 seeds)")
for a, b in ((2007, 2011), (2011, 2014), (2014, 2018), (2018, 2021)):
    m = float(np.median(model_h[:, at[b]] / model_h[:, at[a]]))
    o = observed[at[b]] / observed[at[a]]
    if trend(m) != trend(o):
        reading = f"the country {trend(o)}, the model {trend(m)}"
    elif trend(m) == "stays flat":
        reading = "both stay flat"
    else:
        how = "more steeply" if abs(m - 1) > 1.1 * abs(o - 1) else "less steeply" if abs(m - 1) < abs(o - 1) / 1.1 \
            else "about as steeply"
        reading = f"both {'rise' if m > 1 else 'fall'}, the model {how}"
    print(f"{a}->{b}: model x{m:.2f}, observed x{o:.2f}: {reading}")

print("\nLevel (model / observed)")
for name, keep in ((f"up to {CUTOFF}", years <= CUTOFF), (f"after {CUTOFF}", years > CUTOFF)):
    r = median_h[keep] / observed[keep]
    above = years[keep][r > 1.1]
    print(f"{name}: from {r.min():.2f} to {r.max():.2f}; the model overshoots (above 1.10) in "
          f"{len(above)} of {keep.sum()} years" + (f" ({', '.join(str(y) for y in above)})" if len(above) else ""))

print("\nGroups at the end of the year (model: median of 3 seeds)")
for year, (low, high) in GROUP_COUNTS.items():
    g = median_g[at[year]]
    where = "below" if g < low else "above" if g > high else "within"
    print(f"{year}: model {g:.0f}, published {low}-{high}: {where} the published range")
fell = [f"{y - 1}->{y}" for y in years[1:] if median_g[at[y]] < median_g[at[y - 1]]]
print(f"the model's groups fell in {len(fell)} of {len(years) - 1} years" + (f": {', '.join(fell)}" if fell else ""))
first = int(np.median([ts["groups_active"].iloc[0] for ts in runs]))
print(f"groups in week 1: {first}; at the end of {years[-1]}: {median_g[-1]:.0f} (x{median_g[-1] / first:.1f})")

# %% [markdown]
# **What the model gets right, in direction:** the groups start from a handful in 2007 and multiply under
# leadership removal, because removals without an accepted heir split groups (the mechanism of this
# notebook); violence rises as splinters fight over plazas.
#
# **What it misses** (the printed lines say by how much): the groups stay far below the published counts of
# 2011 and 2019; the curve does not have the country's shape; and after the calibration cut-off this run
# (the 32 states, 3 seeds) overshoots, because it keeps rising where the country levelled off. The national
# hindcast of the validation report (`docs/validation/validation.md`, more seeds, the calibrated sets) is
# closer after 2015: read the overshoot as this small run's, not as the model's last word.
# `tests/test_notebooks.py` checks these three readings in the printed lines, so this text fails the tests
# if a change to the model overturns them.
#
# **Why the shape is missed.** The inputs that changed in those years (the budget split of 2014, the funded
# units' turn from leaders to violence in 2019) move the model less than the country moved. The timeline
# rows printed above as needing a source are not applied: gun exports and the cocaine supply keep their
# 2007 values, and the joint operations without a number of units are left out.
#
# Numbers for the national map, with intervals, and which facts are in-sample (calibration targets up to
# 2014) and which out-of-sample, are in `docs/validation/validation.md` (`make validate`).
#
# **Exercise 4.** Which input of the timeline would you change first to produce the dip of 2011-2014?
# Try it with a `timeline=[{at_step: ..., set: {...}}]` override and compare the ratios printed above.
