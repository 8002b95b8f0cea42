"""Calibration by history matching: the parameter sets whose pre-2015 hindcast is not implausible.

    python -m experiments.calibrate [--waves 80,60,60] [--seeds 5] [--final-seeds 20] [--final-sets 10]
                                    [--cutoff 3] [--rank 2] [--discrepancy 0.10] [--jobs 2]
                                    [--targets sim/data/calibration_targets.csv] [--out results/calibration]
                                    [--json docs/validation/calibration.json] [-- HYDRA OVERRIDES ...]
    python -m experiments.calibrate --check     # the objective at the current defaults vs the recorded one

Set-up: the hindcast (``territory=national scenario=mexico_2007 policy=kingpin``; week 1 = the first week
of 2007, the scenario's sourced timeline of inputs) run to the end of 2014 (``--steps 416``). Only the
targets in ``--targets`` are fitted, all before 2015 (INEGI homicides 2007-2014, groups at the end of 2007
and of 2011, members at the end of 2012); everything later is out of sample.

Method (history matching in waves, Andrianakis et al. 2015, PLoS Comput Biol 11(1):e1003968):

1. wave 1 runs a Latin hypercube over ``FREE`` on ``--seeds`` seeds, the SAME seeds for every point
   (common random numbers);
2. a Gaussian-process emulator per output (log scale; scikit-learn, RBF + WhiteKernel: the white term is
   the seed noise) is fitted to every run so far, and the seed noise is also measured directly (pooled
   variance between seeds at the same point);
3. the implausibility of an output at x is I = |z - E[f(x)]| / sqrt(V_emulator + V_seed + V_obs + V_disc):
   z the observed value (log), V_seed the measured seed variance (reality is one draw), V_obs from the
   target's range (low-high taken as +-2 sd on the log scale), V_disc the model discrepancy
   (``--discrepancy`` sd on the log scale, 10% by default). x is non-implausible when the ``--rank``-th
   largest I over the outputs is below ``--cutoff`` (rank 2, the second-largest, by default: one target
   may be missed);
4. the next wave runs points drawn uniformly and kept when every wave's emulator finds them
   non-implausible (rejection sampling); if too few pass, the points closest to passing are run instead
   and the wave says so;
5. plausible sets = simulated points whose seed-mean outputs pass the same cut-off (V_emulator replaced by
   the seed mean's variance). The ``--final-sets`` plausible sets with the lowest objective and the current
   defaults are re-run on ``--final-seeds`` seeds; the chosen point is the one with the lowest objective
   there, reported with its standard error across seeds.

Objective: the mean squared log-ratio model/observed over the targets, each named series weighing one
(the eight homicide years 1/8 each, the two group counts 1/2 each, members 1), computed per seed and
averaged over seeds; its standard error is the seeds' standard deviation / sqrt(seeds).

Each batch runs on this machine's cores (``--jobs``, joblib), or, with Hydra overrides after ``--``
(``-- hydra/launcher=slurm hydra.launcher.partition=PART``), as a resumable sweep of ``experiments.run``
through that launcher into ``OUT/runs/batch-<hash>`` (the batch's points as a sample file, as the
sensitivity analysis does). Overrides that are not ``hydra`` settings change the runs.

Size: the defaults (waves of 80, 60 and 60 points x 5 seeds, then 10 sets and the defaults x 20 seeds:
about 1,170 runs of ~6 s) take about 1 to 1.5 hours on 2 cores. The recorded calibration used
``--waves 40,30,30 --seeds 3 --final-seeds 10`` (380 runs, 30 minutes on 2 shared cores), analysed again
with ``--reuse`` once the constraint was added (21 more runs).

Writes every run to ``OUT/evaluations.csv`` and the result to ``--json`` (atomically). The defaults in
``sim/params.py`` are set by hand from ``chosen``; ``--check`` then recomputes the objective at the
defaults on the recorded seeds and exits 0 when it agrees with the recorded value within its standard
error, 1 when not.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import os
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy.stats import qmc

from sim import params

from . import io, simulate
from .store import TIMESERIES, check_run, run_dirs

ROOT = Path(__file__).resolve().parents[1]
TARGETS_FILE = ROOT / "sim" / "data" / "calibration_targets.csv"
CALIBRATION_JSON = ROOT / "docs" / "validation" / "calibration.json"
TERRITORY = "national"
STEPS = 416  # 2007-2014
FIRST_YEAR = 2007  # week 1 of scenario=mexico_2007
LAST_YEAR = 2014  # fit only what was published up to here
METHOD = ("history matching in waves with Gaussian-process emulators (Andrianakis et al. 2015), "
          "common random numbers, plausible sets kept")

FREE = {  # parameter -> (low, high) searched: plausible around the literature defaults (docs/parameters.md)
    "cartels.recruitment_rate": (0.0018, 0.0036),  # ~0.25%/wk gross recruitment (Prieto-Curiel et al. 2023)
    "cartels.saturation": (0.0010, 0.0030),  # sets members with capacity (~115,000 in 2012)
    "cartels.predation_rate": (0.015, 0.045),  # residents killed: sets the homicide level
    "cartels.defection_rate": (0.3, 0.8),  # headless groups splitting: groups in 2011
    "cartels.succession_clarity": (0.1, 0.5),  # accepted successors: groups in 2011
    "police.base_leader_share": (0.1, 0.6),  # leader hunting before Merida: groups at the end of 2007
}
# A structural constraint on the plausible sets (a prior, not a target): gross recruitment at full vulnerability
# over the exits at capacity sets how far the plazas fill (the logistic equilibrium); above 2 the long runs
# outgrow their plazas (more than twice their capacity, over 300 homicides per 100,000 a year after a few
# decades: tests/test_reliability.py). The waves sample without it; it is applied to the plausible sets.
MAX_FILL = 2.0
CONSTRAINT = f"cartels.recruitment_rate / cartels.saturation <= {MAX_FILL:g}"


def admissible(x: np.ndarray) -> np.ndarray:
    """Which points (rows in FREE's order) meet CONSTRAINT."""
    x = np.atleast_2d(np.asarray(x, float))
    names = list(FREE)
    return x[:, names.index("cartels.recruitment_rate")] / x[:, names.index("cartels.saturation")] <= MAX_FILL + 1e-12


# how each target name is measured from the weekly timeseries: (column, yearly aggregate)
MEASURES = {"homicides": ("homicides", "sum"), "groups": ("groups_active", "last"), "members": ("members", "last")}
SERIES = {"homicides"}  # yearly series: their years must run from FIRST_YEAR without a gap
HEADER = ["name", "year", "observed", "low", "high", "source"]


def base(steps: int = STEPS) -> list[str]:
    return [f"territory={TERRITORY}", "policy=kingpin", "scenario=mexico_2007", f"steps={steps}"]


# -------------------------------------------------------------------------------------------- targets
class TargetsError(ValueError):
    """A calibration data file that is refused; ``str(err)`` is one line naming the file and the line."""


@dataclass(frozen=True)
class Target:
    name: str
    year: int
    observed: float
    low: float
    high: float
    source: str

    @property
    def key(self) -> str:
        return f"{self.name}_{self.year}"

    @property
    def sd_obs(self) -> float:
        """Observation sd on the log scale: the range low-high taken as +-2 sd."""
        return (math.log(self.high) - math.log(self.low)) / 4


def read_targets(path: Path = TARGETS_FILE) -> list[Target]:
    """The targets of ``path`` (lines starting with # are notes), checked; raises TargetsError."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise TargetsError(f"{path}: cannot be read ({err.strerror})") from None
    rows = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip() and not line.startswith("#")]
    if not rows:
        raise TargetsError(f"{path}: no header line (expected {','.join(HEADER)})")
    (hline, header), *body = [(n, r) for (n, _), r in zip(rows, csv.reader(line for _, line in rows))]
    if [h.strip() for h in header] != HEADER:
        raise TargetsError(f"{path}:{hline}: header {','.join(header)!r} (expected {','.join(HEADER)})")
    if not body:
        raise TargetsError(f"{path}: no targets after the header")
    targets, where = [], {}
    for n, row in body:
        at = f"{path}:{n}"
        if len(row) != len(HEADER):
            raise TargetsError(f"{at}: {len(row)} fields (expected {len(HEADER)}: {','.join(HEADER)})")
        name, year, observed, low, high, source = (c.strip() for c in row)
        if name not in MEASURES:
            raise TargetsError(f"{at}: name {name!r} (allowed: {', '.join(MEASURES)})")
        try:
            year_ = int(year)
        except ValueError:
            raise TargetsError(f"{at}: year {year!r} (allowed: an integer {FIRST_YEAR}-{LAST_YEAR})") from None
        if not FIRST_YEAR <= year_ <= LAST_YEAR:
            raise TargetsError(f"{at}: year {year_} (allowed: {FIRST_YEAR}-{LAST_YEAR}; later years are out of sample)")
        values = []
        for label, v in (("observed", observed), ("low", low), ("high", high)):
            try:
                x = float(v)
            except ValueError:
                x = float("nan")
            if not (math.isfinite(x) and x > 0):
                raise TargetsError(f"{at}: {label} {v!r} (allowed: a positive finite number)")
            values.append(x)
        if not values[1] <= values[0] <= values[2] or values[1] == values[2]:
            raise TargetsError(f"{at}: range {low}-{high} around {observed} "
                               "(allowed: low <= observed <= high, low < high)")
        if not source:
            raise TargetsError(f"{at}: empty source (every target names where it was published)")
        if (name, year_) in where:
            raise TargetsError(f"{at}: {name} {year_} given twice (first on line {where[(name, year_)]})")
        where[(name, year_)] = n
        targets.append(Target(name, year_, *values, source))
    for name in SERIES:
        years = sorted(t.year for t in targets if t.name == name)
        for i, y in enumerate(years):
            want = FIRST_YEAR + i
            if y != want:
                raise TargetsError(f"{path}:{where[(name, y)]}: {name} {y} follows a missing year {want} "
                                   f"(allowed: one row per year from {FIRST_YEAR} without a gap)")
    return targets


def weights(targets: Sequence[Target]) -> np.ndarray:
    """Each named series weighs one in the objective, split evenly over its years."""
    count = {t.name: sum(u.name == t.name for u in targets) for t in targets}
    w = np.array([1 / count[t.name] for t in targets])
    return w / w.sum()


def log_outputs(values: np.ndarray) -> np.ndarray:
    return np.log(np.maximum(values, 1.0))


def objective(values: np.ndarray, targets: Sequence[Target]) -> np.ndarray:
    """Weighted mean squared log-ratio model/observed; ``values`` (..., targets) in target order."""
    z = np.log([t.observed for t in targets])
    return ((log_outputs(np.asarray(values, float)) - z) ** 2 * weights(targets)).sum(axis=-1)


# ------------------------------------------------------------------------------------ emulation
class Emulator:
    """One Gaussian process per output on inputs scaled to [0, 1]; the WhiteKernel is the seed noise."""

    def __init__(self, bounds: np.ndarray, restarts: int = 2, random_state: int = 0):
        self.bounds = np.asarray(bounds, float)
        self.restarts, self.random_state = restarts, random_state
        self.gps: list = []

    def scale(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x, float) - self.bounds[:, 0]) / (self.bounds[:, 1] - self.bounds[:, 0])

    def fit(self, x: np.ndarray, y: np.ndarray) -> Emulator:
        """``x`` (runs, params) raw, ``y`` (runs, outputs): one row per run (several seeds per point)."""
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

        d = self.bounds.shape[0]
        xs = self.scale(x)
        self.gps = []
        for k in range(y.shape[1]):
            kernel = (ConstantKernel(1.0, (1e-3, 1e3)) * RBF(np.full(d, 0.5), (0.05, 20.0))
                      + WhiteKernel(0.1, (1e-6, 10.0)))
            gp = GaussianProcessRegressor(kernel, normalize_y=True, n_restarts_optimizer=self.restarts,
                                          random_state=self.random_state)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                gp.fit(xs, y[:, k])
            self.gps.append(gp)
        return self

    @property
    def noise_var(self) -> np.ndarray:
        """The seed noise variance each output's WhiteKernel found (output units)."""
        return np.array([gp.kernel_.k2.noise_level * float(np.atleast_1d(gp._y_train_std)[0]) ** 2
                         for gp in self.gps])

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and variance of the seed-mean output (the emulator's own uncertainty, noise removed)."""
        xs = self.scale(x)
        noise = self.noise_var
        means, variances = [], []
        for gp, nv in zip(self.gps, noise):
            m, s = gp.predict(xs, return_std=True)
            means.append(m)
            variances.append(np.maximum(s ** 2 - nv, 1e-12))
        return np.array(means).T, np.array(variances).T


def round_sig(x: np.ndarray, digits: int = 4) -> np.ndarray:
    return np.vectorize(lambda v: float(f"{v:.{digits}g}"))(np.asarray(x, float))


def seed_variance(y: np.ndarray) -> np.ndarray:
    """Pooled variance between seeds at the same point; ``y`` (points, seeds, outputs)."""
    if y.shape[1] < 2:
        raise ValueError("measuring the seed noise needs at least 2 seeds per point")
    return y.var(axis=1, ddof=1).mean(axis=0)


def implausibility(z: np.ndarray, mean: np.ndarray, var: np.ndarray) -> np.ndarray:
    return np.abs(z - mean) / np.sqrt(var)


def ranked(imp: np.ndarray, rank: int) -> np.ndarray:
    """The ``rank``-th largest implausibility over the outputs (1 = the maximum)."""
    return -np.sort(-imp, axis=-1)[..., rank - 1]


@dataclass
class Settings:
    waves: tuple[int, ...] = (80, 60, 60)
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    final_seeds: tuple[int, ...] = tuple(range(20))
    final_sets: int = 10
    cutoff: float = 3.0
    rank: int = 2
    discrepancy: float = 0.10
    candidates: int = 20_000  # uniform draws per wave for rejection sampling
    seed: int = 0  # the search's own random numbers (hypercube, rejection sampling)


# evaluate(points (n, d) raw, seeds) -> outputs (n, len(seeds), targets), raw positive values
Evaluator = Callable[[np.ndarray, Sequence[int]], np.ndarray]


def history_match(evaluate: Evaluator, targets: Sequence[Target], bounds: np.ndarray, s: Settings,
                  log: Callable[[str], None] = print) -> dict:
    """Waves of history matching; returns the runs, the waves' summaries and the plausible points."""
    bounds = np.asarray(bounds, float)
    d = bounds.shape[0]
    rng = np.random.default_rng(s.seed)
    z = np.log([t.observed for t in targets])
    v_fixed = np.array([t.sd_obs ** 2 for t in targets]) + s.discrepancy ** 2
    emulators: list[tuple[Emulator, np.ndarray]] = []  # each wave's emulator and the seed variance it used
    X = np.empty((0, d))
    Y = np.empty((0, len(s.seeds), len(targets)))
    wave_of: list[int] = []
    waves = []
    for w, n in enumerate(s.waves, 1):
        note = ""
        if w == 1:
            unit = qmc.LatinHypercube(d=d, seed=rng).random(n)
            points = bounds[:, 0] + unit * (bounds[:, 1] - bounds[:, 0])
        else:
            points, frac, note = _sample_region(emulators, z, v_fixed, bounds, n, s, rng)
            waves[-1]["non_implausible_fraction"] = frac
        points = round_sig(points)  # the values written into sim/params.py are exactly the ones run
        t0 = time.time()
        out = np.asarray(evaluate(points, s.seeds), float)
        X, Y = np.vstack([X, points]), np.concatenate([Y, out])
        wave_of += [w] * n
        ly = log_outputs(Y)
        vseed = seed_variance(ly)
        em = Emulator(bounds, random_state=s.seed).fit(np.repeat(X, len(s.seeds), axis=0),
                                                       ly.reshape(-1, len(targets)))
        emulators.append((em, vseed))
        waves.append({"wave": w, "points": int(n), "seeds": list(s.seeds), "runs": int(n * len(s.seeds)),
                      "sampling": "Latin hypercube" if w == 1 else "rejection sampling in the non-implausible "
                                  "region of every earlier wave's emulator" + note,
                      "seconds": round(time.time() - t0, 1),
                      "seed_sd_measured": {t.key: float(math.sqrt(v)) for t, v in zip(targets, vseed)},
                      "seed_sd_emulator": {t.key: float(math.sqrt(v)) for t, v in zip(targets, em.noise_var)}})
        log(f"wave {w}: {n} points x {len(s.seeds)} seeds in {waves[-1]['seconds']:.0f} s")
    # the region the last emulator leaves, for the record
    _, frac, _ = _sample_region(emulators, z, v_fixed, bounds, 1, s, rng)
    waves[-1]["non_implausible_fraction"] = frac
    ly = log_outputs(Y)
    vseed = seed_variance(ly)
    mean = ly.mean(axis=1)
    imp = implausibility(z, mean, vseed / len(s.seeds) + vseed + v_fixed)
    score = ranked(imp, s.rank)
    obj = objective(Y, targets)  # (points, seeds)
    # the smallest discrepancy (sd, log scale) at which each point would pass the cut-off
    need = np.maximum(((z - mean) / s.cutoff) ** 2 - (vseed / len(s.seeds) + vseed + v_fixed - s.discrepancy ** 2), 0)
    need = np.sqrt(-np.sort(-need, axis=1)[:, s.rank - 1])
    return {"needed_discrepancy": need, "X": X, "Y": Y, "wave": np.array(wave_of), "waves": waves,
            "implausibility": imp, "score": score,
            "plausible": score < s.cutoff, "objective": obj.mean(axis=1), "seed_var": vseed}


def _sample_region(emulators, z, v_fixed, bounds, n, s: Settings, rng) -> tuple[np.ndarray, float, str]:
    """``n`` uniform points that every emulator finds non-implausible (or the closest, if too few pass)."""
    d = bounds.shape[0]
    cand = bounds[:, 0] + rng.random((s.candidates, d)) * (bounds[:, 1] - bounds[:, 0])
    worst = np.zeros(len(cand))
    for em, vseed in emulators:
        m, v = em.predict(cand)
        worst = np.maximum(worst, ranked(implausibility(z, m, v + vseed + v_fixed), s.rank))
    ok = np.flatnonzero(worst < s.cutoff)
    frac = float(len(ok) / len(cand))
    if len(ok) >= n:
        return cand[rng.choice(ok, n, replace=False)], frac, ""
    pick = np.argsort(worst)[:n]
    note = (f"; only {len(ok)} of {len(cand)} candidates passed, so the {n} with the lowest implausibility "
            f"(up to {worst[pick].max():.2f}) were run")
    return cand[pick], frac, note


# ------------------------------------------------------------------------------------- the model
def outcomes_of(ts: pd.DataFrame, targets: Sequence[Target]) -> list[float]:
    year = (ts["step"] - 1) // 52 + FIRST_YEAR
    out = []
    for t in targets:
        column, how = MEASURES[t.name]
        sel = ts.loc[year == t.year, column]
        if sel.empty:
            raise ValueError(f"the run ends before {t.year} (target {t.key})")
        out.append(float(sel.sum() if how == "sum" else sel.iloc[-1]))
    return out


def overrides_of(point: dict[str, float]) -> list[str]:
    return [f"{k}={v:.6g}" for k, v in point.items()]


def run_one(point: dict[str, float], seed: int, steps: int, targets: Sequence[Target],
            extra: Sequence[str] = ()) -> list[float]:
    return outcomes_of(simulate([*base(steps), f"seed={seed}", *overrides_of(point), *extra]), targets)


class ModelEvaluator:
    """Runs (point, seed) pairs with joblib or through a Hydra launcher; remembers what it ran."""

    def __init__(self, targets: Sequence[Target], steps: int, jobs: int, out: Path, extra: Sequence[str] = ()):
        self.targets, self.steps, self.jobs, self.out = list(targets), steps, jobs, Path(out)
        self.launcher = [o for o in extra if o.startswith("hydra")]
        self.model_overrides = [o for o in extra if not o.startswith("hydra")]
        self.cache: dict[tuple, list[float]] = {}
        self.runs = 0
        self.reused = 0

    def reuse(self, path: Path) -> None:
        """Take the runs of an earlier ``evaluations.csv`` (same set-up and code) instead of running them again."""
        table = pd.read_csv(path)
        keys = [t.key for t in self.targets]
        missing = [c for c in [*FREE, "seed", *keys] if c not in table.columns]
        if missing:
            raise ValueError(f"invalid value for '--reuse': {path} (allowed: an evaluations.csv of this calibration; "
                             f"it lacks {', '.join(missing)})")
        if "steps" in table.columns and set(table["steps"]) != {self.steps}:
            raise ValueError(f"invalid value for '--reuse': {path} (allowed: runs of --steps {self.steps})")
        for r in table.to_dict("records"):
            self.cache[self.key(np.array([r[k] for k in FREE]), int(r["seed"]))] = [float(r[k]) for k in keys]
        self.reused = len(self.cache)

    def key(self, point: np.ndarray, seed: int) -> tuple:
        return (*(float(f"{v:.6g}") for v in point), int(seed))

    def __call__(self, points: np.ndarray, seeds: Sequence[int]) -> np.ndarray:
        names = list(FREE)
        todo = [(i, s) for i in range(len(points)) for s in seeds if self.key(points[i], s) not in self.cache]
        if todo:
            if self.launcher:  # one sweep over the points with a missing run x the seeds
                rows = sorted({i for i, _ in todo})
                found = run_batch([dict(zip(names, points[i])) for i in rows], list(seeds),
                                  self.out, self.steps, self.targets, [*self.launcher, *self.model_overrides])
                done = [found[(rows.index(i), s)] for i, s in todo]
            else:
                done = Parallel(n_jobs=self.jobs)(
                    delayed(run_one)(dict(zip(names, points[i])), s, self.steps, self.targets, self.model_overrides)
                    for i, s in todo)
            for (i, s), o in zip(todo, done):
                self.cache[self.key(points[i], s)] = o
            self.runs += len(todo)
        return np.array([[self.cache[self.key(p, s)] for s in seeds] for p in points])


def run_batch(points: list[dict[str, float]], seeds: list[int], out: Path, steps: int, targets: Sequence[Target],
              overrides: list[str]) -> dict[tuple[int, int], list[float]]:
    """Run every (point, seed) as one sweep through ``overrides``' launcher; outcomes by (point, seed).

    The batch folder is named by a hash of its points, seeds and overrides, so a re-run finds the runs
    that finished before and the launcher submits only the rest."""
    table = pd.DataFrame(points, columns=list(FREE))
    table.insert(0, "row", np.arange(len(table)))
    key = json.dumps([table.to_csv(index=False), seeds, overrides, base(steps)])
    batch = (Path(out) / "runs" / f"batch-{hashlib.sha1(key.encode()).hexdigest()[:10]}").resolve()
    samples = batch / "points.csv"
    if not samples.exists():
        io.write_csv(table, samples)
    args = [sys.executable, "-m", "experiments.run", "-m", *base(steps), f"+sample.file={samples}",
            f"+sample.row=range(0,{len(points)})", f"seed={','.join(map(str, seeds))}", f"hydra.sweep.dir={batch}",
            *overrides]
    proc = subprocess.run(args, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"the batch sweep into {batch} failed (exit {proc.returncode}); re-run to resume it")
    found = {}
    for d in run_dirs(batch):
        status = check_run(d)
        if status.finished:
            sample = status.summary["config"]["sample"]
            found[(int(sample["row"]), int(status.summary["seed"]))] = outcomes_of(
                pd.read_parquet(d / TIMESERIES), targets)
    missing = [(i, s) for i in range(len(points)) for s in seeds if (i, s) not in found]
    if missing:
        raise RuntimeError(f"{len(missing)} runs of {batch} did not finish; re-run to resume it")
    return found


def default_point() -> dict[str, float]:
    p = params.Params()
    return {key: float(getattr(getattr(p, key.split(".")[0]), key.split(".")[1])) for key in FREE}


# ------------------------------------------------------------------------------------ calibrate
def se(x: np.ndarray) -> float:
    x = np.asarray(x, float)
    return float(x.std(ddof=1) / math.sqrt(len(x))) if len(x) > 1 else float("nan")


def calibrate(evaluate: Evaluator, targets: Sequence[Target], s: Settings, defaults: dict[str, float],
              steps: int, log: Callable[[str], None] = print) -> tuple[dict, pd.DataFrame]:
    """History matching, then the final re-runs; the calibration.json document and every run's row."""
    t0 = time.time()
    names = list(FREE)
    bounds = np.array([FREE[k] for k in names])
    hm = history_match(evaluate, targets, bounds, s, log)
    X, obj = hm["X"], hm["objective"]
    plausible = hm["plausible"] & admissible(X)
    order = [i for i in np.argsort(obj) if plausible[i]]
    closest = not order
    if closest:  # nothing passes: say so, and re-run the points with the lowest objective instead
        order = list(np.argsort(obj))
    finalists = X[order[: s.final_sets]]
    dflt = np.array([[defaults[k] for k in names]])
    log(f"final: {len(finalists)} sets and the defaults x {len(s.final_seeds)} seeds")
    t1 = time.time()
    final_out = evaluate(np.vstack([dflt, finalists]), s.final_seeds)
    final_obj = objective(final_out, targets)  # (1 + sets, seeds)
    best = 1 + int(np.argmin(final_obj[1:].mean(axis=1)))
    chosen = {k: float(f"{v:.4g}") for k, v in zip(names, finalists[best - 1])}
    diff = final_obj[0] - final_obj[best]  # paired over the common seeds
    ranked_final = np.argsort(final_obj[1:].mean(axis=1))
    runner = 1 + int(ranked_final[1]) if len(finalists) > 1 else None
    mean_out = final_out[best].mean(axis=0)
    plausible_sets = [{k: float(f"{v:.4g}") for k, v in zip(names, X[i])} for i in np.flatnonzero(plausible)]
    spread = {k: [float(X[plausible, j].min()), float(X[plausible, j].max())] if plausible.any() else None
              for j, k in enumerate(names)}
    noise = {
        "objective_se_chosen": se(final_obj[best]),
        "objective_se_defaults": se(final_obj[0]),
        "defaults_minus_chosen": float(diff.mean()), "defaults_minus_chosen_se": se(diff),
        "resolved_vs_defaults": bool(abs(diff.mean()) > 2 * se(diff)),
    }
    if runner is not None:
        d2 = final_obj[runner] - final_obj[best]
        noise.update({"runner_up_minus_chosen": float(d2.mean()), "runner_up_minus_chosen_se": se(d2),
                      "resolved_vs_runner_up": bool(abs(d2.mean()) > 2 * se(d2))})
    noise["note"] = ("differences are paired over the common seeds; 'resolved' means the difference exceeds "
                     "twice its standard error")
    doc = {
        "method": METHOD,
        "territory": TERRITORY,
        "steps": int(steps),
        "years": [FIRST_YEAR, FIRST_YEAR + (steps - 1) // 52],
        "setup": base(steps),
        "parameters": {k: list(v) for k, v in FREE.items()},
        "targets": [asdict(t) for t in targets],
        "seeds": list(s.seeds),
        "evaluations": int(len(X)),
        "runs": int(len(X) * len(s.seeds) + final_out.shape[0] * len(s.final_seeds)),
        "waves": hm["waves"],
        "implausibility": {
            "formula": "I = |z - E[f(x)]| / sqrt(V_emulator + V_seed + V_obs + V_discrepancy), log scale",
            "cutoff": s.cutoff, "rank": s.rank,
            "rule": (f"non-implausible when the {_ordinal(s.rank)} largest I over the {len(targets)} targets "
                     f"is below {s.cutoff:g}"),
            "v_obs": "((log high - log low) / 4)^2: the target's range taken as +-2 sd",
            "v_seed": "pooled variance between seeds at the same point (measured from the runs)",
        },
        "discrepancy": {"sd_log": s.discrepancy,
                        "note": f"model discrepancy of {s.discrepancy:.0%} (sd on the log scale) for every target"},
        "cutoff": s.cutoff,
        "seed_sd_log": {t.key: float(math.sqrt(v)) for t, v in zip(targets, hm["seed_var"])},
        "chosen": chosen,
        "objective": {"value": float(final_obj[best].mean()), "se": se(final_obj[best]),
                      "seeds": list(s.final_seeds)},
        "objective_at_defaults": {"values": {k: float(v) for k, v in defaults.items()},
                                  "value": float(final_obj[0].mean()), "se": se(final_obj[0]),
                                  "seeds": list(s.final_seeds)},
        "noise": noise,
        "plausible": plausible_sets,
        "plausible_count": int(plausible.sum()),
        "constraint": {"rule": CONSTRAINT, "applied_to": "the plausible sets and the finalists (the waves sample "
                       "without it)", "passing_cutoff": int(hm["plausible"].sum()),
                       "passing_cutoff_and_constraint": int(plausible.sum())},
        "smallest_discrepancy_with_a_plausible_set": float(hm["needed_discrepancy"].min()),
        "plausible_spread": spread,
        "no_plausible_set": closest,
        "finalists": [{"values": {k: float(f"{v:.4g}") for k, v in zip(names, finalists[i])},
                       "objective": float(final_obj[1 + i].mean()), "se": se(final_obj[1 + i])}
                      for i in range(len(finalists))],
        "model_at_chosen": {t.key: float(m) for t, m in zip(targets, mean_out)},
        "model_at_chosen_sd": {t.key: float(v) for t, v in zip(targets, final_out[best].std(axis=0, ddof=1))}
        if len(s.final_seeds) > 1 else {},
        "seconds": {"waves": round(t1 - t0, 1), "final": round(time.time() - t1, 1),
                    "total": round(time.time() - t0, 1)},
    }
    rows = []
    for i, (x, y) in enumerate(zip(X, hm["Y"])):
        for j, sd in enumerate(s.seeds):
            rows.append({"stage": f"wave{hm['wave'][i]}", "steps": steps, "point": i, **dict(zip(names, x)), "seed": sd,
                         **{t.key: v for t, v in zip(targets, y[j])}, "objective": float(objective(y[j], targets)),
                         "plausible": bool(plausible[i])})
    for i, (x, y) in enumerate(zip(np.vstack([dflt, finalists]), final_out)):
        for j, sd in enumerate(s.final_seeds):
            rows.append({"stage": "defaults" if i == 0 else "final", "steps": steps, "point": i,
                         **dict(zip(names, x)), "seed": sd,
                         **{t.key: v for t, v in zip(targets, y[j])}, "objective": float(final_obj[i, j]),
                         "plausible": None})
    return doc, pd.DataFrame(rows)


def _ordinal(n: int) -> str:
    return {1: "1st (the maximum)", 2: "2nd", 3: "3rd"}.get(n, f"{n}th")


def check(recorded: dict, evaluate: Evaluator, targets: Sequence[Target], defaults: dict[str, float]
          ) -> tuple[bool, str]:
    """The objective at ``defaults`` on the recorded seeds against the recorded one; (agrees, report)."""
    seeds = recorded["objective"]["seeds"]
    out = evaluate(np.array([[defaults[k] for k in FREE]]), seeds)
    values = objective(out[0], targets)
    value, rec, rec_se = float(values.mean()), float(recorded["objective"]["value"]), float(recorded["objective"]["se"])
    agrees = abs(value - rec) <= rec_se
    moved = {k: (recorded["chosen"].get(k), v) for k, v in defaults.items()
             if recorded["chosen"].get(k) is None or not math.isclose(recorded["chosen"][k], v, rel_tol=1e-3)}
    lines = [f"objective at the current defaults on seeds {seeds}: {value:.4f} ± {se(values):.4f} (SE); "
             f"recorded: {rec:.4f} ± {rec_se:.4f}; difference {value - rec:+.4f}: "
             + ("agrees within the recorded standard error" if agrees else "DOES NOT agree within the recorded "
                                                                             "standard error")]
    if moved:
        lines.append("defaults that differ from the recorded chosen values: "
                     + ", ".join(f"{k} {a} -> {b}" for k, (a, b) in moved.items()))
    return agrees, "\n".join(lines)


# ------------------------------------------------------------------------------------------ CLI
def _ints(text: str, label: str) -> tuple[int, ...]:
    try:
        v = tuple(int(x) for x in text.split(","))
    except ValueError:
        v = ()
    if not v or min(v) < 1:
        raise ValueError(f"invalid value for '{label}': {text!r} (allowed: positive integers separated by commas)")
    return v


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="recompute the objective at the current defaults")
    ap.add_argument("--waves", default="80,60,60", help="points per wave, e.g. 80,60,60")
    ap.add_argument("--seeds", type=int, default=5, help="seeds per point in the waves (0..N-1, the same for all)")
    ap.add_argument("--final-seeds", type=int, default=20, help="seeds of the final re-runs (0..N-1)")
    ap.add_argument("--final-sets", type=int, default=10, help="plausible sets re-run on the final seeds")
    ap.add_argument("--cutoff", type=float, default=3.0, help="implausibility above which a point is ruled out")
    ap.add_argument("--rank", type=int, default=2, help="which largest implausibility is cut (1 = the maximum)")
    ap.add_argument("--discrepancy", type=float, default=0.10, help="model discrepancy, sd on the log scale")
    ap.add_argument("--candidates", type=int, default=20_000, help="uniform draws per wave (rejection sampling)")
    ap.add_argument("--steps", type=int, default=STEPS, help=f"weeks per run from January 2007 (default {STEPS})")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="runs at a time (default: all cores)")
    ap.add_argument("--targets", type=Path, default=TARGETS_FILE,
                    help="targets CSV (name,year,observed,low,high,source)")
    ap.add_argument("--out", type=Path, default=Path("results/calibration"),
                    help="folder of the runs and evaluations.csv")
    ap.add_argument("--json", type=Path, default=CALIBRATION_JSON, help="calibration.json to write (or to --check)")
    ap.add_argument("--reuse", type=Path, help="an earlier OUT/evaluations.csv whose runs are taken, not re-run")
    argv = sys.argv[1:] if argv is None else list(argv)
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    args = ap.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    try:
        waves = _ints(args.waves, "--waves")
        for label, v, lo in (("--seeds", args.seeds, 2), ("--final-seeds", args.final_seeds, 2),
                             ("--final-sets", args.final_sets, 1), ("--rank", args.rank, 1),
                             ("--candidates", args.candidates, 100), ("--jobs", args.jobs, 1)):
            if v < lo:
                raise ValueError(f"invalid value for '{label}': {v} (allowed: an integer >= {lo})")
        if not args.cutoff > 0:
            raise ValueError(f"invalid value for '--cutoff': {args.cutoff} (allowed: a number > 0)")
        if not args.discrepancy >= 0:
            raise ValueError(f"invalid value for '--discrepancy': {args.discrepancy} (allowed: a number >= 0)")
        targets = read_targets(args.targets)
        last = max(t.year for t in targets)
        if args.steps < (last - FIRST_YEAR + 1) * 52:
            raise ValueError(f"invalid value for '--steps': {args.steps} (allowed: >= {(last - FIRST_YEAR + 1) * 52}, "
                             f"the end of {last}, the last target year)")
        if args.rank > len(targets):
            raise ValueError(f"invalid value for '--rank': {args.rank} (allowed: 1..{len(targets)}, the targets)")
    except (ValueError, TargetsError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.check:
        try:
            recorded = json.loads(args.json.read_text(encoding="utf-8"))
            steps = int(recorded["steps"])
        except (OSError, ValueError, KeyError) as err:
            print(f"error: {args.json} has no recorded calibration ({err})", file=sys.stderr)
            return 2
        ev = ModelEvaluator(targets, steps, args.jobs, args.out, extra)
        agrees, report = check(recorded, ev, targets, default_point())
        print(report)
        return 0 if agrees else 1
    s = Settings(waves=waves, seeds=tuple(range(args.seeds)), final_seeds=tuple(range(args.final_seeds)),
                 final_sets=args.final_sets, cutoff=args.cutoff, rank=args.rank, discrepancy=args.discrepancy,
                 candidates=args.candidates)
    ev = ModelEvaluator(targets, args.steps, args.jobs, args.out, extra)
    if args.reuse:
        try:
            ev.reuse(args.reuse)
        except (OSError, ValueError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    try:
        doc, table = calibrate(ev, targets, s, default_point(), args.steps)
    except RuntimeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    doc["command"] = "python -m experiments.calibrate " + " ".join(argv)
    doc["jobs"] = args.jobs
    doc["model_runs"] = ev.runs
    doc["runs_reused"] = ev.reused
    doc["commit"] = io.git_commit()
    io.write_csv(table, args.out / "evaluations.csv")
    io.write_json(doc, args.json)
    print(summary(doc))
    print(f"written: {args.out / 'evaluations.csv'}, {args.json}")
    return 0


def summary(doc: dict) -> str:
    o, d, n = doc["objective"], doc["objective_at_defaults"], doc["noise"]
    lines = [f"{doc['evaluations']} points in {len(doc['waves'])} waves, {doc.get('model_runs', doc['runs'])} runs, "
             f"{doc['seconds']['total']:.0f} s; plausible sets: {doc['plausible_count']}"
             + (" (none passed the cut-off: the closest points were re-run)" if doc["no_plausible_set"] else ""),
             f"objective at the defaults: {d['value']:.4f} ± {d['se']:.4f}; at the chosen point: "
             f"{o['value']:.4f} ± {o['se']:.4f} (SE over {len(o['seeds'])} seeds); paired difference "
             f"{n['defaults_minus_chosen']:.4f} ± {n['defaults_minus_chosen_se']:.4f}",
             "chosen: " + ", ".join(f"{k}={v:g}" for k, v in doc["chosen"].items())]
    for t in doc["targets"]:
        key = f"{t['name']}_{t['year']}"
        lines.append(f"  {key:16s} model {doc['model_at_chosen'][key]:>10.0f}   observed {t['observed']:>10.0f} "
                     f"({t['low']:g}-{t['high']:g})")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
