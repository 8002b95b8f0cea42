"""The timeline (sim/timeline.py): dated input changes, checked before the run, applied at the start of
their week; the mexico_2007 scenario's sourced history."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments import compose
from experiments.run import cli
from sim import CartelModel, timeline
from sim.params import ParamError, to_dict
from tests.conftest import make

ROOT = Path(__file__).resolve().parents[1]


def run_process(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "experiments.run", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def funded(model: CartelModel) -> int:
    return sum(1 for u in model.police if u.funded)


def test_a_budget_change_takes_effect_in_its_week_and_not_before():
    # territory=small is 3 M people (2.4% of Mexico): kingpin's 230 US$ M buys 161 units nationally, 4 here
    model = make(policy="kingpin", steps=12, timeline=[{"at_step": 6, "set": {"policy.budget_musd": 690.0}}])
    counts = []
    for _ in range(8):
        model.step()
        counts.append(funded(model))
    assert counts == [4] * 5 + [11] * 3  # 690 x 0.7 = 483 units nationally x 3 M / 126.0 M = 11.498 -> 11
    assert model.p.policy.budget_musd == 690.0 and model.intelligence == pytest.approx(1 + 690 * 0.7 / 100)
    (event,) = [e for e in model.events if e["kind"] == "timeline"]
    assert event == {"kind": "timeline", "at_step": 6, "fired": True, "set": {"policy.budget_musd": 690.0},
                     "was": {"policy.budget_musd": 230.0}, "source": ["timeline[0]"], "funded_units": 11}


def test_units_are_retired_as_mesa_agents_when_the_budget_falls():
    model = make(policy="kingpin", steps=6, timeline=[{"at_step": 2, "set": {"policy": {"budget_musd": 0}}}])
    model.step()
    before = set(u for u in model.police if u.funded)
    assert len(before) == 4
    model.step()
    assert funded(model) == 0 and model.funded_units == 0
    assert not any(u in model.agents for u in before)  # removed from Mesa's registry, not just our list
    people = model.people_total()
    model.run()
    assert model.people_total() == people


def test_same_seed_runs_are_identical_before_the_change_and_differ_after():
    change = [{"at_step": 30, "set": {"policy.targeting": "operators", "policy.budget_musd": 600.0}}]
    base = make(policy="kingpin", steps=52).run()
    changed = make(policy="kingpin", steps=52, timeline=change).run()
    before = base["step"] < 30
    pd.testing.assert_frame_equal(base[before], changed[before])
    assert not base[~before].equals(changed[~before])
    assert changed.loc[changed["step"] >= 30, "operators_arrested"].sum() > \
        base.loc[base["step"] >= 30, "operators_arrested"].sum()


def test_gun_inflow_change_is_read_in_its_week():
    model = make(policy="none", steps=10, timeline=[{"at_step": 4, "set": {"scenario.gun_inflow": 0}}])
    supply = []
    for _ in range(6):
        model.step()
        supply.append(model.gun_supply)
    assert all(s > 0 for s in supply[:3]) and supply[3:] == [0.0, 0.0, 0.0]


def test_the_python_api_and_the_cli_config_build_the_same_schedule():
    entry = [{"at_step": 3, "set": {"policy": {"shares": {"prevention": 0.25, "disruption": 0.5}}}}]
    model = make(policy="kingpin", steps=5, timeline=entry)
    cfg = compose(["territory=small", "policy=kingpin", "steps=5",
                   "timeline=[{at_step:3,set:{policy.shares.prevention:0.25,policy.shares.disruption:0.5}}]"])
    from experiments.config import to_params

    assert timeline.schedule(to_params(cfg)) == timeline.schedule(model.p)
    model.run()
    assert model.p.policy.shares.prevention == 0.25 and model.prevention_cut.max() > 0


@pytest.mark.parametrize("entries, key, says", [
    ([{"at_step": 3, "set": {"policy.budget": 1}}], "'timeline[0].set.policy.budget'", "unknown key"),
    ([{"at_step": 3, "set": {"cartels.lethality": 0.1}}], "'timeline[0].set.cartels.lethality'", "model parameter"),
    ([{"at_step": 3, "set": {"scenario.recruitment_scale": 2}}], "'timeline[0].set.scenario.recruitment_scale'",
     "outcome-shaping"),
    ([{"at_step": 3, "set": {"scenario.population_year": 2010}}], "'timeline[0].set.scenario.population_year'",
     "conserved"),
    ([{"at_step": 2, "set": {"policy.budget_musd": 1}}, {"at_step": 3, "set": {"policy.budget_musd": -3}}],
     "'timeline[1].set.policy.budget_musd'", "[0, 100000]"),
    ([{"at_step": 3, "set": {"policy.targeting": "nobody"}}], "'timeline[0].set.policy.targeting'", "leaders"),
    ([{"at_step": 3, "set": {"policy.shares.prevention": 0.5}}], "'timeline[0].set.policy.shares.prevention'",
     "policy.shares would be 1.45"),
    ([{"at_step": 0, "set": {"policy.budget_musd": 1}}], "'timeline[0].at_step'", "1..10"),
    ([{"at_step": 11, "set": {"policy.budget_musd": 1}}], "'timeline[0].at_step'", "1..10"),
    ([{"at_step": 4, "set": {"policy.budget_musd": 1}}, {"at_step": 4, "set": {"policy": {"budget_musd": 2}}}],
     "'timeline[1].set.policy.budget_musd'", "timeline[0] changes it in that week too"),
    ([{"at_step": 4, "set": {}}], "'timeline[0].set'", "a mapping"),
    ([{"at_step": 4, "set": {"policy.budget_musd": "lots"}}], "'timeline[0].set.policy.budget_musd'", "a number"),
])
def test_bad_entries_are_refused_naming_the_entry(entries, key, says):
    with pytest.raises(ParamError) as err:
        make(policy="kingpin", steps=10, timeline=entries)
    msg = str(err.value)
    assert key in msg and says in msg and "\n" not in msg


def test_a_later_change_to_the_shares_that_sums_to_one_is_accepted():
    model = make(policy="kingpin", steps=10, timeline=[
        {"at_step": 2, "set": {"policy.shares.prevention": 0.25, "policy.shares.disruption": 0.5}},
        {"at_step": 5, "set": {"policy.shares": {"prevention": 0.05, "disruption": 0.7}}}])
    model.run()
    assert model.p.policy.shares.disruption == 0.7 and len([e for e in model.events if e["kind"] == "timeline"]) == 2


def test_military_share_is_a_timeline_key_that_splits_the_funded_units_in_its_week():
    assert "policy.military_share" in timeline.TIMELINE_KEYS and "policy.military_share" in timeline.allowed_keys()
    model = make(policy="kingpin", steps=8, timeline=[{"at_step": 4, "set": {"policy.military_share": 0.5}}])
    weeks = []
    for _ in range(6):
        model.step()
        own = [u for u in model.police if u.funded and u.operation is None]
        weeks.append((len(own), sum(u.force == "military" for u in own), model.military_units))
    # 4 funded units throughout (see above); half of them armed forces from week 4 on, none before
    assert weeks == [(4, 0, 0)] * 3 + [(4, 2, 2)] * 3
    (event,) = [e for e in model.events if e["kind"] == "timeline"]
    assert event["set"] == {"policy.military_share": 0.5} and event["was"] == {"policy.military_share": 0.0}


@pytest.mark.parametrize("override, key", [
    ("timeline=[{at_step:3,set:{policy.budget_musd:-1}}]", "'timeline[0].set.policy.budget_musd'"),
    ("timeline=[{at_step:30,set:{policy.budget_musd:1}}]", "'timeline[0].at_step'"),
    ("timeline=[{at_step:3,set:{cartels:{lethality:0.1}}}]", "'timeline[0].set.cartels.lethality'"),
    ("timeline=[{at_step:3,set:{policy.nope:1}}]", "'timeline[0].set.policy.nope'"),
    ("timeline=[{at_step:3,set:{policy.budget_musd:1}},{at_step:3,set:{policy.budget_musd:2}}]",
     "'timeline[1].set.policy.budget_musd'"),
    ("scenario.timeline_file=nowhere", "'scenario.timeline_file'"),
    ("timeline=[{set:{policy.budget_musd:1}}]", "'timeline[0].at_step': 'missing'"),
    ("timeline=[{at_step:3}]", "'timeline[0].set': 'missing'"),
    ("timeline={at_step:3,set:{policy.budget_musd:1}}", "'timeline'"),
    ("policy=[kingpin,merida]", "'policy'"),
])
def test_cli_refuses_bad_timelines_exit_2_nothing_written(tmp_path, capsys, override, key):
    out = tmp_path / "bad"
    assert cli(["territory=small", "steps=20", override, f"hydra.run.dir={out}"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and key in err and "allowed" in err and "\n" not in err
    assert not out.exists()


def test_cli_runs_a_timeline_with_dotted_and_nested_keys(tmp_path):
    import json

    runs = {}
    for form in ("{policy.budget_musd:600}", "{policy:{budget_musd:600}}"):
        out = tmp_path / str(len(runs))
        proc = run_process("territory=small", "policy=kingpin", "steps=8", f"timeline=[{{at_step:5,set:{form}}}]",
                           f"hydra.run.dir={out}")
        assert proc.returncode == 0, proc.stderr
        summary = json.loads((out / "summary.json").read_text())
        (event,) = [e for e in summary["interventions"] if e["kind"] == "timeline"]
        assert event["at_step"] == 5 and event["set"] == {"policy.budget_musd": 600.0}
        runs[form] = pd.read_parquet(out / "timeseries.parquet")
    a, b = runs.values()
    pd.testing.assert_frame_equal(a, b)


# --------------------------------------------------------------------------------------------------
# The mexico_2007 history
# --------------------------------------------------------------------------------------------------
def test_mexico_2007_history_file_is_sourced_and_dated():
    hist = timeline.load_history(str(timeline.history_path("mexico_2007")))
    assert str(hist.start) == "2007-01-01"
    changes = {(w, k): v for w, k, v, _ in hist.changes}
    assert changes[(1, "policy.budget_musd")] == 0 and changes[(53, "policy.budget_musd")] == 230
    assert changes[(1, "policy.targeting")] == "leaders" and changes[(366, "policy.shares.prevention")] == 0.33
    assert changes[(627, "policy.targeting")] == "violence"  # 2019-01-01 is in week 627
    assert timeline.week_of(__import__("datetime").date(2008, 3, 1), hist.start) == 61
    # rows whose number still needs a source (empty value) are skipped and listed with that reason, not invented
    lines = (ROOT / "sim/data/mexico_2007_timeline.csv").read_text(encoding="utf-8").splitlines()
    rows = [(n, next(csv.reader([line]))) for n, line in enumerate(lines, 1) if line and not line.startswith("#")]
    unsourced = [n for n, row in rows[1:] if row[1] != "start" and not row[2] and "need" in row[6] + row[7]]
    assert len(unsourced) >= 7 and [line for line, _ in hist.skipped] == unsourced
    assert all("needs a source" in reason for _, reason in hist.skipped)
    assert "the value of policy.military_share needs a source" in [reason for _, reason in hist.skipped]
    assert not any(k == "policy.military_share" for _, k, _, _ in hist.changes)


def test_a_bad_history_file_is_refused_with_file_and_line(tmp_path):
    bad = tmp_path / "bad_timeline.csv"
    bad.write_text("date,key,value,where,to_date,force,source,note\n2007-01-01,start,,,,,,\n"
                   "2008-13-01,policy.budget_musd,1,,,,a source,\n", encoding="utf-8")
    with pytest.raises(ParamError, match=r"bad_timeline.csv line 3: date '2008-13-01'"):
        make(steps=10, scenario__timeline_file=str(bad))
    bad.write_text("date,key,value,where,to_date,force,source,note\n2007-01-01,start,,,,,,\n"
                   "2008-01-01,cartels.lethality,1,,,,a source,\n", encoding="utf-8")
    timeline.load_history.cache_clear()
    with pytest.raises(ParamError, match=r"line 3: cartels.lethality may not change"):
        make(steps=10, scenario__timeline_file=str(bad))


def test_user_entries_override_the_history_in_the_same_week():
    model = make(policy="kingpin", steps=60, scenario="mexico_2007",
                 timeline=[{"at_step": 53, "set": {"policy.budget_musd": 460.0}}])
    sched = timeline.schedule(model.p)
    assert [c.value for c in sched[53] if c.key == "policy.budget_musd"] == [460.0]


def test_mexico_2007_cli_run_funds_units_when_merida_starts(tmp_path):
    out = tmp_path / "hindcast"
    proc = run_process("scenario=mexico_2007", "territory=mexico_states", "steps=60", f"hydra.run.dir={out}")
    assert proc.returncode == 0, proc.stderr
    import json

    summary = json.loads((out / "summary.json").read_text())
    events = {e["at_step"]: e for e in summary["interventions"] if e["kind"] == "timeline"}
    assert sorted(events) == [1, 53]  # 2007: no Mérida money (the base force only); 2008: disbursements start
    assert events[1]["funded_units"] == 0 and events[53]["funded_units"] == 161  # 230 x 0.70 / 1 US$ M a unit
    assert events[53]["set"] == {"policy.budget_musd": 230.0}
    assert summary["config"]["scenario"]["timeline_file"] == "mexico_2007"
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert len(ts) == 60 and np.isfinite(ts["homicides"]).all()


def test_params_round_trip_keeps_the_timeline():
    model = make(steps=10, timeline=[{"at_step": 3, "set": {"policy.budget_musd": 1.0}}])
    again = CartelModel(params=model.p)
    assert to_dict(again.p)["timeline"] == [{"at_step": 3, "set": {"policy.budget_musd": 1.0}}]


def test_history_operations_join_the_run_as_operation_interventions(tmp_path):
    """An operation row with its units filled in becomes an `operation` intervention of the run (its
    dates as weeks); a row whose units still need a source is skipped and listed; an operation in a
    state the territory does not have is refused with the file and line."""
    timeline.load_history.cache_clear()
    file = tmp_path / "ops_timeline.csv"
    file.write_text("date,key,value,where,to_date,force,source,note\n2007-01-01,start,,,,,,\n"
                    "2008-03-01,operation,,Chihuahua,,military,a source,units need a source\n"
                    "2007-01-15,operation,40,Chihuahua,2007-02-12,military,a source,\n", encoding="utf-8")
    hist = timeline.load_history(str(file))
    assert hist.operations == ({"kind": "operation", "where": "Chihuahua", "from_step": 3, "to_step": 7,
                                "units": 40, "force": "military", "line": 4},)
    assert hist.skipped == ((3, "the operation's number of units needs a source"),)
    model = make(steps=10, territory="mexico_states", scenario__timeline_file=str(file))
    node = next(j for j in range(model.n_nodes) if model.territory.nodes[j]["state"] == "Chihuahua")
    seen = []
    for _ in range(10):
        model.step()
        seen.append(int(model.military_at[node]))
    assert seen == [0, 0, 40, 40, 40, 40, 40, 0, 0, 0]
    with pytest.raises(ParamError, match="ops_timeline.csv line 4: .*where"):
        make(steps=10, territory="small", scenario__timeline_file=str(file))
    timeline.load_history.cache_clear()


def test_the_hindcast_experiment_is_the_2007_2021_set_up():
    from experiments import compose

    cfg = compose(["experiment=hindcast"])
    assert (cfg.territory.name, cfg.policy.name, cfg.scenario.name, cfg.steps) == ("national", "kingpin", "mexico_2007", 780)
    assert cfg.scenario.timeline_file == "mexico_2007" and cfg.scenario.population_year == 2007
