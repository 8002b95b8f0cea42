"""The EMA workbench model (experiments.ema): sequential and parallel evaluation under fork and spawn,
failures that never hang a pool, PRIM, regret, seed noise, and a Hydra sweep as EMA results."""

from __future__ import annotations

import multiprocessing
import pickle
import subprocess
import sys
from pathlib import Path

import ema_workbench as ema  # the `ema` extra, in `dev`: a broken install fails here, it is not skipped
import numpy as np
import pandas as pd
import pytest

from experiments import ema as cema
from sim import CartelModel, exploration
from sim.params import ParamError

ROOT = Path(__file__).resolve().parents[1]
SEEDS = 2


def _scenarios(n: int = 2) -> list:
    """Fixed scenarios (the declared ranges' lower and upper thirds), so runs are comparable."""
    out = []
    for k in range(n):
        q = (k + 1) / (n + 1)
        values = {u.name: (int(u.low + q * (u.high - u.low)) if u.integer else u.low + q * (u.high - u.low))
                  for u in exploration.UNCERTAINTIES}
        out.append(ema.Sample(f"s{k}", **values))
    return out


def _reference(scenario, policy: str, steps: int) -> list[float]:
    """homicides_last_year of each seed, run directly (no EMA)."""
    kwargs = exploration.to_keywords({**dict(scenario), **exploration.preset_levers(policy)})
    return [exploration.measure(CartelModel(rng=s, territory="small", steps=steps, **kwargs).run())
            ["homicides_last_year"] for s in range(SEEDS)]


def test_model_declares_everything_and_pickles():
    model = cema.ema_model(territory="small", steps=8, replications=3)
    assert [u.name for u in model.uncertainties] == [u.name for u in exploration.UNCERTAINTIES]
    assert [lever.name for lever in model.levers] == [lever.name for lever in exploration.LEVERS]
    names = {o.name for o in model.outcomes}
    for o in exploration.OUTCOMES:
        assert {o.name, o.name + "_seeds"} <= names
    assert {"homicides_weekly", "failed_replications"} <= names
    copy = pickle.loads(pickle.dumps(model))
    assert copy.function is cema.run_experiment and len(copy.replications) == 3
    for bad in ({"replications": 0}, {"territory": "atlantis"}, {"steps": 0}):
        with pytest.raises(ParamError):
            cema.ema_model(**bad)


def test_sequential_evaluator_averages_common_seeds():
    steps = 8
    model = cema.ema_model(territory="small", steps=steps, replications=SEEDS)
    scenarios = _scenarios()
    experiments, outcomes = ema.perform_experiments(model, scenarios=scenarios,
                                                    policies=cema.preset_policies(["kingpin", "prevention"]))
    assert len(experiments) == 4 and set(experiments["policy"]) == {"kingpin", "prevention"}
    assert outcomes["homicides_last_year_seeds"].shape == (4, SEEDS)
    assert outcomes["homicides_weekly"].shape == (4, steps)
    assert (outcomes["failed_replications"] == 0).all()
    np.testing.assert_allclose(outcomes["homicides_last_year"], outcomes["homicides_last_year_seeds"].mean(axis=1))
    np.testing.assert_allclose(outcomes["homicides_weekly"].sum(axis=1), outcomes["homicides_last_year"])
    row = experiments.index[(experiments["policy"] == "prevention") & (experiments["scenario"] == "s1")][0]
    assert list(outcomes["homicides_last_year_seeds"][row]) == _reference(scenarios[1], "prevention", steps)


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_multiprocessing_evaluator_runs_four_experiments(method):
    steps = 6
    model = cema.ema_model(territory="small", steps=steps, replications=SEEDS)
    scenarios = _scenarios()
    previous = multiprocessing.get_start_method(allow_none=True)
    multiprocessing.set_start_method(method, force=True)
    try:
        with ema.MultiprocessingEvaluator(model, n_processes=2) as evaluator:
            experiments, outcomes = evaluator.perform_experiments(
                scenarios=scenarios, policies=cema.preset_policies(["kingpin", "none"]))
    finally:
        multiprocessing.set_start_method(previous, force=True)
    assert len(experiments) == 4 and (outcomes["failed_replications"] == 0).all()
    row = experiments.index[(experiments["policy"] == "kingpin") & (experiments["scenario"] == "s0")][0]
    assert list(outcomes["homicides_last_year_seeds"][row]) == _reference(scenarios[0], "kingpin", steps)


