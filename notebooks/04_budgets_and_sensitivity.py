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
# A tiny version of `make sensitivity` (Morris elementary effects over eight uncertain parameters).
# With so few runs the ranking is rough; the full analysis runs hundreds.

# %%
out = figures_dir("04_sensitivity")
sensitivity.main(["--method", "morris", "--trajectories", "2", "--territory", "small", "--steps", "26",
                  "--out", str(out), "--", "hydra/launcher=basic"])
display(Image(str(out / "morris" / "morris.png")))

# %% [markdown]
# ## Exercises
# 1. Add a budget of 230 to the frontier sweep. Is the effect of the prevention share the same at every budget?
# 2. Which parameter has the largest mu* for homicides? Does it belong to the policy maker or to the world?
# 3. Read `results/sensitivity/report.md` after `make sensitivity`: in how many scenarios is each preset best?
