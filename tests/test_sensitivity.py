"""Sensitivity analysis: the wrappers' indices on functions with known indices, the real path
(sample, sweep, collect, analyse) as a plumbing smoke test, and the ranking."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments import sensitivity
from experiments.ema import to_ema_results
from sim import exploration

# The truth, read from where the ranges are declared (not from sensitivity.problem(), which is under test)
BOUNDS = {u.key: (u.low, u.high) for u in exploration.UNCERTAINTIES}
NAMES = list(BOUNDS)
ISHIGAMI = (NAMES[2], NAMES[5], NAMES[9])  # x1, x2, x3 of the Ishigami function: not the first columns
COEF = dict(zip(NAMES, (3.0, 0.0, 1.0, 5.0, 0.5, 2.0, 0.0, 4.0, 1.5, 2.5)))  # linear: distinct per parameter


def unit(samples: pd.DataFrame, name: str) -> np.ndarray:
    lo, hi = BOUNDS[name]
    return (samples[name].to_numpy(dtype=float) - lo) / (hi - lo)


def known_functions(samples: pd.DataFrame) -> pd.DataFrame:
    """Two outcomes with known indices: Ishigami (a=7, b=0.1) on three parameters mapped onto [-pi, pi],
    and a linear additive function of every parameter's position in its range."""
    x1, x2, x3 = (np.pi * (2 * unit(samples, k) - 1) for k in ISHIGAMI)
    ishigami = np.sin(x1) + 7 * np.sin(x2) ** 2 + 0.1 * x3 ** 4 * np.sin(x1)
    linear = sum(c * unit(samples, k) for k, c in COEF.items())
    return pd.DataFrame({"homicides_last_year": ishigami, "effective_groups": 10 + linear},
                        index=samples["row"].rename("row"))


@pytest.fixture
def known(monkeypatch):
    """sensitivity's sweep replaced by the known functions of the sample it wrote (nothing is run)."""
    def run_sweep(samples, rows, out, base, extra):
        assert len(pd.read_csv(samples)) == rows

    def outcomes_by_row(sweep_dir: Path, rows: int, by=()):
        return known_functions(pd.read_csv(Path(sweep_dir).parent / "samples.csv"))

    monkeypatch.setattr(sensitivity, "run_sweep", run_sweep)
    monkeypatch.setattr(sensitivity, "outcomes_by_row", outcomes_by_row)


def test_sobol_wrapper_finds_the_known_indices_of_ishigami_and_a_linear_function(tmp_path, known):
    table = sensitivity.sobol(tmp_path / "sobol", 4096, [], [], seed=3)
    samples = pd.read_csv(tmp_path / "sobol" / "samples.csv")
    assert len(samples) == table.attrs["runs"] == 4096 * (len(NAMES) + 2)
    for name, (lo, hi) in BOUNDS.items():  # the sample spans each parameter's own range
        assert lo <= samples[name].min() < lo + 0.01 * (hi - lo) and hi - 0.01 * (hi - lo) < samples[name].max() <= hi
    ish = table[table["outcome"] == "homicides_last_year"].set_index("parameter")
    # Ishigami a=7, b=0.1 (Saltelli et al. 2008): S1 = 0.314, 0.442, 0; ST = 0.558, 0.442, 0.244
    np.testing.assert_allclose(ish.loc[list(ISHIGAMI), "S1"], [0.314, 0.442, 0.0], atol=0.05)
    np.testing.assert_allclose(ish.loc[list(ISHIGAMI), "ST"], [0.558, 0.442, 0.244], atol=0.03)
    others = ish.drop(list(ISHIGAMI))
    assert (others["S1"].abs() < 0.02).all() and (others["ST"].abs() < 0.02).all()
    lin = table[table["outcome"] == "effective_groups"].set_index("parameter").loc[NAMES]
    share = np.array(list(COEF.values())) ** 2 / sum(c ** 2 for c in COEF.values())  # a_i^2 / sum a^2
    np.testing.assert_allclose(lin["S1"], share, atol=0.03)
    np.testing.assert_allclose(lin["ST"], share, atol=0.03)
    assert not sensitivity.noise_dominated(ish) and not sensitivity.noise_dominated(lin)
    written = pd.read_csv(tmp_path / "sobol" / "sobol_indices.csv")
    pd.testing.assert_frame_equal(written, table.reset_index(drop=True), check_exact=False)


def test_morris_wrapper_finds_the_exact_effects_of_a_linear_function(tmp_path, known):
    table = sensitivity.morris(tmp_path / "morris", 12, [], [], seed=3)
    samples = pd.read_csv(tmp_path / "morris" / "samples.csv")
    assert len(samples) == 12 * (len(NAMES) + 1)
    lin = table[table["outcome"] == "effective_groups"].set_index("parameter").loc[NAMES]
    # a step across a parameter's range changes the linear function by its coefficient: mu* = |a_i|, sigma = 0
    # (the wrapper reports both relative to the mean absolute outcome)
    scale = np.abs(known_functions(samples)["effective_groups"]).mean()
    np.testing.assert_allclose(lin["mu_star"] * scale, list(COEF.values()), atol=1e-9)
    np.testing.assert_allclose(lin["sigma"] * scale, 0.0, atol=1e-9)
    ish = table[table["outcome"] == "homicides_last_year"].set_index("parameter")
    assert (ish.drop(list(ISHIGAMI))["mu_star"] == 0).all() and (ish.loc[list(ISHIGAMI), "mu_star"] > 0).all()


