"""experiment=resolution: the sweep's combinations, the analysis (table, rankings, checks) and its command."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments import resolution
from experiments.config import compose, sweep_combinations
from experiments.store import run_dirs

ROOT = Path(__file__).resolve().parents[1]
PRESETS = ["none", "kingpin", "merida", "prevention"]
MAPS = [("mexico_states", 32), ("national", 500), ("national", 2470), ("national", 5000)]


# --------------------------------------------------------------------------------------------------
# The sweep
# --------------------------------------------------------------------------------------------------
def test_sweep_is_16_combinations_per_seed_each_a_distinct_territory_size_and_folder():
    combos = sweep_combinations(["experiment=resolution"])
    seeds = Counter(next(o for o in c if o.startswith("seed=")) for c in combos)
    assert seeds == {f"seed={s}": 16 for s in range(5)}
    built, folders = [], set()
    for combo in (c for c in combos if "seed=0" in c):
        cfg = compose(combo, with_hydra=True)
        built.append((cfg.policy.name, cfg.territory.name, cfg.territory.nodes))
        folders.add(cfg.hydra.job.override_dirname)
        assert cfg.steps == 520 and cfg.hydra.sweep.dir == "multirun/resolution"
    assert len(set(built)) == 16 and len(folders) == 16  # every run its own folder
    per_territory = Counter((t, n) for _, t, n in built)
    # mexico_states once per preset (its size is its 32 states), national at three sizes
    assert per_territory == {("mexico_states", 0): 4, ("national", 500): 4, ("national", 2470): 4,
                             ("national", 5000): 4}
    assert Counter(p for p, _, _ in built) == dict.fromkeys(PRESETS, 4)


def test_a_resolution_choice_sets_territory_and_size_and_the_command_line_can_narrow_it():
    cfg = compose(["+resolution=national_500", "policy=kingpin"])  # outside the experiment: an added group
    assert (cfg.territory.name, cfg.territory.nodes) == ("national", 500)
    narrow = sweep_combinations(["experiment=resolution", "seed=0", "resolution=states,national_5000"])
    assert len(narrow) == 8


# --------------------------------------------------------------------------------------------------
# The analysis on a made-up runs table
# --------------------------------------------------------------------------------------------------
def made_up(rates: dict[str, list[float]], groups: dict[str, list[float]] | None = None, seeds: int = 3,
            noise: float = 0.1) -> pd.DataFrame:
    """Per-run rows: ``rates[preset][map]`` (homicides per 100k) and effective groups, +-noise by seed."""
    groups = groups or {p: [2.0 + k] * len(MAPS) for k, p in enumerate(PRESETS)}
    rows = []
    for p in rates:
        for m, (territory, nodes) in enumerate(MAPS):
            for s in range(seeds):
                d = noise * (s - (seeds - 1) / 2)
                rows.append({"policy": p, "seed": s, "territory": territory, "nodes": nodes, "population": 2e6,
                             "homicide_rate": rates[p][m] + d, "members_per_100k": 100.0 + d,
                             "groups_active": 5.0 + d, "effective_groups": groups[p][m] + d})
    return pd.DataFrame(rows)


STEADY = {"none": [20, 21, 22, 20.5], "kingpin": [30, 31, 33, 29], "merida": [25, 26, 27, 25.5],
          "prevention": [15, 16, 17, 15.5]}


def test_t_interval_matches_the_t_distribution():
    mean, lo, hi, n = resolution.t_interval([1.0, 2.0, 3.0])
    assert (mean, n) == (2.0, 3)
    assert hi - mean == pytest.approx(4.302653 / np.sqrt(3), rel=1e-6)  # t(0.975, 2) x sd 1 / sqrt 3
    assert mean - lo == pytest.approx(hi - mean)
    mean, lo, hi, n = resolution.t_interval([5.0])
    assert mean == 5.0 and n == 1 and np.isnan(lo) and np.isnan(hi)


def test_same_ranking_and_rates_within_a_quarter_pass():
    table, checks = resolution.analyse(made_up(STEADY))
    assert len(table) == 16 and set(table["seeds"]) == {3}
    assert [c.passed for c in checks] == [True, True, True]
    orders = resolution.ranking(table, "homicide_rate")
    assert list(orders) == ["mexico_states (32 nodes)", "national (500 nodes)", "national (2,470 nodes)",
                            "national (5,000 nodes)"]
    assert all(o == ["kingpin", "merida", "none", "prevention"] for o in orders.values())
    assert resolution.ranking(table, "effective_groups")["national (500 nodes)"] == [
        "prevention", "merida", "kingpin", "none"]
    row = table[(table["policy"] == "kingpin") & (table["map"] == "national (2,470 nodes)")].iloc[0]
    assert row["homicide_rate_mean"] == pytest.approx(33.0)
    assert row["homicide_rate_ci_high"] - 33.0 == pytest.approx(4.302653 * 0.1 / np.sqrt(3), rel=1e-5)
    # kingpin spans 29 .. 33: 33 / 29 - 1
    _, spreads = resolution.check_spread(table)
    assert spreads.set_index("policy").loc["kingpin", "spread"] == pytest.approx(33 / 29 - 1)


def test_a_swapped_pair_fails_the_ranking_and_a_wide_spread_fails_the_quarter():
    rates = {**STEADY, "none": [20, 21, 28, 20.5]}  # none above merida (27) on national 2,470; 28 / 20 - 1 = 0.4
    table, checks = resolution.analyse(made_up(rates))
    homicides, fragmentation, quarter = checks
    assert not homicides.passed and fragmentation.passed and not quarter.passed
    assert "national (2,470 nodes): kingpin 33.00 > none 28.00 > merida 27.00 > prevention 17.00" in homicides.lines
    assert any(line.startswith("order of none and merida differs between maps; their 95% intervals overlap on 0 of 4")
               for line in homicides.lines)
    _, spreads = resolution.check_spread(table)
    failing = spreads[~spreads["passed"]]
    assert failing["policy"].tolist() == ["none"] and failing["spread"].iloc[0] == pytest.approx(0.4)
    assert failing["min_map"].iloc[0] == "mexico_states (32 nodes)"
    assert failing["max_map"].iloc[0] == "national (2,470 nodes)"
    # a tolerance above 0.4 lets the same rates pass
    assert resolution.check_spread(table, tolerance=0.45)[0].passed


def test_fragmentation_ranking_is_checked_on_effective_groups():
    groups = {p: [2.0 + k] * 4 for k, p in enumerate(PRESETS)}
    groups["none"] = [2.0, 2.0, 2.0, 9.0]  # most fragmented on national 5,000 only
    _, checks = resolution.analyse(made_up(STEADY, groups))
    assert [c.passed for c in checks] == [True, False, True]
    assert "national (5,000 nodes): none 9.00 > prevention 5.00 > merida 4.00 > kingpin 3.00" in checks[1].lines


def test_one_map_or_unequal_presets_are_refused():
    runs = made_up(STEADY)
    with pytest.raises(resolution.ResolutionError, match="at least 2 territories or sizes"):
        resolution.analyse(runs[runs["nodes"] == 500])
    with pytest.raises(resolution.ResolutionError, match="not run with the same presets"):
        resolution.analyse(runs[~((runs["policy"] == "none") & (runs["nodes"] == 500))])


def test_markdown_shows_intervals_seeds_and_verdicts():
    table, checks = resolution.analyse(made_up(STEADY))
    text = resolution.markdown(table, checks, weeks=520)
    assert "across 3 seeds" in text and "520 weeks" in text
    assert "| kingpin | national (2,470 nodes) | 3 | 33.00 [32.75, 33.25] |" in text
    assert text.count("**PASS**") == 3


# --------------------------------------------------------------------------------------------------
# The command, end to end on a tiny sweep (2 presets, 1 seed, 5 weeks: about 10 s)
# --------------------------------------------------------------------------------------------------
def test_tiny_sweep_through_the_command(tmp_path):
    out = tmp_path / "resolution"
    proc = subprocess.run([sys.executable, "-m", "experiments.run", "-m", "experiment=resolution", "steps=5", "seed=0",
                           "policy=none,kingpin", "hydra/launcher=basic", f"hydra.sweep.dir={out}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert len(run_dirs(out)) == 8
    proc = subprocess.run([sys.executable, "-m", "experiments.resolution", str(out)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("PASS: ") + proc.stdout.count("FAIL: ") == 3
    table = pd.read_csv(out / "resolution.csv")
    assert len(table) == 8 and set(table["seeds"]) == {1}
    assert sorted(set(zip(table["territory"], table["nodes"]))) == MAPS
    # members per 100,000 from the territory's population (126 million people on every map)
    assert table["population"].round(-3).eq(126_014_000).all()
    assert table["members_per_100k_mean"].between(1, 1000).all()
    assert (out / "resolution.md").read_text().count("| none |") == 4
    for suffix in (".png", ".pdf"):
        assert (out / "figures" / f"resolution{suffix}").stat().st_size > 10_000


def test_bad_folder_exits_2_with_one_line(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "experiments.resolution", str(tmp_path / "missing")], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "sweep_dir" in proc.stderr
    assert not (tmp_path / "missing").exists()


def test_unknown_resolution_is_refused_before_any_run(tmp_path, capsys):
    from experiments.run import cli

    out = tmp_path / "sweep"
    assert cli(["-m", "experiment=resolution", "resolution=nope", f"hydra.sweep.dir={out}"]) == 2
    err = capsys.readouterr().err.strip()
    assert "'resolution'" in err and "national_500" in err and "\n" not in err and not out.exists()