def test_a_failing_experiment_gives_nan_in_a_pool_and_raises_sequentially():
    model = cema.ema_model(territory="small", steps=4, replications=1)
    model.uncertainties = [*model.uncertainties, ema.RealParameter("cartels__no_such_key", 0.0, 1.0)]
    with ema.MultiprocessingEvaluator(model, n_processes=2) as evaluator:  # used to wait forever
        _, outcomes = evaluator.perform_experiments(scenarios=2, policies=cema.preset_policies(["kingpin"]))
    assert (outcomes["failed_replications"] == 1).all() and np.isnan(outcomes["homicides_last_year"]).all()
    with pytest.raises(cema.ExperimentFailed, match="unknown key 'cartels.no_such_key'") as err:
        cema.run_experiment(seed=np.int64(0), territory="small", steps=4, raise_errors=True,
                            cartels__no_such_key=np.float64(0.5))
    assert str(pickle.loads(pickle.dumps(err.value))) == str(err.value)


def test_prim_regret_and_seed_noise_on_a_known_answer():
    rng = np.random.default_rng(0)
    n = 200
    experiments = pd.DataFrame({u.name: rng.uniform(u.low, u.high, n) for u in exploration.UNCERTAINTIES})
    experiments["scenario"] = np.arange(n) // 2
    experiments["policy"] = np.where(np.arange(n) % 2 == 0, "kingpin", "prevention")
    guns = experiments["scenario__gun_inflow"].to_numpy()
    # violence is high exactly when guns exceed 225,000 (the middle of the range), plus a little noise
    seeds = (guns > 225_000)[:, None] * 1000.0 + 500.0 + rng.normal(0, 5, (n, 3))
    outcomes = {"homicides_last_year": seeds.mean(axis=1), "homicides_last_year_seeds": seeds,
                "effective_groups": np.where(experiments["policy"] == "kingpin", 3.0, 2.0)}
    box = cema.prim_box(experiments, outcomes)
    assert box.density >= 0.8 and box.coverage >= 0.8
    limits = cema.restrictions(box).set_index("uncertainty")
    assert "scenario__gun_inflow" in limits.index
    assert limits.loc["scenario__gun_inflow", "box_low"] == pytest.approx(225_000, rel=0.1)
    table = cema.regret_table(experiments, outcomes)
    assert table.loc[("effective_groups", "prevention"), "best_in"] == 1.0
    assert table.loc[("effective_groups", "kingpin"), "max_regret"] == pytest.approx(1.0)
    noise = cema.seed_noise(outcomes)
    assert noise["median_cv"] < 0.02 and noise["crn_noise_share"] < 0.01
    assert noise["replications_for_comparison"] == 1


def test_a_hydra_sweep_becomes_ema_results(tmp_path):
    sweep = tmp_path / "sweep"
    subprocess.run([sys.executable, "-m", "experiments.run", "-m", "territory=small", "steps=5",
                    "policy=kingpin,prevention", "seed=0,1", "scenario.gun_inflow=100000,300000",
                    "hydra/launcher=basic", f"hydra.sweep.dir={sweep}"], check=True, capture_output=True, cwd=ROOT)
    experiments, outcomes = cema.to_ema_results(sweep)
    assert len(experiments) == 4
    assert {"scenario__gun_inflow", "scenario", "policy", "model", "steps"} <= set(experiments.columns)
    assert outcomes["homicides_last_year_seeds"].shape == (4, 2)
    assert outcomes["homicides_weekly"].shape == (4, 5)
    runs = pd.read_parquet(sweep / "runs.parquet")
    for i, row in experiments.iterrows():
        mine = runs[(runs["policy"] == row["policy"]) & (runs["scenario.gun_inflow"] == row["scenario__gun_inflow"])]
        assert outcomes["homicides_last_year"][i] == pytest.approx(mine["homicides_last_year"].mean())
        assert sorted(outcomes["homicides_last_year_seeds"][i]) == sorted(mine["homicides_last_year"])
    one_per_run, per_run = cema.to_ema_results(sweep, average_seeds=False)
    assert len(one_per_run) == 8 and per_run["homicides_last_year"].shape == (8,)
