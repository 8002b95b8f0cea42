"""The command line: one run as a process, bad input refused cleanly, the notebook API, the main job."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from experiments import compare, compose, simulate
from experiments.run import cli
from sim.metrics import NODE_COLUMNS

ROOT = Path(__file__).resolve().parents[1]


def run_process(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "experiments.run", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def test_one_run_as_a_process_writes_its_files(tmp_path):
    out = tmp_path / "run"
    iv = "interventions=[{kind:remove_leader,group:largest,at_step:5,mode:kill}]"
    proc = run_process("territory=small", "policy=prevention", "steps=20", "seed=3", "output.nodes=true", iv,
                       f"hydra.run.dir={out}")
    assert proc.returncode == 0, proc.stderr
    assert "Step " not in proc.stdout + proc.stderr  # Mesa's per-step INFO log stays quiet
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert len(ts) == 20 and ts["leaders_removed"].sum() >= 1
    nodes = pd.read_parquet(out / "nodes.parquet")
    assert list(nodes.columns) == list(NODE_COLUMNS) and len(nodes) == 20 * 40
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == 3 and summary["version"] and "policy=prevention" in summary["overrides"]
    assert summary["interventions"][0]["fired"] and summary["config"]["policy"]["name"] == "prevention"
    assert not list(out.glob("*.part"))
    # the API gives the same numbers as the command line
    api = simulate(["territory=small", "policy=prevention", "steps=20", "seed=3", "output.nodes=true", iv])
    pd.testing.assert_frame_equal(api, ts)


@pytest.mark.parametrize("override, key", [
    ("policy=foo", "'policy'"),
    ("territory=mars", "'territory'"),
    ("policy.shares.prevention=0.9", "'policy.shares'"),
    ("policy.budget_musd=-5", "'policy.budget_musd'"),
    ("steps=0", "'steps'"),
    ("steps=abc", "'steps'"),
    ("cartels.succession_clarity=1.5", "'cartels.succession_clarity'"),
    ("policy.targeting=everyone", "'policy.targeting'"),
    ("output.nodes=maybe", "'output.nodes'"),
    ("cartels.nonsense=3", "'cartels.nonsense'"),
    ("+foo=1", "'foo'"),
    ("interventions=[{kind:remove_leader,group:largest,at_step:9999,mode:capture}]", "'interventions[0].at_step'"),
    ("scenario.gun_inflow=-1", "'scenario.gun_inflow'"),
    ("seed=-1", "'seed'"),
    ("steps=1.5", "'steps'"),
    ("policy.budget_musd=abc", "'policy.budget_musd'"),
    ("policy.prevention_share=2", "'policy.prevention_share'"),
    ("policy.shares.border=1.5", "'policy.shares.border'"),
    ("territory.nodes=-3", "'territory.nodes'"),
    ("scenario.recruitment_scale=-1", "'scenario.recruitment_scale'"),
    ("cartels.lieutenants=0", "'cartels.lieutenants'"),
    ("court.sentence_weeks=0", "'court.sentence_weeks'"),
    ("community.takeup=2", "'community.takeup'"),
    ("interventions=[{kind:bomb}]", "'interventions[0].kind'"),
    ("interventions=[{kind:remove_leader,group:biggest,at_step:2}]", "'interventions[0].group'"),
    ("interventions=[{kind:remove_leader,mode:maim,at_step:2}]", "'interventions[0].mode'"),
    ("interventions=[{kind:remove_leader}]", "'interventions[0].at_step'"),  # when: required, no default
    ("interventions=[{kind:operation,where:S01}]", "'interventions[0].from_step'"),
    ("experiment=nope", "'experiment'"),
    ("scenario=apocalypse", "'scenario'"),
])
def test_bad_input_one_line_exit_2_nothing_written(tmp_path, capsys, override, key):
    out = tmp_path / "bad"
    assert cli([override, f"hydra.run.dir={out}"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and key in err and "allowed" in err and "\n" not in err
    assert not out.exists()


def test_a_bad_combination_in_a_sweep_is_caught_before_any_job(tmp_path, capsys):
    out = tmp_path / "sweep"
    assert cli(["-m", "seed=0,1", "policy.shares.prevention=0.05,0.9", f"hydra.sweep.dir={out}"]) == 2
    err = capsys.readouterr().err.strip()
    assert "'policy.shares'" in err and "summing to 1" in err and not out.exists()


def test_bad_input_as_a_process_has_no_traceback(tmp_path):
    proc = run_process("-m", "policy=kingpin,nope", "steps=4", f"hydra.sweep.dir={tmp_path / 'sweep'}")
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "Traceback" not in proc.stderr
    assert "'policy'" in proc.stderr and not (tmp_path / "sweep").exists()


def test_compose_returns_the_cli_config():
    cfg = compose(["policy=prevention", "territory=national", "cartels.succession_clarity=0.2"])
    assert cfg.policy.shares.prevention == 0.5 and cfg.territory.name == "national"
    assert cfg.cartels.succession_clarity == 0.2 and cfg.interventions == []


def test_main_comparison_job_tiny(tmp_path, capsys):
    out = tmp_path / "cmp"
    args = ["--seeds", "2", "--territory", "small", "--steps", "30", "--jobs", "1", "--out", str(out)]
    assert compare.main(args) == 0
    text = capsys.readouterr().out
    for policy in ("none", "kingpin", "merida", "prevention"):
        assert policy in text
    runs = pd.read_csv(out / "runs.csv")
    assert len(runs) == 8 and set(runs["policy"]) == {"none", "kingpin", "merida", "prevention"}
    png = out / "figures" / "policies.png"
    assert png.exists() and (out / "figures" / "policies.pdf").exists()
    pixels = Image.open(png).convert("L")
    lo, hi = pixels.getextrema()
    assert hi - lo > 100  # not a blank image
    assert compare.main(["--seeds", "0", "--out", str(tmp_path / "x")]) == 2


def test_a_reused_run_directory_with_other_overrides_is_run_again(tmp_path):
    out = tmp_path / "same"
    assert run_process("territory=small", "steps=5", "policy=prevention", f"hydra.run.dir={out}").returncode == 0
    proc = run_process("territory=small", "steps=5", "policy=kingpin", f"hydra.run.dir={out}")
    assert proc.returncode == 0 and "different configuration" in proc.stdout + proc.stderr
    assert json.loads((out / "summary.json").read_text())["config"]["policy"]["name"] == "kingpin"


# Issue 15: values an adversarial user tried that crashed, hung or wrote somewhere after passing the
# check; each now gets one line naming its key, exit 2 and nothing written. ``{tmp}`` is a fresh folder.
ISSUE_15 = [
    (["police.unit_cost_musd=0"], "'police.unit_cost_musd'"),
    (["community.prevention_half_musd=0"], "'community.prevention_half_musd'"),
    (["community.resilience_mean=1"], "'community.resilience_mean'"),
    (["community.opportunity_mean=1"], "'community.opportunity_mean'"),
    (["community.youth_share=0"], "'community.youth_share'"),
    (["scenario.gun_inflow=1e300"], "'scenario.gun_inflow'"),
    (["cartels.gun_price_musd=0"], "'cartels.gun_price_musd'"),
    *[([f"territory.nodes={n}", "territory=national"], "'territory.nodes'") for n in range(1, 11)],
    (["cartels.bystander_rate=1e12"], "'cartels.bystander_rate'"),
    (["policy.budget_musd=230000000"], "'policy.budget_musd'"),
    (["police.base_units_per_million=1e12"], "'police.base_units_per_million'"),
    (["police.unit_cost_musd=0.01", "policy.budget_musd=90000"], "'policy.budget_musd'"),
    (["territory=small", "territory.population=1e9", "police.base_units_per_million=100"],
     "'police.base_units_per_million'"),
    (["cartels.initial_members_per_capita=0.5"], "'cartels.initial_members_per_capita'"),
    (["scenario.recruitment_scale=20"], "'scenario.recruitment_scale'"),
    (["seed=9223372036854775808"], "'seed'"),
    (["seed=1e30"], "'seed'"),
    (["steps=${oc.env:NOPE}"], "'steps'"),
    (["steps=${steps}"], "'steps'"),
    (["policy.name=${oc.env:HOME}"], "'policy.name'"),
    (["hydra.run.dir={tmp}/afile"], "'hydra.run.dir'"),
    (["hydra.run.dir={tmp}/afile/below"], "'hydra.run.dir'"),
    (["hydra.run.dir=/proc/cartelsim_out"], "'hydra.run.dir'"),
    (["hydra.run.dir="], "'hydra.run.dir'"),
    (["hydra.run.dir=/"], "'hydra.run.dir'"),
    (["hydra.run.dir=."], "'hydra.run.dir'"),
    (["-m", "seed=0,1", "hydra.sweep.dir=/"], "'hydra.sweep.dir'"),
    (["hydra.run.dir=${oc.env:NOPE}"], "'hydra.run.dir'"),
    (["+hydra.callbacks.x._target_=builtins.open", "+hydra.callbacks.x.file={tmp}/evil"], "'hydra.callbacks.x"),
    (["hydra.callbacks.progress._target_=builtins.print"], "'hydra.callbacks.progress._target_'"),
    (["+hydra.foo=1"], "'hydra.foo'"),
    (["~steps"], "'steps'"),
    (["territory=small", "territory.nodes_file=nodes.csv"], "'territory.nodes_file'"),
    (["policy.name=ñandú"], "'policy.name'"),
    (["steps=ñ"], "'steps'"),
    (["+steps=3"], "'steps'"),
]


@pytest.mark.parametrize("args, key", ISSUE_15, ids=[" ".join(a) for a, _ in ISSUE_15])
def test_issue_15_bad_values_one_line_exit_2_nothing_written(tmp_path, capsys, monkeypatch, args, key):
    (tmp_path / "afile").write_text("not a folder")
    monkeypatch.chdir(tmp_path)  # '.' and '' mean this folder: nothing may appear in it
    before = sorted(p.name for p in tmp_path.iterdir())
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    out = tmp_path / "out"
    extra = [] if any(a.startswith(("hydra.run.dir", "hydra.sweep.dir")) for a in args) else [f"hydra.run.dir={out}"]
    assert cli([*args, *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and key in err and "allowed" in err and "\n" not in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == before and not Path("/proc/cartelsim_out").exists()
