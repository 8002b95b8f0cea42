"""Fast direction tests of the validation patterns and of every lever the literature gives a sign for."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments import validate

from .conftest import make


def _group_homicides(mode: str | None, seed: int, weeks: int = 40) -> int:
    iv = [{"kind": "remove_leader", "group": "largest", "at_step": 8, "mode": mode}] if mode else []
    # municipality-sized plazas, as in Calderón et al. 2015 (on mexico_states the rise is diluted: README)
    model = make(territory="national", territory__nodes=1000, policy="none", rng=seed, steps=weeks, interventions=iv,
                 cartels__succession_clarity=0.0, output__nodes=True)
    model.run()
    plazas = model.events[0]["plazas"] if mode else None
    if plazas is None:  # the same group's plazas as in the removal run on this seed
        twin = make(territory="national", territory__nodes=1000, policy="none", rng=seed, steps=8,
                    cartels__succession_clarity=0.0,
                    interventions=[{"kind": "remove_leader", "group": "largest", "at_step": 8, "mode": "capture"}])
        twin.run()
        plazas = twin.events[0]["plazas"]
    nodes = model.node_table()
    return int(nodes.loc[(nodes["step"] > 8) & nodes["node"].isin(plazas), "homicides"].sum())


def test_capture_and_kill_both_raise_violence_in_the_groups_plazas():
    none = sum(_group_homicides(None, s) for s in range(3))
    capture = sum(_group_homicides("capture", s) for s in range(3))
    kill = sum(_group_homicides("kill", s) for s in range(3))
    assert capture > 1.2 * none and kill > 1.2 * none


def test_groups_grow_under_a_kingpin_strategy_and_with_less_succession_clarity():
    def groups(**kw) -> float:
        return np.mean([make(territory="mexico_states", rng=s, steps=156, **kw).run()["groups_active"].iloc[-1]
                        for s in range(3)])

    assert groups(policy="kingpin") > groups(policy="none")
    assert groups(policy="kingpin", cartels__succession_clarity=0.0) > groups(policy="kingpin",
                                                                               cartels__succession_clarity=1.0)


def test_more_budget_on_disruption_removes_more_leaders():
    def removed(budget: float) -> int:
        return sum(int(make(territory="mexico_states", policy="kingpin", policy__budget_musd=budget, rng=s,
                            steps=104).run()["leaders_removed"].sum()) for s in range(2))

    assert removed(460.0) > removed(115.0)


# --------------------------------------------------------------------------------------------------
# The report (experiments/validate.py): three sections, published tolerances, intervals from the runs
# --------------------------------------------------------------------------------------------------
TINY_HINDCAST = ["territory=mexico_states", "scenario=mexico_2007", "policy=kingpin", "steps=260"]  # 2007-2011


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A 5-year hindcast (the defaults and a second parameter set, one seed each) and one small pattern check."""
    out = tmp_path_factory.mktemp("validation")
    h = validate.hindcast([{}, {"cartels.lethality": 0.012}], 1, 1, out, base=TINY_HINDCAST)
    checks = h.checks + validate.guns(2, 1, out, base=["territory=small", "policy=kingpin", "steps=26"])
    path = validate.write_report(out, checks, h.text, "python -m experiments.validate (test)", "none",
                                 figures=("hindcast", "guns"))
    return out, h, checks, path.read_text()


def test_the_report_has_three_sections_each_with_its_checks(tiny):
    out, h, checks, text = tiny
    heads = [line for line in text.splitlines() if line.startswith("## ")]
    assert heads[:3] == ["## In-sample", "## Out-of-sample", "## Structural"]
    by = {c.fact: c.section for c in checks}
    assert by["Homicides in 2007"] == by["Groups at the end of 2007"] == "in-sample"
    assert by["Homicides 2007 to 2011, ratio (rise)"] == "in-sample"
    assert by["Members killed, 400k vs 50k guns a year (ratio)"] == "out-of-sample"
    structural = [c for c in checks if c.section == "structural"]
    facts = {c.fact.split(" (")[0] for c in structural}
    assert facts >= {"People conserved", "Same configuration and seed, same series"}
    assert all(c.met for c in structural), [c.row() for c in structural if not c.met]
    assert (out / "hindcast.png").exists() and (out / "hindcast.csv").exists()
    assert h.runs == 2 and h.text.startswith("2 parameter set(s) x 1 seed(s) = 2 runs")
    csv = pd.read_csv(out / "hindcast.csv")
    assert list(csv["year"]) == [2007, 2008, 2009, 2010, 2011] and set(csv["sample"]) == {"in"}


def test_tolerances_equal_the_published_ranges(tiny):
    _, _, checks, text = tiny
    by = {c.fact: c for c in checks}
    assert (by["Groups at the end of 2007"].low, by["Groups at the end of 2007"].high) == (4, 7)
    assert (by["Homicides 2007 to 2011, ratio (rise)"].low, by["Homicides 2007 to 2011, ratio (rise)"].high) == (2, 4)
    last = [pd.DataFrame({"members": [170_000.0 + k], "recruits": [400.0], "homicides_members": [120.0],
                          "members_arrested": [110.0], "largest_group_share": [0.17], "top10_group_share": [0.5],
                          "impunity": [0.93]}) for k in range(3)]
    recent = {c.fact: c for c in validate._recent(last)}
    assert (recent["Members around 2021 (last year's mean)"].low,
            recent["Members around 2021 (last year's mean)"].high) == (160_000, 185_000)
    assert (recent["Homicide impunity (end of 2021)"].low, recent["Homicide impunity (end of 2021)"].high) == (90, 95)
    assert all(c.met for c in recent.values())
    for c in recent.values():  # a fact without a published range says which tolerance was chosen and why
        assert ("about" in c.published) == ("chosen here" in c.note), c.fact


