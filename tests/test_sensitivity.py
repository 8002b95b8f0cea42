"""Sensitivity analysis through the real path (sample, sweep, collect, analyse) and the ranking."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from experiments import sensitivity


def test_tiny_sobol_and_ranking_through_the_sweep(tmp_path):
    out = tmp_path / "sens"
    common = ["--territory", "small", "--steps", "6", "--out", str(out), "--", "hydra/launcher=basic"]
    assert sensitivity.main(["--method", "sobol", "--n", "4", *common]) == 0
    table = pd.read_csv(out / "sobol" / "sobol_indices.csv")
    assert len(table) == len(sensitivity.PARAMETERS) * len(sensitivity.OUTCOMES)
    assert set(table["parameter"]) == set(sensitivity.PARAMETERS)
    assert np.isfinite(table[["S1", "ST", "S1_conf", "ST_conf"]].to_numpy()).all()
    for _, part in table.groupby("outcome"):  # first-order indices sum to at most 1, totals are >= 0 (within CIs)
        assert part["S1"].sum() <= 1 + part["S1_conf"].sum()
        assert (part["ST"] >= -part["ST_conf"] - 1e-9).all()
    runs = len(pd.read_csv(out / "sobol" / "samples.csv"))
    assert runs == 4 * (len(sensitivity.PARAMETERS) + 2)
    assert (out / "sobol" / "sobol.png").exists() and (out / "report.md").exists()
    # the same sweep as EMA results: one experiment per sample row, its sampled values as columns
    pytest.importorskip("ema_workbench")
    from experiments.ema import to_ema_results

    experiments, outcomes = to_ema_results(out / "sobol" / "runs")
    samples = pd.read_csv(out / "sobol" / "samples.csv").set_index("row")
    assert len(experiments) == runs and sorted(experiments["scenario"]) == list(range(runs))
    mine = experiments.set_index("scenario").sort_index()
    for key in sensitivity.PARAMETERS:
        np.testing.assert_allclose(mine[key.replace(".", "__")], samples[key])
    assert outcomes["homicides_last_year"].shape == (runs,) and np.isfinite(outcomes["effective_groups"]).all()
    # resume: running again reuses the sample and every finished run
    stamp = (out / "sobol" / "samples.csv").stat().st_mtime_ns
    assert sensitivity.main(["--method", "sobol", "--n", "4", *common]) == 0
    assert (out / "sobol" / "samples.csv").stat().st_mtime_ns == stamp
    assert sensitivity.main(["--method", "ranking", "--scenarios", "3", *common]) == 0
    ranking = pd.read_csv(out / "ranking" / "ranking_homicides_last_year.csv")
    assert set(ranking["policy"]) == set(sensitivity.POLICIES)
    assert ranking["best_share"].sum() == pytest.approx(1.0)


def test_ranking_on_a_toy_case_with_a_known_answer():
    rows = []
    for scenario in range(4):
        values = {"none": 10, "kingpin": 20 + scenario, "merida": 15, "prevention": 5 + 4 * scenario}
        for policy, value in values.items():
            rows.append({"row": scenario, "policy": policy, "homicides_last_year": value})
    outcomes = pd.DataFrame(rows).set_index(["row", "policy"])
    table = sensitivity.rank_policies(outcomes, "homicides_last_year")
    # prevention is best while 5 + 4s < 10 (s = 0, 1), none afterwards (s = 2, 3)
    assert table.loc["prevention", "best_share"] == 0.5 and table.loc["none", "best_share"] == 0.5
    assert table.loc["kingpin", "best_share"] == 0.0
    assert table.loc["kingpin", "max_regret"] == pytest.approx(20 - 5)  # scenario 0: 20 against 5
    samples = pd.DataFrame({"row": range(4), **{name: np.linspace(lo, hi, 4) for name, (lo, hi)
                                                 in sensitivity.PARAMETERS.items()}})
    flips = sensitivity.flips(samples, outcomes, "homicides_last_year", a="prevention", b="none")
    top = flips.iloc[0]
    assert top["prevention_beats_none_low_third"] == 1.0 and top["prevention_beats_none_high_third"] == 0.0


def test_bad_arguments_are_refused(capsys):
    assert sensitivity.main(["--n", "1"]) == 2
    assert "'--n'" in capsys.readouterr().err
