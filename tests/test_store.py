"""The results store: collect is incremental, writes parquet datasets that pyarrow, DuckDB and polars
read, replaces the rows of runs that changed, and keeps one schema across collects."""

from __future__ import annotations

import json
import shutil
import warnings

import duckdb  # in the `dev` extra (pyproject.toml): a broken install fails, it is not skipped
import pandas as pd
import polars as pl
import pyarrow.dataset as ds
import pytest

from experiments import bench_store, collect

WEEKS = 30


@pytest.fixture(scope="module")
def tpl():
    return bench_store.templates(WEEKS)


def test_second_collect_reads_only_new_runs_and_every_reader_agrees(tmp_path, tpl, monkeypatch):
    sweep = tmp_path / "sweep"
    bench_store.make_runs(sweep, 0, 40, tpl)
    runs, left_out = collect.collect(sweep, quiet=True)
    assert len(runs) == 40 and not left_out and (sweep / "results.parquet").is_dir()
    checked = []
    real = collect.check_run
    monkeypatch.setattr(collect, "check_run", lambda d: checked.append(d.name) or real(d))
    bench_store.make_runs(sweep, 40, 5, tpl)
    runs, _ = collect.collect(sweep, quiet=True)
    assert sorted(checked) == sorted(f"policy={bench_store.POLICIES[i % 4]},seed={i}" for i in range(40, 45))
    assert len(runs) == 45 and runs["run"].is_unique
    assert len(list((sweep / "results.parquet").glob("part-*.parquet"))) == 2  # one part per collect here

    results = pd.read_parquet(sweep / "results.parquet")
    assert len(results) == 45 * WEEKS and results.groupby("seed").size().eq(WEEKS).all()
    expected = results.groupby("policy")["homicides"].mean().sort_index()
    table = ds.dataset(sweep / "results.parquet", format="parquet").to_table(columns=["policy", "homicides"])
    assert table.num_rows == 45 * WEEKS
    glob = str(sweep / "results.parquet" / "*.parquet")
    got = duckdb.sql(f"SELECT policy, avg(homicides) AS h FROM read_parquet('{glob}') GROUP BY policy").df()
    assert got.set_index("policy")["h"].sort_index().to_numpy() == pytest.approx(expected.to_numpy())
    got = pl.scan_parquet(glob).group_by("policy").agg(pl.col("homicides").mean()).collect().to_pandas()
    assert got.set_index("policy")["homicides"].sort_index().to_numpy() == pytest.approx(expected.to_numpy())
    # runs.parquet: one row per run with its end-of-run outcomes, as before
    assert pd.read_parquet(sweep / "runs.parquet")["homicides_last_year"].notna().all()


def test_changed_damaged_and_removed_runs_leave_no_stale_rows(tmp_path, tpl):
    sweep = tmp_path / "sweep"
    bench_store.make_runs(sweep, 0, 12, tpl)
    collect.collect(sweep, quiet=True)
    # a run re-run with other results (its files rewritten), a run damaged, a run deleted
    rerun = sweep / "policy=none,seed=0"
    summary = json.loads((rerun / "summary.json").read_text())
    summary["homicides_last_year"] = -1
    (rerun / "summary.json").write_text(json.dumps(summary))
    damaged = sweep / "policy=kingpin,seed=1"
    data = (damaged / "timeseries.parquet").read_bytes()
    (damaged / "timeseries.parquet").write_bytes(data[: len(data) // 2])
    shutil.rmtree(sweep / "policy=merida,seed=2")
    with pytest.warns(UserWarning, match="damaged"):
        runs, left_out = collect.collect(sweep, quiet=True)
    assert len(runs) == 10 and "policy=kingpin,seed=1" in " ".join(left_out)
    assert runs.set_index("run").loc["policy=none,seed=0", "homicides_last_year"] == -1
    results = pd.read_parquet(sweep / "results.parquet")
    assert len(results) == 10 * WEEKS and results.groupby("run").size().eq(WEEKS).all()
    assert {"policy=kingpin,seed=1", "policy=merida,seed=2"}.isdisjoint(set(results["run"]))


def test_a_new_key_in_a_later_collect_gives_one_schema(tmp_path, tpl):
    sweep = tmp_path / "sweep"
    bench_store.make_runs(sweep, 0, 4, tpl)
    collect.collect(sweep, quiet=True)
    bench_store.make_runs(sweep, 4, 2, tpl)
    for d in (sweep / "policy=none,seed=4", sweep / "policy=kingpin,seed=5"):
        summary = json.loads((d / "summary.json").read_text())
        summary["overrides"].append("scenario.gun_inflow=99000")
        summary["config"]["scenario"]["gun_inflow"] = 99000
        (d / "summary.json").write_text(json.dumps(summary))
    runs, _ = collect.collect(sweep, quiet=True)
    assert runs.set_index("run")["scenario.gun_inflow"].isna().sum() == 4
    schemas = {str(ds.dataset(p).schema) for p in (sweep / "results.parquet").glob("*.parquet")}
    assert len(schemas) == 1
    results = pd.read_parquet(sweep / "results.parquet")
    assert results.groupby("run")["scenario.gun_inflow"].first().dropna().eq(99000).sum() == 2


def test_a_table_from_an_older_collect_is_replaced_and_a_crashed_part_is_not_read(tmp_path, tpl):
    sweep = tmp_path / "sweep"
    bench_store.make_runs(sweep, 0, 3, tpl)
    pd.DataFrame({"old": [1]}).to_parquet(sweep / "results.parquet")  # the single file of earlier versions
    runs, _ = collect.collect(sweep, quiet=True)
    assert len(runs) == 3 and (sweep / "results.parquet").is_dir()
    (sweep / "results.parquet" / "part-00099.parquet").write_bytes(b"broken")  # a part no collect finished
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        runs, _ = collect.collect(sweep, quiet=True)
    assert len(runs) == 3 and len(pd.read_parquet(sweep / "results.parquet")) == 3 * WEEKS