def test_noise_dominance_is_stated_only_when_the_computed_indices_show_it(tmp_path):
    def table(s1, st):
        return pd.DataFrame([{"outcome": o, "parameter": k, "S1": s1, "S1_conf": 0.1, "ST": st, "ST_conf": 0.1}
                             for o in sensitivity.OUTCOMES for k in NAMES])

    noisy, clear = table(0.05, 0.9), table(0.3, 0.35)
    assert sensitivity.noise_dominated(noisy) and not sensitivity.noise_dominated(clear)
    assert not sensitivity.noise_dominated(table(0.12, 0.9)) and not sensitivity.noise_dominated(table(0.05, 0.75))
    texts = {}
    for name, t in (("noisy", noisy), ("clear", clear)):
        t.attrs["runs"] = 384
        path = sensitivity.report(tmp_path / name, {"seeds": 2}, t, None, None)
        texts[name] = path.read_text(encoding="utf-8")
    assert texts["noisy"].count("noise dominates these indices") == len(sensitivity.OUTCOMES)
    assert "noise dominates" not in texts["clear"] and "not noise-dominated" in texts["clear"]
    assert "384 sample rows x 2 seed(s)" in texts["noisy"] and "320" not in texts["noisy"]
    n_params = len(NAMES)
    assert f"{5 * (1024 * (n_params + 2) + 50 * (n_params + 1) + 500 * 4):,} national runs" in texts["clear"]


def test_readme_states_the_run_counts_and_the_noise_criterion():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Sensitivity and robust ranking"):readme.index("## With the EMA workbench")]
    flat = " ".join(section.split())
    assert f"{sensitivity.planned_runs(32, 10, 48, 1)} runs" in flat  # the defaults of main()
    assert f"({sensitivity.planned_runs(1024, 50, 500, 5):,} runs)" in flat
    assert f"below {sensitivity.NOISE_MAX_S1:g}" in flat and f"above {sensitivity.NOISE_MEAN_ST:g}" in flat


def test_tiny_sobol_and_ranking_plumbing_through_the_sweep(tmp_path):
    """Plumbing smoke test only: sample, sweep, collect, analyse, report, EMA export, resume, ranking.
    Its 6-week runs give an almost constant outcome (35 or 36 homicides), so its indices carry no
    information; the indices themselves are tested above on functions with known indices."""
    out = tmp_path / "sens"
    common = ["--territory", "small", "--steps", "6", "--out", str(out), "--", "hydra/launcher=basic"]
    assert sensitivity.main(["--method", "sobol", "--n", "2", *common]) == 0
    table = pd.read_csv(out / "sobol" / "sobol_indices.csv")
    assert len(table) == len(sensitivity.PARAMETERS) * len(sensitivity.OUTCOMES)
    assert set(table["parameter"]) == set(sensitivity.PARAMETERS)
    assert np.isfinite(table[["S1", "ST", "S1_conf", "ST_conf"]].to_numpy()).all()
    for _, part in table.groupby("outcome"):  # first-order indices sum to at most 1, totals are >= 0 (within CIs)
        assert part["S1"].sum() <= 1 + part["S1_conf"].sum()
        assert (part["ST"] >= -part["ST_conf"] - 1e-9).all()
    runs = len(pd.read_csv(out / "sobol" / "samples.csv"))
    assert runs == 2 * (len(sensitivity.PARAMETERS) + 2)
    assert (out / "sobol" / "sobol.png").exists() and (out / "report.md").exists()
    assert f"{runs} sample rows x 1 seed(s)" in (out / "report.md").read_text(encoding="utf-8")
    # the same sweep as EMA results: one experiment per sample row, its sampled values as columns
    experiments, outcomes = to_ema_results(out / "sobol" / "runs")
    samples = pd.read_csv(out / "sobol" / "samples.csv").set_index("row")
    assert len(experiments) == runs and sorted(experiments["scenario"]) == list(range(runs))
    mine = experiments.set_index("scenario").sort_index()
    for key in sensitivity.PARAMETERS:
        np.testing.assert_allclose(mine[key.replace(".", "__")], samples[key])
    assert outcomes["homicides_last_year"].shape == (runs,) and np.isfinite(outcomes["effective_groups"]).all()
    # resume: running again reuses the sample and every finished run
    stamp = (out / "sobol" / "samples.csv").stat().st_mtime_ns
    assert sensitivity.main(["--method", "sobol", "--n", "2", *common]) == 0
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


def test_the_report_names_the_parameters_that_cannot_act_in_its_runs(tmp_path):
    """finance.* act only through financial intelligence: under a preset that funds none (kingpin) the report
    says their indices are zero by construction; with policy.finance_share > 0 it does not."""
    base = ["experiment=sensitivity", "territory=small", "steps=4", "policy=kingpin"]
    inert = sensitivity.inert_parameters(base)
    assert inert == [k for k in sensitivity.PARAMETERS if k.startswith("finance.")] and len(inert) == 2
    assert sensitivity.inert_parameters([*base, "policy.finance_share=0.2"]) == []
    texts = [sensitivity.report(tmp_path / str(k), {"seeds": 1, "inert": names}, None, None, None)
             .read_text(encoding="utf-8") for k, names in enumerate((inert, []))]
    assert "Inert by construction" in texts[0] and "`finance.pay_elasticity`" in texts[0]
    assert "Inert by construction" not in texts[1] and "inert=" not in texts[0]
