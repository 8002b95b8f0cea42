"""collect and plot know what a sweep is; CSV exports; uncertainty notes on small samples."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments import collect, compare, figures, plot
from experiments.folders import NotARunOrSweep, classify

ROOT = Path(__file__).resolve().parents[1]
TINY = ["territory=small", "steps=12"]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "experiments.run", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> Path:
    """A tiny sweep (2 policies x 2 seeds) and two separate single runs, one with CSV and node output."""
    root = tmp_path_factory.mktemp("exports")
    run_cli("-m", *TINY, "policy=kingpin,none", "seed=0,1", "hydra/launcher=basic", f"hydra.sweep.dir={root}/sweep")
    run_cli(*TINY, "output.csv=true", "output.nodes=true", f"hydra.run.dir={root}/runs/a")
    run_cli(*TINY, "seed=3", f"hydra.run.dir={root}/runs/b")
    return root


def test_one_run_writes_csv_beside_parquet_with_the_same_numbers(folders):
    run = folders / "runs" / "a"
    for name in ("timeseries", "nodes"):
        parquet = pd.read_parquet(run / f"{name}.parquet")
        csv = pd.read_csv(run / f"{name}.csv")
        assert list(csv.columns) == list(parquet.columns) and len(csv) == len(parquet) > 0
        np.testing.assert_allclose(csv.select_dtypes("number").to_numpy(float),
                                   parquet.select_dtypes("number").to_numpy(float))
    assert not (folders / "runs" / "b" / "timeseries.csv").exists()  # off by default


def test_collect_csv_writes_both_tables(folders, capsys):
    sweep = folders / "sweep"
    assert collect.main([str(sweep), "--csv"]) == 0
    runs = pd.read_csv(sweep / "runs.csv")
    results = pd.read_csv(sweep / "results.csv")
    assert len(runs) == 4 and len(results) == 4 * 12
    assert sorted(runs["policy"].unique()) == ["kingpin", "none"]
    parquet = pd.read_parquet(sweep / "runs.parquet")
    assert runs["homicides_last_year"].tolist() == parquet["homicides_last_year"].tolist()
    # one run's folder: its own tables as CSV
    assert collect.main([str(folders / "runs" / "b"), "--csv"]) == 0
    assert len(pd.read_csv(folders / "runs" / "b" / "timeseries.csv")) == 12


@pytest.mark.parametrize("where, says", [
    ("runs", "holds 2 separate runs (a, b)"),
    (".", "holds 1 sweep (sweep) and 2 separate runs (runs/a, runs/b)"),
    ("nowhere", "no folder"),
])
def test_collect_and_plot_refuse_a_folder_that_is_not_a_sweep_or_a_run(folders, capsys, where, says):
    target = folders / where
    before = sorted(p.name for p in folders.rglob("*"))
    for main in (collect.main, plot.main):
        assert main([str(target)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("error: ") and says in err, err
    assert sorted(p.name for p in folders.rglob("*")) == before  # nothing written


def test_a_folder_with_two_sweeps_is_refused_so_they_are_never_mixed(tmp_path):
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "multirun.yaml").write_text("hydra: {}\n")
    with pytest.raises(NotARunOrSweep, match="holds 2 sweeps"):
        classify(tmp_path)
    (tmp_path / "multirun.yaml").write_text("hydra: {}\n")
    with pytest.raises(NotARunOrSweep, match="other sweeps inside it"):
        classify(tmp_path)
    assert classify(tmp_path / "one").kind == "sweep"


def test_plot_of_a_single_run_draws_that_run(folders, capsys):
    run = folders / "runs" / "a"
    assert plot.main([str(run)]) == 0
    names = {p.name for p in (run / "figures").iterdir()}
    assert {"timeseries.png", "timeseries.pdf", "territory.png"} <= names
    assert "one seed: no band" not in capsys.readouterr().err


def test_plot_prints_seeds_and_pairs_and_warns_on_few(folders, capsys):
    assert plot.main([str(folders / "sweep")]) == 0
    out, err = capsys.readouterr()
    assert "95% bands across 2 seeds per line (n = 2)" in out
    table = pd.read_csv(folders / "sweep" / "effects.csv")
    assert (table["pairs"] == 2).all() and (table["note"] == "few pairs").all()
    assert "warning: only 2 seeds: the 95% bands are rough" in err
    assert "warning: only 2 pairs: the bootstrap intervals are rough" in err


def _captured_figure(monkeypatch):
    seen = {}

    def keep(fig, path):
        seen["texts"] = [t.get_text() for t in fig.texts]
        return []
    monkeypatch.setattr(figures, "save", keep)
    return seen


def _weekly(n_seeds: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = [{"policy": p, "seed": s, "step": t, "homicides": rng.poisson(20), "members": 100, "groups_active": 5,
             "effective_groups": 3.0} for p in ("none", "kingpin") for s in range(n_seeds) for t in range(1, 11)]
    return pd.DataFrame(rows)


def test_figure_from_few_seeds_carries_a_visible_note_and_a_warning(monkeypatch, tmp_path):
    seen = _captured_figure(monkeypatch)
    with pytest.warns(figures.FewSeedsWarning, match="only 3 seeds"):
        figures.policy_timeseries(_weekly(3), tmp_path / "x")
    assert any(t.startswith("Note: only 3 seeds") for t in seen["texts"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", figures.FewSeedsWarning)
        figures.policy_timeseries(_weekly(figures.FEW_SEEDS), tmp_path / "y")
    assert not any("Note:" in t for t in seen["texts"])


def test_effects_give_pairs_and_no_interval_from_one_pair():
    runs = pd.DataFrame({"policy": ["none", "kingpin"], "seed": [0, 0], "homicides_last_year": [10, 14],
                         "members": [1, 1], "groups_active": [1, 1], "effective_groups": [1.0, 1.0]})
    row = plot.effects(runs, "policy").set_index("outcome").loc["homicides_last_year"]
    assert row["pairs"] == 1 and row["effect"] == 4 and np.isnan(row["ci_low"]) and np.isnan(row["ci_high"])


def test_compare_table_prints_seeds_beside_each_row():
    runs = pd.DataFrame([{"policy": p, "seed": s, **dict.fromkeys(compare.OUTCOMES, float(s))}
                         for p in ("none", "kingpin") for s in range(3)])
    text = compare.format_table(compare.table(runs, ["none", "kingpin"]))
    header, *rows = text.splitlines()
    assert header.split()[-1] == "seeds" and [r.split()[-1] for r in rows] == ["3", "3"]


def test_summary_keys_are_all_documented_in_the_readme(folders):
    summary = json.loads((folders / "runs" / "a" / "summary.json").read_text())
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("<!-- summary-keys -->"):readme.index("<!-- /summary-keys -->")]
    missing = [k for k in summary if f"`{k}`" not in section]
    assert not missing, f"summary.json keys not in the README's table: {missing}"


def test_dry_run_counts_runs_and_estimates_disk_and_time_within_a_factor_two(folders, capsys):
    from experiments import plan, run

    overrides = [*TINY, "policy=kingpin,none", "seed=0,1", "hydra/launcher=basic"]
    p = plan.plan(overrides, bench=Path("no-bench.json"))  # the built-in figures, whatever results/ holds
    assert p.runs == 4 and p.weeks == 48 and p.workers == 1 and p.launcher == "basic"
    actual = sum(f.stat().st_size for d in (folders / "sweep").iterdir() if d.is_dir() and d.name != "figures"
                 for f in d.rglob("*") if f.is_file())
    assert actual / 2 < p.bytes < actual * 2, (p.bytes, actual)
    # time: 4 runs of 12 weeks plus the basic launcher's cost beyond the simulation, each
    assert p.cpu_s == pytest.approx(48 * plan.RUN_S_520["small"] / 520 + 4 * plan.LAUNCHER_OVERHEAD_S["basic"], rel=1e-9)
    assert run.cli(["-m", *overrides, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("runs: 4 (48 simulated weeks)") and "time: about" in out and "disk: about" in out
    # the experiment files: their declared sweeps are counted, nothing is run
    assert plan.plan(["experiment=kingpin_event_study"]).runs == 40
    assert plan.main(["policy=foo"]) == 2
    assert "invalid value for 'policy'" in capsys.readouterr().err
