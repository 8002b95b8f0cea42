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
    print(f"succession clarity {clarity}: splinters in 3 years, per seed: {splinters}")

# %% [markdown]
# ## Exercises
# 1. Repeat the event study with `cartels.succession_clarity=1`. What happens in the removed leader's plazas?
# 2. Use `mode:kill` instead of `mode:capture`. Does it matter in this model? Why?
# 3. Look at the maps: where do splinters appear, relative to the removed leader's territory?
