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
# # 04 · Budgets and sensitivity
#
# How does the share of the budget spent on prevention change violence and fragmentation, at different
# budget levels? And which uncertain parameters matter most? Both are sweeps: many runs with different
# settings on shared seeds, collected into one table.

# %%
import subprocess
import sys

import pandas as pd
from IPython.display import Image, display

from experiments import plot, sensitivity
from experiments.notebook import figures_dir

sweep = figures_dir("04_frontier")  # beside this notebook, whatever the working directory
subprocess.run([sys.executable, "-m", "experiments.run", "experiment=budget_frontier", "territory=small",
                "steps=104", "seed=0,1", "policy.prevention_share=0,0.5,1", "policy.budget_musd=115,460",
                "hydra/launcher=basic", f"hydra.sweep.dir={sweep}"], check=True, capture_output=True)

# %% [markdown]
# ## The budget frontier
# `experiments.plot` collects the sweep (`runs.parquet`: one row per run) and draws the frontier:
# prevention share across, budget up, coloured by the mean outcome across seeds.

# %%
plot.plot(sweep)
display(Image(str(sweep / "figures" / "frontier.png")))
runs = pd.read_parquet(sweep / "runs.parquet")
runs.groupby(["policy.budget_musd", "policy.prevention_share"])[["homicides_last_year", "members"]].mean()

# %% [markdown]
# ## Which parameters matter most: a Morris screening
# A tiny version of `make sensitivity`: Morris elementary effects over the uncertain parameters declared in
# `sim/exploration.py` (the cell prints how many, and the runs it took), under the kingpin preset. With so
# few runs the ranking is rough; `make sensitivity` runs many more. The table gives, for homicides in the
# last year, `mu_star`: the mean absolute change of the outcome when one parameter moves one step of its
# range, divided by the mean outcome (0.10: a tenth of the mean); `sigma`: how much that change varies with
# the other parameters (interactions). The two `finance.*` parameters act only when part of the budget goes to
# financial intelligence (`policy.finance_share` above 0), which no preset does: expect no effect from them here.

# %%
out = figures_dir("04_sensitivity")
sensitivity.main(["--method", "morris", "--trajectories", "2", "--territory", "small", "--steps", "26",
                  "--out", str(out), "--", "hydra/launcher=basic"])
display(Image(str(out / "morris" / "morris.png")))
samples = pd.read_csv(out / "morris" / "samples.csv")
print(f"Morris screening: {len(sensitivity.PARAMETERS)} uncertain parameters, {len(samples)} runs")
indices = pd.read_csv(out / "morris" / "morris_indices.csv")
indices[indices["outcome"] == "homicides_last_year"].set_index("parameter")[["mu_star", "sigma"]].round(3)

# %% [markdown]
# ## Exercises
# 1. Add a budget of 230 to the frontier sweep. Is the effect of the prevention share the same at every budget?
# 2. Which parameter has the largest mu* for homicides? Does it belong to the policy maker or to the world?
#    Run the screening with `--trajectories 6`: does the order of the first three change?
# 3. Read `results/sensitivity/report.md` after `make sensitivity`: in how many scenarios is each preset best?
