"""Defects a new user's review of the command line and the Python API found (one test or more each)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from experiments import compose, run
from experiments.store import check_run

ROOT = Path(__file__).resolve().parents[1]


def _run_in(out: Path, *overrides: str) -> dict:
    return run.run_one(compose(["territory=small", "steps=6", *overrides]), out, list(overrides))


def test_a_run_replacing_another_removes_the_old_runs_outputs_and_nothing_else(tmp_path):
    out = tmp_path / "x"
    _run_in(out, "seed=4", "output.nodes=true", "output.csv=true")
    for name in ("figures/timeseries.png", "figures/territory.pdf"):  # as experiments.plot draws them
        (out / name).parent.mkdir(exist_ok=True)
        (out / name).write_bytes(b"old figure")
    (out / "notes.txt").write_text("mine")
    (out / "figures" / "mine.png").write_bytes(b"user's")
    assert {p.name for p in out.iterdir()} >= {"nodes.parquet", "nodes.csv", "timeseries.csv"}
    _run_in(out, "seed=5")
    assert sorted(p.name for p in out.iterdir()) == ["figures", "notes.txt", "summary.json", "timeseries.parquet"]
    assert [p.name for p in (out / "figures").iterdir()] == ["mine.png"]  # not a file the run owns
    status = check_run(out)
    assert status.finished and status.summary["seed"] == 5
    assert (out / "notes.txt").read_text() == "mine"


def test_rerunning_a_finished_run_keeps_the_csv_copies_collect_made(tmp_path):
    """A finished run skipped on a re-run removes nothing: `collect RUN --csv` wrote its CSVs."""
    out = tmp_path / "x"
    _run_in(out, "seed=1")
    (out / "timeseries.csv").write_text("step,homicides\n")  # as collect --csv writes it
    _run_in(out, "seed=1")
    assert (out / "timeseries.csv").is_file()


def test_a_run_stopped_after_its_summary_is_cleaned_by_the_next_identical_command(tmp_path):
    out = tmp_path / "x"
    _run_in(out, "seed=4", "output.nodes=true")
    _run_in(out, "seed=5")
    (out / "nodes.parquet").write_bytes(b"left by the replaced run")  # as if stopped before clean_stale
    (out / ".replacing").touch()
    _run_in(out, "seed=5")
    assert not (out / "nodes.parquet").exists() and not (out / ".replacing").exists()


def test_a_folder_without_an_earlier_run_is_never_cleaned(tmp_path):
    out = tmp_path / "x"
    (out / "figures").mkdir(parents=True)
    (out / "figures" / "timeseries.png").write_bytes(b"a user's figure")
    (out / "timeseries.csv").write_text("mine\n")
    _run_in(out, "seed=1")
    assert (out / "figures" / "timeseries.png").read_bytes() == b"a user's figure"
    assert (out / "timeseries.csv").read_text() == "mine\n"


def test_a_single_run_into_a_sweeps_folder_is_refused(tmp_path, capsys):
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    (sweep / "multirun.yaml").write_text("hydra: {}\n")
    assert run.cli(["territory=small", "steps=2", f"hydra.run.dir={sweep}"]) == 2
    err = capsys.readouterr().err.strip()
    assert "hydra.run.dir" in err and "multirun.yaml" in err and "\n" not in err
    assert sorted(p.name for p in sweep.iterdir()) == ["multirun.yaml"]


def test_an_interrupted_replacement_keeps_the_earlier_run_whole(tmp_path, monkeypatch):
    out = tmp_path / "x"
    _run_in(out, "seed=4", "output.nodes=true")
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def killed(model):
        raise KeyboardInterrupt
    monkeypatch.setattr(run, "_run_watched", killed)
    with pytest.raises(KeyboardInterrupt):
        _run_in(out, "seed=5")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert check_run(out).finished and check_run(out).summary["seed"] == 4


@pytest.fixture
def conf_copy(tmp_path, monkeypatch):
    """A copy of conf/ the test may spoil, used by compose and the command line in this process."""
    import shutil

    from experiments import config

    conf = tmp_path / "conf"
    shutil.copytree(config.CONF_DIR, conf)
    monkeypatch.setattr(config, "CONF_DIR", conf)
    return conf


def test_a_malformed_yaml_file_is_one_line_naming_the_file_and_where(conf_copy, tmp_path, capsys):
    (conf_copy / "policy" / "x.yaml").write_text("defaults:\n  - kingpin\nbudget_musd: [300\n")
    out = tmp_path / "run"
    assert run.cli(["policy=x", "territory=small", "steps=2", f"hydra.run.dir={out}"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err, err
    assert "policy/x.yaml: not valid YAML at line 4, column 1" in err and "line 3, column 14" in err
    assert "expected ',' or ']'" in err and not out.exists()
    (conf_copy / "experiment" / "y.yaml").write_text("hydra:\n  sweeper:\n    params: {seed: 1\n")
    from sim import ParamError
    with pytest.raises(ParamError, match=r"experiment/y.yaml: not valid YAML at line 4, column 1"):
        compose(["experiment=y"])


@pytest.mark.parametrize("where", ["root", "file", "under_file", "cwd"])
def test_compare_checks_its_out_folder_as_hydra_run_dir_is_checked(tmp_path, capsys, monkeypatch, where):
    from experiments import compare

    def never(*args):  # were the check missing, nothing runs, so nothing is written (into / least of all)
        raise AssertionError("compare ran with a bad --out")
    monkeypatch.setattr(compare, "_run", never)
    monkeypatch.chdir(tmp_path)
    afile = tmp_path / "a_file"
    afile.write_text("keep")
    out = {"root": "/", "file": str(afile), "under_file": str(afile / "sub"), "cwd": "."}[where]
    before = sorted(p.name for p in Path("/").iterdir())
    assert compare.main(["--out", out, "--seeds", "1", "--steps", "2", "--territory", "small", "--jobs", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: invalid value for '--out'") and "allowed: a folder" in err and "\n" not in err
    assert afile.read_text() == "keep" and sorted(p.name for p in tmp_path.iterdir()) == ["a_file"]
    assert sorted(p.name for p in Path("/").iterdir()) == before


@pytest.mark.parametrize("override, fields", [
    ("policy.shares=[0.5,0.5]", "policy.shares.<field>=... (fields: disruption, rule_of_law, border, prevention)"),
    ("output=[1]", "output.<field>=... (fields: nodes, csv)"),
])
def test_a_list_where_a_mapping_is_expected_says_a_mapping(tmp_path, capsys, override, fields):
    out = tmp_path / "bad"
    assert run.cli([override, f"hydra.run.dir={out}"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and f"'{override.split('=')[0]}'" in err and not out.exists()
    assert "allowed: a mapping, not a list: set its fields as " + fields in err and "a list [" not in err


def test_compose_and_simulate_refuse_a_named_sweep_and_compose_one_of_its_runs():
    from experiments import simulate
    from experiments.config import sweep_combinations
    from sim import ParamError

    for call in (compose, simulate):
        with pytest.raises(ParamError) as err:
            call(["experiment=guns"])
        text = str(err.value)
        assert "\n" not in text and "guns is a sweep of 80 runs" in text
        assert "python -m experiments.run -m experiment=guns" in text and "sweep_combinations" in text
    combo = next(c for c in sweep_combinations(["experiment=guns"])  # one run of the sweep: every swept key given
                 if "scenario.gun_inflow=200000" in c and "policy=prevention" in c and "seed=7" in c)
    cfg = compose(combo)
    assert (cfg.steps, cfg.territory.name, cfg.scenario.gun_inflow, cfg.policy.name, cfg.seed) == \
        (520, "mexico_states", 200000, "prevention", 7)
    assert compose(["experiment=hindcast"]).steps == 780  # an experiment that is one run still composes


def test_compose_refuses_a_string_of_overrides():
    from sim import ParamError

    with pytest.raises(ParamError, match=r"^invalid value for 'overrides': 'policy=kingpin' \(allowed: a list of "
                                         r"strings, e.g. \['policy=kingpin'\]\)$"):
        compose("policy=kingpin")


@pytest.mark.parametrize("csv", [False, True])
def test_collect_on_an_interrupted_run_says_it_is_not_finished(tmp_path, capsys, csv):
    from experiments import collect

    out = tmp_path / "run"
    (out / ".hydra").mkdir(parents=True)
    (out / ".hydra" / "config.yaml").write_text("steps: 6\n")  # Hydra wrote its config; the run was killed
    pd.DataFrame({"step": [1, 2]}).to_parquet(out / ".timeseries.parquet.x.part")
    before = sorted(p.name for p in out.rglob("*"))
    assert collect.main([str(out)] + (["--csv"] if csv else [])) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.startswith(f"error: {out} is not a finished run (empty: no summary.json)") and "\n" not in err
    assert "already written" not in captured.out and sorted(p.name for p in out.rglob("*")) == before


def test_an_unknown_preset_in_a_files_defaults_lists_the_presets(conf_copy, tmp_path, capsys):
    (conf_copy / "policy" / "x.yaml").write_text("defaults:\n  - kingpinn\nbudget_musd: 300\n")
    out = tmp_path / "run"
    assert run.cli(["policy=x", f"hydra.run.dir={out}"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("error: invalid value for 'policy': 'kingpinn' (allowed: named in the defaults of "
                   "conf/policy/x.yaml; one of finance_heavy, kingpin, merida, military_heavy, my_policy, none, "
                   "prevention, prevention_heavy, x)"), err
    assert not out.exists()


@pytest.mark.parametrize("argv, expected", [
    (["cartels=5"], "invalid value for 'cartels': 5 (allowed: cartels is a group, not one value: set its fields as "
                    "cartels.<field>=... (fields: initial_groups, initial_members_per_capita, initial_coverage, "),
    (["foo.bar=1"], "unknown key 'foo.bar' (set to '1'; allowed keys here: seed, steps, territory, policy, scenario, "
                    "cartels, "),
    (["foo.bar=1"], "('foo' is not a key at the top level))"),
    (["policy.foo.bar=1"], "allowed keys here: name, budget_musd, shares, targeting, prevention_share, "
                           "military_share, finance_share ('foo' is not a key in policy))"),
    (["steps.x=1"], "allowed keys here: none below steps: it is one value, set as steps=...)"),
    (["policy=kingpin,prevention"], "invalid value for 'policy': 'kingpin,prevention' (allowed: one value without -m;"
                                    " this is a sweep: add -m (python -m experiments.run -m policy=kingpin,prevention"),
    (["seed=range(0,4)"], "invalid value for 'seed': 'range(0,4)' (allowed: one value without -m; this is a sweep: "
                          "add -m"),
])
def test_vague_messages_now_say_what_is_allowed(tmp_path, capsys, argv, expected):
    out = tmp_path / "run"
    assert run.cli([*argv, "territory=small", "steps=2", f"hydra.run.dir={out}"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and expected in err, err
    assert "see sim/params.py" not in err and "a mapping of" not in err and not out.exists()


def test_a_bad_rng_is_named_as_rng():
    from sim import CartelModel, ParamError

    with pytest.raises(ParamError, match=r"^invalid value for 'rng': -1 \(allowed: an integer seed in 0\.\."):
        CartelModel(rng=-1, territory="small")
    with pytest.raises(ParamError, match=r"^invalid value for 'seed': -1"):
        CartelModel(seed=-1, territory="small")


def test_the_comparison_figure_is_redrawn_from_its_saved_tables_and_plot_says_how(tmp_path, capsys):
    from experiments import compare, plot

    out = tmp_path / "compare"
    assert compare.main(["--seeds", "2", "--steps", "4", "--territory", "small", "--jobs", "1", "--out", str(out)]) == 0
    first = capsys.readouterr().out
    table = first[first.index("policy "):first.index("\n\n", first.index("policy "))]
    figure = out / "figures" / "policies.png"
    figure.unlink()
    assert plot.main([str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"error: {out} is the output of python -m experiments.compare (make run), not a run or a sweep; "
                   f"redraw its figure with: python -m experiments.compare --replot --out {out}")
    before = {p: p.stat().st_mtime_ns for p in out.glob("*.*")}
    assert compare.main(["--replot", "--out", str(out)]) == 0
    again = capsys.readouterr().out
    assert figure.stat().st_size > 10_000 and table in again and "nothing simulated" in again
    assert {p: p.stat().st_mtime_ns for p in out.glob("*.*")} == before  # the tables are read, not rewritten
    assert compare.main(["--replot", "--out", str(tmp_path)]) == 2
    assert "timeseries.parquet, runs.csv missing" in capsys.readouterr().err


def test_population_is_a_whole_number_of_persons_and_out_is_ignored():
    from sim import CartelModel

    model = CartelModel(rng=1, territory="mexico_states", steps=1)
    assert model.summary()["population"] == 126_014_024  # before any week
    model.run()
    population = model.summary()["population"]
    assert type(population) is int and population == 126_014_024 and json.dumps(population) == "126014024"
    ignored = subprocess.run(["git", "check-ignore", "-q", "out/kingpin3/summary.json"], cwd=ROOT)
    assert ignored.returncode == 0  # the README's example folder is not offered for committing


def test_an_override_into_a_list_is_one_line(tmp_path, capsys):
    """interventions.x=1 reached OmegaConf's list indexing (a 47-line ValueError, exit 1)."""
    out = tmp_path / "run"
    assert run.cli(["interventions.x=1", "territory=small", "steps=2", f"hydra.run.dir={out}"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "'interventions.x'" in err and "a list" in err
    assert not out.exists()


@pytest.mark.parametrize("override, key, says", [
    ("timeline.0.at_step=1", "'timeline.0.at_step'", "timeline has no such entry here"),  # was 'list index out of range'
    ("policy.shares={a:1}", "'policy.shares.a'", "disruption, rule_of_law, border, prevention"),  # named 'shares'
])
def test_an_entry_a_list_or_a_group_lacks_is_named(tmp_path, capsys, override, key, says):
    out = tmp_path / "run"
    assert run.cli([override, "territory=small", "steps=2", f"hydra.run.dir={out}"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and key in err and says in err
    assert not out.exists()
