"""What the figures of `experiments.plot` say on their face: which run a map shows, one dot-size scale
and a size key for all its maps, legend colours that never repeat, hidden groups counted, and the
few-seeds note on the distributions."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
import pandas as pd
import pytest

from experiments import figures, plot

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    """2 policies x 1 seed on the small map, 12 weeks, with node output."""
    root = tmp_path_factory.mktemp("figs")
    proc = subprocess.run([sys.executable, "-m", "experiments.run", "-m", "territory=small", "steps=12",
                           "policy=kingpin,none", "seed=0", "output.nodes=true", "hydra/launcher=basic",
                           f"hydra.sweep.dir={root}/sweep"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return root / "sweep"


@pytest.fixture
def kept(monkeypatch):
    """The figures `plot` would save, by file stem, open instead of written."""
    seen: dict[str, plt.Figure] = {}

    def keep(fig, path):
        seen[Path(path).name] = fig
        return []
    monkeypatch.setattr(plot, "save", keep)
    monkeypatch.setattr(figures, "save", keep)
    yield seen
    for fig in seen.values():
        plt.close(fig)


def _dots(ax) -> np.ndarray:
    """Sizes of the plaza dots (the first scatter after the edges)."""
    return [c for c in ax.collections if isinstance(c, matplotlib.collections.PathCollection)][0].get_sizes()


def test_sweep_territory_names_its_run_and_shares_one_size_scale(sweep, kept):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", figures.FewSeedsWarning)
        plot.plot(sweep, weeks=[1, 6, 12])
    fig = kept["territory"]
    title = fig.get_suptitle()
    runs = pd.read_parquet(sweep / "runs.parquet")
    named = [p for p in runs["policy"] if f"policy {p}," in title]
    assert len(named) == 1, title  # one run, and it says which
    assert "seed 0" in title and "territory small" in title and "steps=12" in title
    assert "(the first of 2 runs with node output)" in title
    run = runs.loc[runs["policy"] == named[0], "run"].iloc[0]
    nodes = pd.read_parquet(sweep / run / "nodes.parquet")
    maps = [ax for ax in fig.axes if ax.get_title().startswith("week ")]
    assert [ax.get_title().split(":")[0] for ax in maps] == ["week 1", "week 6", "week 12"]
    snaps = [nodes[nodes["step"] == w].sort_values("node") for w in (1, 6, 12)]
    scale = max(s["homicides"].max() for s in snaps)
    assert scale > 0
    for ax, snap in zip(maps, snaps):  # every map sized against the largest over the three, not its own
        np.testing.assert_allclose(_dots(ax), figures.dot_sizes(snap["homicides"].to_numpy(), scale, 40))
    assert min(snap["homicides"].max() for snap in snaps) < scale  # so a per-map scale would differ
    key = next(leg for leg in fig.legends if leg.get_gid() == "size-key")
    labels = [t.get_text() for t in key.get_texts()]
    assert labels[0] == "0 homicides/week" and labels[[i for i, t in enumerate(labels) if "largest" in t][0]] == \
        f"{scale:,.0f} homicides/week (largest)"
    for ax in maps:
        assert ax.get_xlabel()  # the stylised map says its positions carry no units


def test_one_run_territory_title_names_the_run(sweep, kept):
    run = sorted(p for p in sweep.iterdir() if (p / "nodes.parquet").exists())[0]
    plot.plot_run(run)
    title = kept["territory"].get_suptitle()
    assert "seed 0" in title and "territory small" in title and "of 2 runs" not in title
    assert ("policy kingpin," in title) != ("policy none," in title)


def _ring(n: int) -> nx.Graph:
    g = nx.cycle_graph(n)
    for i in g:
        g.nodes[i]["x"], g.nodes[i]["y"] = np.cos(2 * np.pi * i / n), np.sin(2 * np.pi * i / n)
    return g


def test_legend_counts_hidden_groups_and_listed_colours_never_repeat():
    # 8 groups; ids 2, 10 (two oranges by id) and 20 (2 modulo 18) among the listed ones
    held = {2: 6, 10: 5, 20: 4, 3: 3, 7: 3, 5: 2, 11: 1, 12: 1}
    controller = np.array([g for g, n in held.items() for _ in range(n)] + [-1, -1])
    assert (figures.group_colours(np.array([2]))[0] == figures.group_colours(np.array([20]))[0]).all()  # by id: same
    fig, ax = plt.subplots()
    figures.draw_territory(ax, _ring(len(controller)), controller, np.arange(len(controller), dtype=float),
                           np.ones(len(controller)), "t")
    legend = ax.get_legend()
    assert legend.get_title().get_text() == "6 largest of 8 groups"
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels[:6] == ["group 2: 6 plazas", "group 10: 5 plazas", "group 20: 4 plazas", "group 3: 3 plazas",
                          "group 7: 3 plazas", "group 5: 2 plazas"]
    assert labels[6] == "2 other groups: 2 plazas"
    colours = [tuple(h.get_color()) if not isinstance(h.get_color(), str) else h.get_color()
               for h in legend.legend_handles[:6]]
    rgba = [matplotlib.colors.to_rgba(c) for c in colours]
    assert len(set(rgba)) == 6 and matplotlib.colors.to_rgba(figures.OTHER_GROUPS) not in rgba
    faces = [tuple(f) for f in _face(ax)]
    assert faces.count(tuple(figures.OTHER_GROUPS)) == 2 and faces.count(tuple(figures.NO_GROUP)) == 2
    plt.close(fig)
    # all groups listed: says so, no "other" line
    fig, ax = plt.subplots()
    figures.draw_territory(ax, _ring(5), np.array([0, 0, 1, 1, -1]), np.zeros(5), np.ones(5), "t")
    assert ax.get_legend().get_title().get_text() == "all 2 groups"
    assert len(ax.get_legend().get_texts()) == 2
    plt.close(fig)


def _face(ax) -> np.ndarray:
    return [c for c in ax.collections if isinstance(c, matplotlib.collections.PathCollection)][0].get_facecolors()


def test_one_colour_per_group_across_maps_and_repeats_said_beyond_the_palette():
    maps = [np.array([1, 1, 1, 4, 4, 9]), np.array([9, 9, 9, 9, 4, 1])]
    colours = figures.ranked_colours(maps)
    assert list(colours) == [9, 1, 4]  # 5 plazas over both maps, then 4, then 3
    assert colours[9] == tuple(matplotlib.colors.to_rgba(figures.RANKED[0]))
    many = np.arange(20)  # 20 groups, all listed
    colours = figures.ranked_colours([many], legend=20)
    assert len(set(colours.values())) == 18
    fig, ax = plt.subplots()
    figures.draw_territory(ax, _ring(20), many, np.zeros(20), np.ones(20), "t", legend=20)
    assert ax.get_legend().get_title().get_text() == "all 20 groups\n(colours repeat every 18 groups)"
    plt.close(fig)


def test_draw_territory_scale_argument_and_its_default():
    g, ctrl, hom = _ring(4), np.array([0, 0, 1, 1]), np.array([0.0, 1.0, 4.0, 2.0])
    fig, (a, b) = plt.subplots(1, 2)
    figures.draw_territory(a, g, ctrl, hom, np.ones(4), "own scale")
    figures.draw_territory(b, g, ctrl, hom, np.ones(4), "shared", scale=16.0)
    np.testing.assert_allclose(_dots(a), 4 * (6 + 40 * np.sqrt(hom / 4)))
    np.testing.assert_allclose(_dots(b), 4 * (6 + 40 * np.sqrt(hom / 16)))
    plt.close(fig)
    assert figures.size_key_values(63) == [0, 10, 63]
    assert figures.size_key_values(3) == [0, 3] and figures.size_key_values(0) == [0]


def _runs(n_seeds: int) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame([{"policy": p, "seed": s, "homicides_last_year": rng.poisson(500),
                          "groups_active": rng.integers(3, 9), "effective_groups": rng.uniform(2, 5)}
                         for p in ("none", "kingpin") for s in range(n_seeds)])


def test_distributions_from_few_seeds_draw_dots_and_a_mean_with_the_note(kept, tmp_path):
    with pytest.warns(figures.FewSeedsWarning, match="only 2 seeds"):
        plot.distributions(_runs(2), "policy", tmp_path / "d")
    fig = kept["d"]
    assert any(t.get_text().startswith("Note: only 2 seeds") for t in fig.texts)
    for ax in fig.axes:
        assert not [p for p in ax.patches] and not ax.lines  # no box, no whiskers
        bars = [c for c in ax.collections if c.get_gid() == "mean-bar"]
        assert len(bars) == 2 and ax.get_ylabel() and ax.get_xlabel() == "policy"
    with warnings.catch_warnings():
        warnings.simplefilter("error", figures.FewSeedsWarning)
        plot.distributions(_runs(figures.FEW_SEEDS), "policy", tmp_path / "e")
    fig = kept["e"]
    assert not any("Note:" in t.get_text() for t in fig.texts)
    for ax in fig.axes:
        assert ax.lines and not [c for c in ax.collections if c.get_gid() == "mean-bar"]  # boxes drawn
