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
# The same yearly budget (the Mérida Initiative's average) can be spent in different ways. The presets:
# `kingpin` (most of it on disrupting organised crime, police after leaders), `merida` (the 2014-2018 mix,
# about a third on prevention), `prevention` (half on community prevention, police after the middle
# layer), and `none` (no budget). The first cell prints each preset's budget, targeting and pillar shares.
# We run each on the **same seeds**.

# %%
import numpy as np
import pandas as pd
from IPython.display import Image, display

from experiments import simulate
from experiments.figures import policy_timeseries
from experiments.notebook import figures_dir
from sim.params import POLICIES as PRESETS

POLICIES = ["none", "kingpin", "merida", "prevention"]
presets = pd.DataFrame([{"policy": name, "budget (US$ M a year)": PRESETS[name].budget_musd,
                         "police target": PRESETS[name].targeting,
                         **{f"{pillar} share": getattr(PRESETS[name].shares, pillar)
                            for pillar in ("disruption", "rule_of_law", "border", "prevention")}}
                        for name in POLICIES]).set_index("policy")
print(presets.to_string())
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
# So two policies on the same seed differ only because of the policy. Below: homicides in the last year,
# and the difference kingpin - prevention, once paired by seed and once with the seeds shuffled (each
# kingpin run against the prevention run of another seed).
#
# What to look at: the mean difference is the same either way (the same runs, paired differently); only its
# spread (sd) changes. If a seed's world pushes both policies the same way, pairing cancels that push and
# the paired sd is the smaller one. With 3 seeds an sd is a rough guide: the last line says what this run shows.

# %%
last = df[df["step"] > 208].groupby(["policy", "seed"])["homicides"].sum().unstack("policy")
paired = last["kingpin"] - last["prevention"]
shuffled = last["kingpin"].to_numpy() - np.roll(last["prevention"].to_numpy(), 1)  # no seed keeps its partner
print("homicides in the last year (weeks 209-260), by seed:")
print(last)
print(f"kingpin - prevention, same seeds: mean {paired.mean():,.0f}, sd {paired.std():,.0f}")
print(f"kingpin - prevention, seeds shuffled: mean {shuffled.mean():,.0f}, sd {shuffled.std(ddof=1):,.0f}")
ratio = paired.std() / shuffled.std(ddof=1)
print(f"paired sd / shuffled sd = {ratio:.2f}: pairing by seed "
      + ("narrowed" if ratio < 0.9 else "widened" if ratio > 1.1 else "barely changed")
      + " the spread of the difference in these 3 seeds")

# %% [markdown]
# ## Exercises
# 1. Add `policy.budget_musd=460` (twice the presets' budget) to every run. Does more money on the kingpin
#    strategy mean fewer homicides?
# 2. Run `kingpin` with `policy.targeting=operators`. How do the number of groups and of homicides change?
# 3. The full comparison on the national territory is `make run`; how do its results differ from these?
