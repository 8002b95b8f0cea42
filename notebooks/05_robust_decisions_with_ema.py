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
# # 05 · Robust decisions with the EMA workbench
#
# Which policy preset keeps violence low across worlds we cannot rule out? The EMA workbench samples the
# **uncertainties** declared in `sim/exploration.py` (the first cell lists them, with the range explored and
# its unit) into scenarios, runs every preset in every scenario on common seeds, and then asks two questions:
#
# 1. **Scenario discovery (PRIM)**: in which part of the uncertainty space are homicides above the median?
# 2. **Robustness (regret)**: how much worse than the best preset is each preset, scenario by scenario?
#
# **Size.** As written (`QUICK = False`) the first cell sets the full analysis: `mexico_states` over three
# years, 10 seeds per experiment; it takes many times longer than the quick mode. The test suite executes
# the quick mode (environment variable `CARTELSIM_QUICK=1`, or when run by pytest): the 40-node `small`
# territory over one year with 3 seeds. The experiments cell prints the size and the time of whichever
# mode ran. In quick mode the numbers below are a smoke test of the method, not results.

# %%
import os
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from ema_workbench import MultiprocessingEvaluator
from IPython.display import display

from experiments.ema import ema_model, preset_policies, prim_box, regret_table, restrictions, seed_noise
from sim.exploration import UNCERTAINTIES

QUICK = os.environ.get("CARTELSIM_QUICK") == "1" or "PYTEST_CURRENT_TEST" in os.environ
if QUICK:
    TERRITORY, STEPS, SCENARIOS, SEEDS = "small", 52, 16, 3
else:
    TERRITORY, STEPS, SCENARIOS, SEEDS = "mexico_states", 156, 50, 10
print(f"{len(UNCERTAINTIES)} uncertainties:")
print(pd.DataFrame([{"uncertainty": u.key, "range": u.range_text(), "unit": u.unit} for u in UNCERTAINTIES])
      .to_string(index=False))

# %% [markdown]
# ## The experiments
# `ema_model` returns a ready EMA model; `preset_policies()` gives the four presets as EMA policies (their
# pillar shares as weights, their budget and police targeting). The scenarios are a Latin hypercube over the
# declared uncertainty ranges (seeded, so the notebook gives the same numbers every time).

# %%
model = ema_model(territory=TERRITORY, steps=STEPS, replications=SEEDS)
start = time.perf_counter()
with MultiprocessingEvaluator(model, n_processes=2) as evaluator:
    experiments, outcomes = evaluator.perform_experiments(
        scenarios=SCENARIOS, policies=preset_policies(), uncertainty_sampling_kwargs={"rng": 2007},
        log_progress=True)
elapsed = time.perf_counter() - start
runs = len(experiments) * SEEDS
print(f"{'quick' if QUICK else 'full'} mode: {SCENARIOS} scenarios x {len(preset_policies())} presets = "
      f"{len(experiments)} experiments ({runs} runs: {TERRITORY}, {STEPS} weeks, {SEEDS} seeds each) "
      f"in {elapsed:.1f} s on 2 processes; failed replications: {int(outcomes['failed_replications'].sum())}")

# %%
table = experiments[["scenario", "policy"]].astype(str).assign(
    homicides_last_year=outcomes["homicides_last_year"], effective_groups=outcomes["effective_groups"])
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), constrained_layout=True)
table.boxplot(column="homicides_last_year", by="policy", ax=axes[0], grid=False)
axes[0].set(title="homicides in the last year, across scenarios", xlabel="", ylabel="homicides a year (persons)")
weeks = np.arange(1, STEPS + 1)
for policy in table["policy"].unique():
    mine = (table["policy"] == policy).to_numpy()
    axes[1].plot(weeks, outcomes["homicides_weekly"][mine].mean(axis=0), label=policy)
axes[1].set(title="weekly homicides, mean over scenarios and seeds", xlabel="week", ylabel="homicides a week (persons)")
axes[1].legend()
fig.suptitle("")
display(fig)
plt.close(fig)

# %% [markdown]
# ## Scenario discovery: where are homicides above the median?
# PRIM peels the uncertainty space down to a box where most experiments (density) have homicides above the
# median, while keeping as many of them as it can (coverage). `prim_box` takes the point of the peeling
# trajectory with the largest coverage among those with density of at least 0.8.

# %%
box = prim_box(experiments, outcomes, "homicides_last_year", min_density=0.8)
print({k: round(float(v), 3) for k, v in box.stats.items()})
restrictions(box)

# %% [markdown]
# ## Robustness: a regret table
# In each scenario the best preset has regret 0; the others have the difference to it. A robust choice has a
# small maximum regret (minimax regret), not only a good average.

