"""Adversarial use (issue 15): run folders, Mesa's batch_run and API, corrupted results, stopping."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from experiments.store import NAME_MAX, run_dirname
from sim import CartelModel, ParamError, Params
from sim.interventions import schedule_leader_removal

ROOT = Path(__file__).resolve().parents[1]
LONG = ["territory=small", "steps=2", "policy.budget_musd=400", "policy.shares.prevention=0.5",
        "policy.shares.disruption=0.2", "policy.shares.rule_of_law=0.2", "policy.shares.border=0.1",
        "policy.targeting=operators", "cartels.succession_clarity=0.5", "scenario.gun_inflow=400000",
        "scenario.recruitment_scale=1.5"]


def run_process(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "experiments.run", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


# --------------------------------------------------------------------------------------------------
# Run folders: short, safe, inside the sweep folder
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", [
    ",".join(o for o in LONG) + ",seed=0",
    "policy.name=../../../escape_here",
    "policy.name=/etc/passwd",
    "policy.name=..",
    "policy.name=" + "é" * 200,
    "a" * (NAME_MAX + 1),
])
def test_unsafe_or_long_run_names_become_one_short_component(name):
    out = run_dirname(name)
    assert "/" not in out and "\\" not in out and not out.startswith(".") and len(out.encode()) <= 80
    assert out == run_dirname(name) and out != run_dirname(name + "x")  # stable, and distinct
    assert out not in (".", "..") and (Path("/sweep") / out).parent == Path("/sweep")


def test_short_safe_names_are_kept_as_typed():
    assert run_dirname("policy=kingpin,seed=3") == "policy=kingpin,seed=3"


def test_a_sweep_of_ten_long_overrides_runs_inside_its_folder_and_collects(tmp_path):
    sweep = tmp_path / "sweep"
    proc = run_process("-m", *LONG, "seed=0,1", "policy.name=../../../escape_here", "hydra/launcher=basic",
                       f"hydra.sweep.dir={sweep}")
    assert proc.returncode == 0, proc.stderr[-2000:]
    runs = sorted(p for p in sweep.iterdir() if p.is_dir())
    assert len(runs) == 2 and not (tmp_path / "escape_here").exists()
    assert all(len(p.name) <= 80 for p in runs)
    from experiments.collect import collect

    table, left_out = collect(sweep, quiet=True)
    assert len(table) == 2 and not left_out and sorted(table["seed"]) == [0, 1]
    assert set(table["policy"]) == {"../../../escape_here"}
    assert all("scenario.gun_inflow=400000" in o for o in table["overrides"])  # the full overrides, mapped back


# --------------------------------------------------------------------------------------------------
# Mesa parity
# --------------------------------------------------------------------------------------------------
def test_param_error_pickles():
    err = pickle.loads(pickle.dumps(ParamError("steps", -5, "an integer > 0")))
    assert isinstance(err, ParamError) and err.key == "steps" and "steps" in str(err)
    err = pickle.loads(pickle.dumps(ParamError("x.y", 1, "a, b", unknown_key=True)))
    assert str(err).startswith("unknown key 'x.y'")


def test_batch_run_with_processes_reports_a_bad_value_instead_of_hanging():
    code = ("import mesa\nfrom sim import CartelModel\n"
            "try:\n mesa.batch_run(CartelModel, parameters={'territory': 'small', 'steps': [-1, 2]},"
            " number_processes=2, rng=[1], display_progress=False)\n"
            "except Exception as e:\n print(type(e).__name__, e)\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert "ParamError invalid value for 'steps'" in proc.stdout, proc.stderr[-2000:]


def test_rng_none_draws_a_fresh_seed_and_records_it():
    import mesa

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        rows = mesa.batch_run(CartelModel, parameters={"territory": "small", "steps": 4}, iterations=3,
                              number_processes=1, display_progress=False)
    assert len(rows) == 3
    a, b = CartelModel(territory="small", steps=2), CartelModel(territory="small", steps=2)
    assert a.p.seed != b.p.seed and 0 <= a.p.seed < 2**63
    assert a.summary()["seed"] == a.p.seed  # recorded
    again = CartelModel(rng=a.p.seed, territory="small", steps=2)
    assert again.run().equals(a.run())  # and the recorded seed reproduces the run


def test_numpy_integers_are_seeds_and_rng_seed_conflict_is_refused():
    assert CartelModel(rng=np.int64(3), territory="small", steps=2).p.seed == 3
    assert CartelModel(rng=np.uint32(3), territory="small", steps=2).run().equals(
        CartelModel(rng=3, territory="small", steps=2).run())
    with pytest.raises(ParamError, match="'seed'"):
        CartelModel(rng=1, seed=2, territory="small")
    with pytest.raises(ParamError, match="'rng'"):
        CartelModel(rng=1.5, territory="small")


def test_params_and_from_config_are_validated():
    with pytest.raises(ParamError, match="'steps'"):
        CartelModel(params=Params(steps=-5))
    with pytest.raises(ParamError, match="'steps'"):
        CartelModel.from_config(Params(steps=-5))
    p = Params(steps=3)
    CartelModel(rng=9, params=p)
    assert p.seed == 0  # the caller's Params is not changed


def test_step_past_steps_warns_and_does_nothing_and_run_for_honours_it():
    m = CartelModel(rng=1, territory="small", steps=3)
    with pytest.warns(RuntimeWarning, match="steps=3"):
        m.run_for(5)
    assert m.steps == 3 and len(m.timeseries()) == 3 and not m.running
    with pytest.warns(RuntimeWarning):
        m.step()
    assert m.steps == 3 and m.summary()["weeks"] == 3


def test_summary_at_week_zero():
    m = CartelModel(rng=1, territory="small", steps=3)
    s = m.summary()
    assert s["weeks"] == 0 and s["homicides_total"] == 0 and s["members"] > 0 and s["groups_active"] == 6
    assert 0 < s["largest_group_share"] <= 1 and s["effective_groups"] <= s["groups_active"]


@pytest.mark.parametrize("group", ["biggest", -1, 1.5, True])
def test_schedule_leader_removal_refuses_what_never_fires(group):
    m = CartelModel(rng=1, territory="small", steps=3)
    with pytest.raises(ParamError, match=r"interventions\[0\]\.group"):
        schedule_leader_removal(m, group)


def test_schedule_leader_removal_after_the_last_week_is_refused():
    m = CartelModel(rng=1, territory="small", steps=2)
    m.run()
    with pytest.raises(ParamError, match="at_step"):
        schedule_leader_removal(m, "largest")


# --------------------------------------------------------------------------------------------------
# Integrity of finished runs
# --------------------------------------------------------------------------------------------------
def _finished_run(path: Path, *extra: str) -> dict:
    from experiments import compose
    from experiments.run import run_one

    overrides = ["territory=small", "steps=6", *extra]
    return run_one(compose(overrides), path, overrides)


def _damage_data_page(path: Path) -> None:
    data = bytearray(path.read_bytes())
    footer = int.from_bytes(data[-8:-4], "little") + 8  # parquet: metadata length, then 'PAR1'
    middle = (4 + len(data) - footer) // 2  # inside the data pages, footer untouched
    data[middle:middle + 20] = bytes(b ^ 0xFF for b in data[middle:middle + 20])
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage, reason", [
    ("data_page", "checksum differs"),
    ("text_number", "not a number"),
    ("null_number", "not a number"),
    ("nodes_page", "checksum differs"),
    ("huge_seed", "seed"),
])
def test_a_damaged_finished_run_is_named_rerun_and_never_collected(tmp_path, damage, reason):
    from experiments.collect import collect
    from experiments.store import check_run

    sweep = tmp_path / "sweep"
    good, bad = sweep / "good", sweep / "bad"
    for d in (good, bad):
        (d / ".hydra").mkdir(parents=True)
        (d / ".hydra" / "config.yaml").write_text("{}\n")
        _finished_run(d, "output.nodes=true")
    summary_path = bad / "summary.json"
    summary = json.loads(summary_path.read_text())
    assert set(summary["files"]) == {"timeseries.parquet", "nodes.parquet"} and check_run(bad).finished
    if damage == "data_page":
        _damage_data_page(bad / "timeseries.parquet")
    elif damage == "nodes_page":
        _damage_data_page(bad / "nodes.parquet")
    else:
        key, value = {"text_number": ("effective_groups", "-0.95 groups"), "null_number": ("members", None),
                      "huge_seed": ("seed", 2**64)}[damage]
        summary[key] = value
        summary_path.write_text(json.dumps(summary))
    status = check_run(bad)
    assert status.state == "damaged" and reason in status.reason
    with pytest.warns(UserWarning, match="left out bad"):
        runs, left_out = collect(sweep, quiet=True)
    assert list(runs["run"]) == ["good"] and len(left_out) == 1
    # the resume check runs it again, and then it counts
    _finished_run(bad, "output.nodes=true")
    assert check_run(bad).finished


# --------------------------------------------------------------------------------------------------
# The check of a sweep's combinations: fast, and the same Params as Hydra's own composition
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("overrides", [
    ["policy=kingpin,prevention", "seed=0,1", "territory=small", "policy.targeting=operators",
     "policy.budget_musd=50,500"],
    ["experiment=budget_frontier", "seed=0", "policy.prevention_share=0,1", "policy.budget_musd=100,300"],
    ["experiment=kingpin_event_study", "seed=0", "steps=30",
     "interventions=[],[{kind:remove_leader,group:largest,at_step:10,mode:capture}]"],
    ["scenario=high_guns,low_guns", "interventions=[{kind:remove_leader,group:largest,at_step:5,mode:kill}]",
     "output.nodes=true,false", "cartels.lieutenants=3"],
])
def test_fast_combination_check_gives_hydras_params(overrides):
    from experiments import compose
    from experiments.config import sweep_combinations, to_params
    from experiments.guard import iter_params

    combos = sweep_combinations(overrides)
    fast = list(iter_params(combos))
    assert len(fast) == len(combos) >= 1
    for combo, p in zip(combos, fast):
        assert p == to_params(compose(combo)), combo


def test_eighteen_thousand_combinations_are_checked_in_under_a_minute(tmp_path):
    import time

    from experiments.guard import check_command

    start = time.perf_counter()
    n = check_command(["seed=range(0,1000)", "policy=kingpin,prevention,merida", "scenario.gun_inflow=1,2,3,4,5,6",
                       "territory=small", f"hydra.sweep.dir={tmp_path / 'sweep'}"], multirun=True)
    elapsed = time.perf_counter() - start
    assert n == 18_000 and elapsed < 60, elapsed
    assert not (tmp_path / "sweep").exists()


def test_a_territory_file_is_parsed_once_for_all_combinations(tmp_path, monkeypatch):
    from experiments.guard import check_command
    from sim import territory

    nodes, edges = tmp_path / "n.csv", tmp_path / "e.csv"
    nodes.write_text("code,name,population,border\nA,Alpha,1000,true\nB,Beta,2000,false\n", encoding="utf-8")
    edges.write_text("a,b\nA,B\n", encoding="utf-8")
    territory._parsed.cache_clear()
    check_command(["territory=files", f"territory.nodes_file={nodes}", f"territory.edges_file={edges}",
                   "seed=range(0,50)", f"hydra.sweep.dir={tmp_path / 's'}"], multirun=True)
    assert territory._parsed.cache_info().misses == 1 and territory._parsed.cache_info().hits >= 50


# --------------------------------------------------------------------------------------------------
# Killing the parent of a sweep stops its workers
# --------------------------------------------------------------------------------------------------
def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.add(child)
            todo.append(child)
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_killing_the_parent_of_a_sweep_stops_its_workers(tmp_path):
    import os
    import signal
    import time

    sweep = tmp_path / "sweep"
    workers: set[int] = set()
    proc = subprocess.Popen([sys.executable, "-m", "experiments.run", "-m", "territory=national", "steps=5000",
                             "seed=0,1", "hydra.launcher.n_jobs=2", f"hydra.sweep.dir={sweep}"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and len(list(sweep.glob("*/.hydra"))) < 2:
            time.sleep(0.5)
        assert len(list(sweep.glob("*/.hydra"))) == 2, "the workers did not start"
        time.sleep(2)
        workers = _descendants(proc.pid)
        assert workers
        proc.kill()  # the parent only, as a scheduler or an impatient user would
        proc.wait()
        deadline = time.time() + 60
        while time.time() < deadline and any(_alive(w) for w in workers):
            time.sleep(0.5)
        assert not any(_alive(w) for w in workers), "workers still running after their parent was killed"
        assert not list(sweep.glob("*/summary.json"))  # nothing half-finished counted as done
    finally:
        for pid in _descendants(proc.pid) | workers | {proc.pid}:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def test_an_experiment_file_that_sweeps_is_checked_without_dash_m(tmp_path, capsys):
    from experiments.run import cli

    out = tmp_path / "sweep"
    assert cli(["experiment=kingpin_event_study", "territory=small", "steps=30", "seed=0,1",
                f"hydra.sweep.dir={out}"]) == 2  # its declared removal at week 104 is beyond steps=30
    err = capsys.readouterr().err.strip()
    assert "'interventions[0].at_step'" in err and "\n" not in err and not out.exists()


@pytest.mark.parametrize("callback", [{"_target_": "builtins.open", "file": "/tmp/x", "mode": "w"},
                                      {"_target_": "os.system"}, {"file": "no target"}])
def test_a_callback_from_an_experiment_file_is_refused_unless_allowed(tmp_path, callback):
    from omegaconf import OmegaConf, open_dict

    from experiments import compose
    from experiments.guard import check_hydra

    cfg = compose(["territory=small", f"hydra.run.dir={tmp_path / 'out'}"], with_hydra=True)
    check_hydra(cfg, multirun=False)  # our own progress callback passes
    with open_dict(cfg):
        cfg.hydra.callbacks.evil = OmegaConf.create(callback)  # as an experiment file's hydra: callbacks: would
    with pytest.raises(ParamError, match="hydra.callbacks.evil._target_"):
        check_hydra(cfg, multirun=False)


def test_a_large_territory_file_costs_little_per_combination(tmp_path):
    import time

    from experiments.guard import check_command
    from sim import territory
    from sim.params import CommunityParams, TerritoryParams

    g = territory.build(TerritoryParams(name="national", nodes=2470), CommunityParams(), np.random.default_rng(0))
    nodes, edges = tmp_path / "n.csv", tmp_path / "e.csv"
    nodes.write_text("code,name,population,border\n" + "".join(
        f"N{i},n{i},{d['population']:.0f},{str(bool(d['border'])).lower()}\n" for i, d in g.nodes(data=True)))
    edges.write_text("a,b\n" + "".join(f"N{a},N{b}\n" for a, b in g.edges()))
    start = time.perf_counter()
    n = check_command(["territory=files", f"territory.nodes_file={nodes}", f"territory.edges_file={edges}",
                       "seed=range(0,500)", f"hydra.sweep.dir={tmp_path / 's'}"], multirun=True)
    assert n == 500 and time.perf_counter() - start < 10  # about 1 ms each (was 250 ms: parsed for each)
