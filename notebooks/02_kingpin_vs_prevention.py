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
# # 02 · Kingpin-focused against prevention-heavy budgets
#
# The same yearly budget (US$ 230 million, the Mérida Initiative's average) can be spent in different
# ways. The presets: `kingpin` (70% on disrupting organised crime, police after leaders), `merida` (the
# 2014-2018 mix, a third on prevention), `prevention` (half on community prevention, police after the
# middle layer), and `none` (no budget). We run each on the **same seeds**.

# %%
import pandas as pd
from IPython.display import Image, display

from experiments import simulate
from experiments.figures import policy_timeseries
from experiments.notebook import figures_dir

POLICIES = ["none", "kingpin", "merida", "prevention"]
runs = []
for seed in range(3):
    for policy in POLICIES:
        ts = simulate(["territory=mexico_states", f"policy={policy}", "steps=260", f"seed={seed}"])
        runs.append(ts.assign(policy=policy, seed=seed))
df = pd.concat(runs, ignore_index=True)

# %% [markdown]
# ## Weekly outcomes with bands across seeds
# The package's own figure: the mean across seeds and a 95% band (mean ± 1.96 standard errors).

# %%
for path in policy_timeseries(df, figures_dir("02_policies")):
    if path.suffix == ".png":
        display(Image(str(path)))

# %% [markdown]
# ## What common random numbers buy
# Each seed fixes the territory and the world's weekly random draws; the policy has a stream of its own.
# So two policies on the same seed differ only because of the policy. Compare the spread of the
# difference in homicides (last year) paired by seed with the spread between unpaired runs:

# %%
last = df[df["step"] > 208].groupby(["policy", "seed"])["homicides"].sum().unstack("policy")
paired = last["kingpin"] - last["prevention"]
unpaired = last["kingpin"].to_numpy() - last["prevention"].to_numpy()[::-1]
print(last)
print(f"kingpin - prevention, same seeds: {paired.mean():,.0f} (sd {paired.std():,.0f})")
print(f"kingpin - prevention, seeds shuffled: {unpaired.mean():,.0f} (sd {unpaired.std():,.0f})")

# %% [markdown]
# ## Exercises
# 1. Add `policy.budget_musd=460` (twice the budget) to every run. Does more money on the kingpin
#    strategy mean fewer homicides?
# 2. Run `kingpin` with `policy.targeting=operators`. How do the number of groups and of homicides change?
# 3. The full comparison on the national territory is `make run`; how do its results differ from these?