# %%
regret_table(experiments, outcomes).round(2)

# %% [markdown]
# ## How many replications does the noise need?
# Every experiment ran the same seeds (common random numbers). From the per-seed values
# (`homicides_last_year_seeds`) we measure the seed-to-seed spread of one experiment (`median_cv`) and the
# part of the differences between experiments that is noise (`crn_noise_share`: the experiment x seed
# interaction, which common seeds do not cancel). `replications_for_comparison` is the number of seeds that
# brings that noise share down to `noise_share` (None: noise swamps the differences at this size).

# %%
noise = pd.DataFrame([seed_noise(outcomes, name) for name in ("homicides_last_year", "effective_groups")])
display(noise.set_index("outcome")[["experiments", "seeds", "median_cv", "replications_for_mean", "crn_noise_share",
                                    "replications_for_comparison"]].round(3))

# %% [markdown]
# **How to read it**, for last-year homicides (the next cell prints each figure with its meaning):
#
# - `median_cv` is the typical seed-to-seed spread of one experiment, as a share of its mean (0.10: seeds
#   differ by about 10% of the mean). The largest seed divided by the smallest shows the same spread in
#   plain terms. `replications_for_mean` seeds bring one experiment's standard error down to `rel_error`
#   (a share of its mean, printed below).
# - `crn_noise_share` is the part of the differences between one-seed experiments that is seed noise
#   common seeds do not cancel. Averaging more seeds shrinks it; `replications_for_comparison` seeds
#   bring it to `noise_share` (printed below). Comparisons (the PRIM box, the regret table) need that many seeds.
# - The last lines give the noise share with the seeds run here, and what it means for the box and the regrets.

# %%
h = noise.set_index("outcome").loc["homicides_last_year"]
per_seed = np.asarray(outcomes["homicides_last_year_seeds"], dtype=float)
per_seed = per_seed[np.isfinite(per_seed).all(axis=1) & (per_seed > 0).all(axis=1)]
spread = per_seed.max(axis=1) / per_seed.min(axis=1)
share1 = float(h["crn_noise_share"])
share_here = share1 / (SEEDS * (1 - share1) + share1)  # averaging SEEDS seeds divides the seed noise by SEEDS
needed = h["replications_for_comparison"]


def count(v):
    return str(int(v)) if pd.notna(v) else "n/a"


print(f"Seed noise of last-year homicides ({int(h['experiments'])} experiments x {int(h['seeds'])} seeds, "
      f"{TERRITORY}, {STEPS} weeks):")
print(f"  median coefficient of variation across seeds: {h['median_cv']:.3f}")
print(f"  largest seed / smallest seed, per experiment: {spread.min():.2f} to {spread.max():.2f}")
print(f"  seeds for a {h['rel_error']:.0%} standard error of one experiment's mean: "
      f"{count(h['replications_for_mean'])}")
print(f"  noise share of the differences between one-seed experiments: {share1:.0%}")
print(f"  seeds that bring that share to {h['noise_share']:.0%}: "
      + (count(needed) if pd.notna(needed) else "none (the noise swamps the differences at this size)"))
print(f"  noise share with the {SEEDS} seeds run here: {share_here:.0%}")
if pd.notna(needed) and SEEDS >= needed:
    print(f"Reading: {SEEDS} seeds are enough; the box and the regrets compare experiments, not seeds.")
else:
    more = f"raise SEEDS to {int(needed)}" if pd.notna(needed) else "run larger or longer experiments"
    print(f"Reading: with {SEEDS} seeds noise is still {share_here:.0%} of the differences: PRIM partly fits noise; "
          f"read the box and the regrets as indications, or {more}.")

# %% [markdown]
# The same analysis applies to a sweep run with Hydra (on a cluster, say):
# `experiments, outcomes = experiments.ema.to_ema_results("multirun/my_sweep")`.
#
# ## Exercises
# 1. Which uncertainty does the PRIM box restrict most? Is it one a policy could change?
# 2. Which preset has the smallest maximum regret for homicides? Is it also the most often best?
# 3. Add a policy of your own: `ema_workbench.Sample("half_prevention", **{**preset_levers("merida"),
#    "prevention_weight": 0.5})` (from `sim.exploration import preset_levers`) and run it in the same scenarios.
# 4. In the first cell, change the quick line to `"mexico_states", 156, 3, 10` (3 scenarios x 4 presets with
#    10 seeds each on the 32 states over three years: 120 runs). How do the seed-noise figures change on the
#    larger territory and the longer horizon? How many seeds would the comparisons need there?
