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
# # 01 · A first simulation
#
# cartelsim simulates trafficking groups ("cartels") on a map of Mexico. Each week, **middle operators**
# hold plazas (places) with cells of members, recruit young people from the local **community**, buy guns
# that cross the border, and fight rival groups for neighbouring plazas. **Leaders** bribe officials and
# order expansion; **police** units arrest; **courts** try the arrested. When a leader is removed and has
# no accepted successor, his lieutenants may split off and found **splinter** groups.
#
# In this notebook you run one model, plot violence and fragmentation, and read the files a run writes.

# %%
import matplotlib.pyplot as plt

from experiments import compose, simulate

# %% [markdown]
# ## One run
# `simulate` takes the same overrides as the command line (`python -m experiments.run ...`) and returns
# one row per simulated week. Here: Mexico's 32 states, the kingpin-focused budget, five years.

# %%
ts = simulate(["territory=mexico_states", "policy=kingpin", "steps=260", "seed=1"])
ts[["step", "homicides", "members", "groups_active", "effective_groups", "splinters"]].tail()

# %% [markdown]
# ## Violence and fragmentation over time
# Homicides per week are noisy, so we show a 13-week average scaled to a year. The number of groups
# counts every group holding at least one plaza; *effective groups* (1 / Herfindahl index of member
# shares) counts how many groups of equal size would give the same concentration.

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
years = ts["step"] / 52
axes[0].plot(years, ts["homicides"].rolling(13, min_periods=1).mean() * 52)
axes[0].set_xlabel("years since start")
axes[0].set_ylabel("homicides per year (13-week mean x 52)")
axes[1].plot(years, ts["groups_active"], label="groups")
axes[1].plot(years, ts["effective_groups"], label="effective groups")
axes[1].set_xlabel("years since start")
axes[1].set_ylabel("count")
axes[1].legend()
for ax in axes:
    ax.grid(alpha=0.3)
plt.show()

# %% [markdown]
# Under the kingpin budget, police go after leaders. Each removal without an accepted successor can
# split a group (a *splinter*), so the count of groups can grow; and more groups contest more plazas,
# where rival groups fight. The table checks this in the run above, year by year: splinters founded,
# groups at the end of the year, plazas contested in an average week, and homicides. The last lines say
# whether the groups grew and how closely homicides followed the contested plazas in this run.

# %%
yearly = ts.groupby((ts["step"] - 1) // 52 + 1).agg(
    splinters=("splinters", "sum"), groups_at_end=("groups_active", "last"),
    contested_plazas=("contested_plazas", "mean"), homicides=("homicides", "sum"))
yearly.index.name = "year"
print(yearly.round(1).to_string())
first, last = int(ts["groups_active"].iloc[0]), int(ts["groups_active"].iloc[-1])
print(f"groups: {first} in week 1, {last} in week {int(ts['step'].iloc[-1])} "
      f"({'grew' if last > first else 'did not grow'})")
r = yearly["homicides"].corr(yearly["contested_plazas"])
print(f"correlation of yearly homicides with contested plazas: {r:.2f} (1: they move together)")

# %% [markdown]
# ## What a run writes
# The command line writes `timeseries.parquet` (the table above), `summary.json` (end-of-run
# outcomes, the seed and the full config) and, with `output.nodes=true`, `nodes.parquet`
# (one row per plaza per week). The config the command line would use is returned by `compose`:

# %%
cfg = compose(["territory=mexico_states", "policy=kingpin"])
print(cfg.policy)

# %% [markdown]
# `prevention_share: -1.0` means "not used": the four `shares` apply as written. A value in [0, 1]
# (used by the budget-frontier sweep) sets the prevention share and rescales the other three pillars
# so they keep their mix. Every key of `summary.json`, with its unit, is listed in the README
# ("Reading the outputs").

# %% [markdown]
# ## Exercises
# 1. Run the same model with `policy=prevention`. Which ends with more groups after five years?
# 2. Change `cartels.succession_clarity` to 0.9 (leaders usually have an accepted heir). What happens
#    to the number of splinters (`ts["splinters"].sum()`)?
# 3. Run two seeds of the same policy. How different are they? Why does a research comparison need
#    several seeds?
