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
# **uncertainties** declared in `sim/exploration.py` (recruitment pressure, gun inflow, lethality, succession,
# defection, corruption, court capacity, prevention effect) into scenarios, runs every preset in every
# scenario on common seeds, and then asks two questions:
#
# 1. **Scenario discovery (PRIM)**: in which part of the uncertainty space are homicides above the median?
# 2. **Robustness (regret)**: how much worse than the best preset is each preset, scenario by scenario?
#
# **Size.** As written (`QUICK = False`) this is 50 scenarios x 4 presets = 200 experiments on `mexico_states`
# over 156 weeks with 10 seeds each (2,000 runs; measured 0.48 to 0.84 s a run on 2 processes of a 2-core
# machine shared with other jobs: 16 to 28 minutes). The test suite executes it in quick mode (environment
# variable `CARTELSIM_QUICK=1`, or when run by pytest): 25 scenarios x 4 presets = 100 experiments on the
# 40-node `small` territory over 52 weeks with 3 seeds (300 runs; measured 17 to 39 s for the experiments
# and 24 to 53 s for the whole notebook, depending on how busy that machine was), so the numbers below are
# then a smoke test of the method, not results.

# %%
import os
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from ema_workbench import MultiprocessingEvaluator
from IPython.display import display

from experiments.ema import ema_model, preset_policies, prim_box, regret_table, restrictions, seed_noise

QUICK = os.environ.get("CARTELSIM_QUICK") == "1" or "PYTEST_CURRENT_TEST" in os.environ
if QUICK:
    TERRITORY, STEPS, SCENARIOS, SEEDS = "small", 52, 25, 3
else:
    TERRITORY, STEPS, SCENARIOS, SEEDS = "mexico_states", 156, 50, 10

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
print(f"{len(experiments)} experiments ({runs} runs: {TERRITORY}, {STEPS} weeks, {SEEDS} seeds each) "
      f"in {elapsed:.1f} s on 2 processes; failed replications: {int(outcomes['failed_replications'].sum())}")

# %%
table = experiments[["scenario", "policy"]].astype(str).assign(
    homicides_last_year=outcomes["homicides_last_year"], effective_groups=outcomes["effective_groups"])
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), constrained_layout=True)
table.boxplot(column="homicides_last_year", by="policy", ax=axes[0], grid=False)
axes[0].set(title="homicides in the last year, across scenarios", xlabel="", ylabel="persons")
weeks = np.arange(1, STEPS + 1)
for policy in table["policy"].unique():
    mine = (table["policy"] == policy).to_numpy()
    axes[1].plot(weeks, outcomes["homicides_weekly"][mine].mean(axis=0), label=policy)
axes[1].set(title="weekly homicides, mean over scenarios and seeds", xlabel="week", ylabel="homicides")
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
# brings that noise share down to 10% (None: noise swamps the differences at this size).

# %%
noise = pd.DataFrame([seed_noise(outcomes, name) for name in ("homicides_last_year", "effective_groups")])
noise.set_index("outcome").round(3)

# %% [markdown]
# **How many replications?** Measured on `mexico_states` over 156 weeks (12 experiments: 3 scenarios x 4
# presets, 10 seeds each, 100 s on 2 processes): last-year homicides vary across seeds with a median
# coefficient of variation of 0.19 (the largest seed gave 1.6 to 2.9 times the smallest), so one experiment's
# mean needs about 15 seeds for a 5% standard error; and 81% of the differences between one-seed experiments
# was seed noise that common seeds do not cancel, so comparisons (PRIM, regret) need about 40 seeds to bring
# that share to 10%. With 10 seeds the noise share is still about 30%: read the box and the regrets as
# indications, or raise `SEEDS`. In quick mode (40 nodes, one year) noise dominates: PRIM partly fits it.
#
# The same analysis applies to a sweep run with Hydra (on a cluster, say):
# `experiments, outcomes = experiments.ema.to_ema_results("multirun/my_sweep")`.
#
# ## Exercises
# 1. Which uncertainty does the PRIM box restrict most? Is it one a policy could change?
# 2. Which preset has the smallest maximum regret for homicides? Is it also the most often best?
# 3. Add a policy of your own: `ema_workbench.Sample("half_prevention", **{**preset_levers("merida"),
#    "prevention_weight": 0.5})` (from `sim.exploration import preset_levers`) and run it in the same scenarios.