def test_every_figure_has_an_interval_computed_from_the_runs(tiny):
    _, h, checks, text = tiny
    mean, sd, lo, hi, n = validate.interval([1.0, 2.0, 3.0])
    assert (mean, sd, n) == (2.0, 1.0, 3) and hi - mean == pytest.approx(4.302653 / np.sqrt(3), rel=1e-5)
    hom = next(c for c in checks if c.fact == "Homicides in 2008")
    assert hom.n == 2 and hom.sd > 0 and hom.ci[0] < hom.mean < hom.ci[1]
    assert hom.values.std(ddof=1) == pytest.approx(hom.sd)
    for c in checks:  # no row prints sd 0 for a quantity that differs between runs
        if len(np.unique(c.values[np.isfinite(c.values)])) > 1:
            assert c.sd > 0 and "sd 0 " not in c.row()
    rows = [line for line in text.splitlines() if line.startswith("| Homicides in 2008 |")]
    assert rows and "[" in rows[0] and "(n=2)" in rows[0]


def test_a_miss_says_by_how_much():
    c = validate.Check("out-of-sample", "Groups", "x", "150-230", [100.0, 120.0], 150, 230)
    assert not c.met and c.miss() == "below by 40 (27% beyond the bound)" and "**no**: below by 40" in c.row()
    assert validate.Check("structural", "p", "x", "0", [0, 0, 0], 0, 0).model() == "0 in all 3 runs"
    with pytest.raises(ValueError, match="section"):
        validate.Check("fit", "p", "x", "0", [0], 0, 0)


def test_the_report_is_written_atomically(tmp_path, monkeypatch):
    checks = [validate.Check("in-sample", "A fact", "src", "1-2", [1.0, 1.5], 1, 2)]
    path = validate.write_report(tmp_path, checks, "", "cmd", "note")
    before = path.read_text()

    def broken(self, text, encoding=None):  # the disk fills up half-way through
        Path.write_bytes(self, text[: len(text) // 2].encode())
        raise OSError("no space left on device")

    monkeypatch.setattr(Path, "write_text", broken)
    with pytest.raises(OSError):
        validate.write_report(tmp_path, checks + checks, "", "cmd", "other note")
    monkeypatch.undo()
    assert path.read_text() == before and sorted(p.name for p in tmp_path.iterdir()) == ["validation.md"]


def test_without_calibration_json_it_runs_the_defaults_and_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(validate.SIZES, "guns", ["territory=small", "policy=kingpin", "steps=26"])
    assert validate.parameter_sets(None, 10) == [{}]
    # named on the command line, a missing file is an error (nothing run, nothing written) ...
    code = validate.main(["--only", "guns", "--seeds", "2", "--jobs", "1", "--calibration",
                          str(tmp_path / "missing.json"), "--out", str(tmp_path / "v")])
    assert code == 2 and "'--calibration'" in capsys.readouterr().err and not (tmp_path / "v").exists()
    # ... the default one missing (a fresh calibration not yet made) runs the defaults and says so
    monkeypatch.setattr(validate, "CALIBRATION", tmp_path / "missing.json")
    code = validate.main(["--only", "guns", "--seeds", "2", "--jobs", "1", "--out", str(tmp_path / "v")])
    assert code == 0
    text = (tmp_path / "v" / "validation.md").read_text()
    assert "missing.json` not found: the hindcast runs the model's defaults only" in text
    assert "guns: `territory=small policy=kingpin steps=26`" in text


def test_calibration_sets_feed_the_hindcast_and_bad_files_are_refused(tmp_path, capsys):
    rec = {"method": "history matching", "plausible": [{"cartels.lethality": 0.01 * k} for k in range(1, 8)],
           "targets": [{"name": "homicides", "year": 2008, "observed": 14006, "low": 12000, "high": 16000,
                        "source": "INEGI"}]}
    good = tmp_path / "calibration.json"
    good.write_text(json.dumps(rec))
    cal = validate.load_calibration(good)
    sets = validate.parameter_sets(cal, 3)
    assert sets == [{"cartels.lethality": 0.01}, {"cartels.lethality": 0.04}, {"cartels.lethality": 0.07}]
    assert validate._target(cal, "homicide", 2008) == (12000.0, 16000.0)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"plausible": [{"cartels.lethality": "high"}]}))
    out = tmp_path / "v"
    assert validate.main(["--only", "guns", "--calibration", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.json" in err[0] and "cartels.lethality" in err[0] and not out.exists()
    unknown = tmp_path / "unknown.json"
    unknown.write_text(json.dumps({"plausible": [{"cartels.no_such_rate": 0.1}]}))
    assert validate.main(["--only", "guns", "--calibration", str(unknown), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown.json: plausible set 0" in err[0] and "no_such_rate" in err[0]
    assert not out.exists()
    assert validate.main(["--seeds", "1", "--out", str(out)]) == 2 and not out.exists()
    assert validate.main(["--only", "hindcast,nothing", "--out", str(out)]) == 2 and not out.exists()
