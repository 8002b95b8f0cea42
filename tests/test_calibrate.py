"""experiments.calibrate: history matching with emulators, the targets file, --check and calibration.json."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from experiments import calibrate as cal

ROOT = Path(__file__).resolve().parents[1]
KEYS = {"method", "territory", "steps", "parameters", "targets", "seeds", "evaluations", "waves", "chosen",
        "objective", "plausible", "model_at_chosen"}

# ------------------------------------------------------------------------------------------ a toy
# Two outputs, each depending on one input, with lognormal seed noise of sd NOISE: the non-implausible
# region is known in closed form.
NOISE = 0.05
TOY = [cal.Target("homicides", 2007, 100.0, 95.0, 105.0, "toy"), cal.Target("groups", 2007, 50.0, 45.0, 55.0, "toy")]
TOY_BOUNDS = np.array([[0.0, 1.0], [0.0, 1.0]])
CENTRE = np.array([0.5, 0.3])  # where the toy hits both targets exactly


def toy(points, seeds):
    out = []
    for p in np.asarray(points, float):
        row = []
        for s in seeds:  # a seed's draw depends on the seed and the point, as a model run's does
            e = np.random.default_rng([int(s), *(int(v * 1e9) for v in p)]).normal(0, NOISE, 2)
            row.append([100 * math.exp(2 * (p[0] - CENTRE[0]) + e[0]), 50 * math.exp(2 * (p[1] - CENTRE[1]) + e[1])])
        out.append(row)
    return np.array(out)


def toy_half_width(s: cal.Settings) -> np.ndarray:
    """Half-width in x of the true non-implausible region around CENTRE (outputs are linear in x on the log scale)."""
    v = np.array([t.sd_obs ** 2 for t in TOY]) + s.discrepancy ** 2 + NOISE ** 2 * (1 + 1 / len(s.seeds))
    return s.cutoff * np.sqrt(v) / 2


SETTINGS = cal.Settings(waves=(24, 16), seeds=(0, 1, 2, 3), final_seeds=tuple(range(6)), final_sets=3, rank=1,
                        candidates=4000)


@pytest.fixture(scope="module")
def matched():
    return cal.history_match(toy, TOY, TOY_BOUNDS, SETTINGS, log=lambda _: None)


def test_history_matching_finds_the_known_plausible_region(matched):
    half = toy_half_width(SETTINGS)
    X, plausible = matched["X"], matched["plausible"]
    inside = np.all(np.abs(X - CENTRE) < half - 0.03, axis=1)
    outside = np.any(np.abs(X - CENTRE) > half + 0.03, axis=1)
    assert plausible.sum() >= 5
    assert plausible[inside].all() and not plausible[outside].any()
    # wave 2 samples inside the region wave 1's emulator found: far more of its points are plausible
    w2 = matched["wave"] == 2
    assert plausible[w2].mean() > 0.6 > plausible[~w2].mean()
    # the emulator's non-implausible share of the square is the true area of the region
    area = float(np.prod(2 * half))
    assert matched["waves"][0]["non_implausible_fraction"] == pytest.approx(area, rel=0.35)


def test_the_seed_noise_is_measured_and_the_emulator_finds_it(matched):
    for wave in matched["waves"]:
        for key in ("homicides_2007", "groups_2007"):
            assert wave["seed_sd_measured"][key] == pytest.approx(NOISE, rel=0.3)
            assert wave["seed_sd_emulator"][key] == pytest.approx(NOISE, rel=0.3)


def test_implausibility_ranks_and_needs_two_seeds():
    imp = np.array([[0.5, 4.0, 2.0], [3.5, 3.2, 0.1]])
    assert cal.ranked(imp, 1).tolist() == [4.0, 3.5] and cal.ranked(imp, 2).tolist() == [2.0, 3.2]
    assert cal.implausibility(np.array([1.0]), np.array([0.0]), np.array([0.25]))[0] == 2.0
    with pytest.raises(ValueError, match="2 seeds"):
        cal.seed_variance(np.zeros((3, 1, 2)))


def test_objective_is_zero_at_the_targets_and_each_series_weighs_one():
    targets = cal.read_targets()
    exact = np.array([t.observed for t in targets])
    assert cal.objective(exact, targets) == 0.0
    w = cal.weights(targets)
    assert w.sum() == pytest.approx(1)
    by_name = {n: w[[t.name == n for t in targets]].sum() for n in ("homicides", "groups", "members")}
    assert by_name == pytest.approx({"homicides": 1 / 3, "groups": 1 / 3, "members": 1 / 3})
    members = [t.name == "members" for t in targets]
    doubled = np.where(members, 2 * exact, exact)
    assert cal.objective(doubled, targets) == pytest.approx(math.log(2) ** 2 / 3)


# ----------------------------------------------------------------------------------- the targets file
def test_the_targets_file_holds_only_pre_2015_figures():
    targets = cal.read_targets()
    assert [t.year for t in targets if t.name == "homicides"] == list(range(2007, 2015))
    assert max(t.year for t in targets) <= 2014
    by_key = {t.key: t for t in targets}
    assert by_key["homicides_2011"].observed == 27213 and by_key["groups_2007"].low == 4
    assert (by_key["groups_2011"].low, by_key["groups_2011"].high) == (70, 90)
    assert by_key["members_2012"].observed == 115_000 and "Prieto-Curiel" in by_key["members_2012"].source


def write_targets(tmp_path, edit):
    lines = cal.TARGETS_FILE.read_text().splitlines()
    path = tmp_path / "targets.csv"
    path.write_text("\n".join(edit(lines)) + "\n")
    return path, lines


@pytest.mark.parametrize("edit, message", [
    (lambda ls: [x for x in ls if not x.startswith("homicides,2010")],
     r"targets.csv:\d+: homicides 2011 follows a missing year 2010"),
    (lambda ls: [x.replace("homicides,2009,19803", "homicides,2009,abc") for x in ls],
     r"targets.csv:\d+: observed 'abc'"),
    (lambda ls: [x.replace("homicides,2009,19803", "homicides,2009,-5") for x in ls],
     r"targets.csv:\d+: observed '-5'"),
    (lambda ls: [x.replace("groups,2011,80,70,90", "groups,2011,80,90,70") for x in ls],
     r"targets.csv:\d+: range 90-70"),
    (lambda ls: [*ls, "homicides,2016,24559,23000,26000,INEGI"], r"targets.csv:\d+: year 2016 .*out of sample"),
    (lambda ls: [*ls, "members,2012,1,1,2,x"], r"targets.csv:\d+: members 2012 given twice"),
    (lambda ls: [*ls, "guns,2012,1,1,2,x"], r"targets.csv:\d+: name 'guns'"),
])
def test_a_bad_targets_file_is_refused_with_its_file_and_line(tmp_path, edit, message):
    path, _ = write_targets(tmp_path, edit)
    with pytest.raises(cal.TargetsError, match=message) as err:
        cal.read_targets(path)
    line = int(str(err.value).split(":")[1])
    bad = path.read_text().splitlines()[line - 1]
    assert bad.split(",")[0] in ("homicides", "groups", "members", "guns")


def test_the_cli_refuses_a_bad_targets_file_in_one_line_and_writes_nothing(tmp_path, capsys):
    path, _ = write_targets(tmp_path, lambda ls: [x for x in ls if not x.startswith("homicides,2012")])
    out = tmp_path / "cal.json"
    assert cal.main(["--targets", str(path), "--json", str(out), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "targets.csv:" in err and "missing year 2012" in err
    assert not out.exists() and not (tmp_path / "o").exists()
    assert cal.main(["--steps", "300", "--json", str(out)]) == 2
    assert "'--steps'" in capsys.readouterr().err
    assert cal.main(["--discrepancy", "-1", "--json", str(out)]) == 2
    err = capsys.readouterr().err
    assert "'--discrepancy': -1.0" in err and "cutoff" not in err and not out.exists()


# ------------------------------------------------------------------------- calibrate, json and --check
class FakeEvaluator:
    """The toy, in the ModelEvaluator's place (same constructor), for the model's two 2007 targets."""

    runs = 0
    reused = 0

    def __init__(self, targets, steps, jobs, out, extra=()):
        self.targets = targets

    def __call__(self, points, seeds):
        FakeEvaluator.runs += len(points) * len(seeds)
        return toy_model(points, seeds)


def toy_model(points, seeds):
    """The toy on the first two free parameters scaled to [0, 1] (the others do nothing)."""
    b = np.array(list(cal.FREE.values()))
    u = (np.asarray(points, float) - b[:, 0]) / (b[:, 1] - b[:, 0])
    out = toy(u[:, :2], seeds)
    return out * np.array([8867 / 100, 6 / 50])  # scaled onto the homicides and groups of 2007


@pytest.fixture
def tiny_targets(tmp_path):
    path = tmp_path / "tiny.csv"
    path.write_text("# two targets\nname,year,observed,low,high,source\nhomicides,2007,8867,8424,9310,INEGI\n"
                    "groups,2007,6,4,7,Atuesta & Perez-Davila 2018\n")
    return path


def test_main_writes_the_json_with_the_agreed_keys_and_check_agrees_with_it(tmp_path, tiny_targets, monkeypatch,
                                                                           capsys):
    monkeypatch.setattr(cal, "ModelEvaluator", FakeEvaluator)
    out = tmp_path / "calibration.json"
    args = ["--targets", str(tiny_targets), "--json", str(out), "--out", str(tmp_path / "o"), "--steps", "52",
            "--waves", "12,8", "--seeds", "3", "--final-seeds", "5", "--final-sets", "3", "--candidates", "2000"]
    assert cal.main(args) == 0
    doc = json.loads(out.read_text())
    assert KEYS <= set(doc)
    assert doc["territory"] == "national" and doc["steps"] == 52 and doc["seeds"] == [0, 1, 2]
    assert doc["evaluations"] == 20 and [w["points"] for w in doc["waves"]] == [12, 8]
    assert set(doc["parameters"]) == set(cal.FREE) == set(doc["chosen"])
    assert [t["name"] for t in doc["targets"]] == ["homicides", "groups"] and doc["targets"][1]["low"] == 4
    assert doc["objective"]["seeds"] == [0, 1, 2, 3, 4] and doc["objective"]["se"] > 0
    assert set(doc["model_at_chosen"]) == {"homicides_2007", "groups_2007"}
    assert doc["plausible"] and all(set(p) == set(cal.FREE) for p in doc["plausible"])
    assert doc["plausible_count"] == len(doc["plausible"]) and doc["cutoff"] == 3.0
    assert cal.admissible(np.array([[p[k] for k in cal.FREE] for p in doc["plausible"]])).all()
    assert doc["constraint"]["passing_cutoff"] >= doc["plausible_count"]
    assert doc["discrepancy"]["sd_log"] == 0.10
    # the chosen point is one of the plausible sets, and the best of the re-run ones
    assert doc["chosen"] in doc["plausible"]
    assert doc["objective"]["value"] == min(f["objective"] for f in doc["finalists"])
    assert doc["objective_at_defaults"]["se"] > 0 and doc["noise"]["objective_se_chosen"] == doc["objective"]["se"]
    assert (tmp_path / "o" / "evaluations.csv").exists()
    capsys.readouterr()

    # --check at defaults equal to the chosen values agrees (exit 0); at other defaults it does not (exit 1)
    chosen = doc["chosen"]
    monkeypatch.setattr(cal, "default_point", lambda: dict(chosen))
    assert cal.main(["--check", "--targets", str(tiny_targets), "--json", str(out)]) == 0
    assert "agrees within the recorded standard error" in capsys.readouterr().out
    far = dict(chosen, **{"cartels.recruitment_rate": cal.FREE["cartels.recruitment_rate"][1]})
    monkeypatch.setattr(cal, "default_point", lambda: far)
    assert cal.main(["--check", "--targets", str(tiny_targets), "--json", str(out)]) == 1
    text = capsys.readouterr().out
    assert "DOES NOT agree" in text and "cartels.recruitment_rate" in text


def test_check_compares_within_the_recorded_standard_error():
    targets = TOY
    point = {k: float(np.mean(v)) for k, v in cal.FREE.items()}

    def evaluate(points, seeds):
        return np.array([[[100 * (1 + 0.01 * s), 50.0] for s in seeds]])

    values = cal.objective(evaluate(None, [0, 1, 2])[0], targets)
    recorded = {"objective": {"value": float(values.mean()), "se": cal.se(values), "seeds": [0, 1, 2]},
                "chosen": point}
    agrees, report = cal.check(recorded, evaluate, targets, point)
    assert agrees and f"{values.mean():.4f}" in report
    off = dict(recorded, objective=dict(recorded["objective"], value=float(values.mean()) + 2 * cal.se(values)))
    assert not cal.check(off, evaluate, targets, point)[0]


def test_the_recorded_calibration_matches_the_defaults_and_the_targets_file():
    doc = json.loads(cal.CALIBRATION_JSON.read_text())
    assert KEYS <= set(doc)
    assert doc["territory"] == "national" and doc["steps"] == cal.STEPS
    assert doc["parameters"] == {k: list(v) for k, v in cal.FREE.items()}
    assert doc["targets"] == [dict(t.__dict__) for t in cal.read_targets()]
    assert doc["chosen"] == pytest.approx(cal.default_point(), rel=1e-6)
    assert doc["objective"]["se"] > 0 and len(doc["objective"]["seeds"]) >= 10
    assert doc["evaluations"] == sum(w["points"] for w in doc["waves"])


def test_the_structural_constraint_and_reusing_earlier_runs(tmp_path):
    names = list(cal.FREE)
    x = np.array([[np.mean(cal.FREE[k]) for k in names]] * 2)
    x[1, names.index("cartels.recruitment_rate")] = 3 * x[1, names.index("cartels.saturation")]
    assert cal.admissible(x).tolist() == [True, False]
    # an evaluations.csv gives its runs back without running the model
    targets = cal.read_targets()
    ev = cal.ModelEvaluator(targets, cal.STEPS, 1, tmp_path)
    row = {**dict(zip(names, x[0])), "seed": 4, "steps": cal.STEPS, **{t.key: t.observed for t in targets}}
    import pandas as pd

    pd.DataFrame([row]).to_csv(tmp_path / "e.csv", index=False)
    ev.reuse(tmp_path / "e.csv")
    assert ev(x[:1], [4]).tolist() == [[[t.observed for t in targets]]] and ev.runs == 0 and ev.reused == 1
    pd.DataFrame([dict(row, steps=52)]).to_csv(tmp_path / "f.csv", index=False)
    with pytest.raises(ValueError, match="--reuse"):
        ev.reuse(tmp_path / "f.csv")
