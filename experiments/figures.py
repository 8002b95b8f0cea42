"""Figures of runs (matplotlib, headless): weekly outcomes per policy with bands across seeds."""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402

# (column, axis label, transform of the weekly series)
PANELS = [
    ("homicides", "homicides per year\n(13-week mean x 52)", lambda s: s.rolling(13, min_periods=1).mean() * 52),
    ("members", "cartel members (persons)", None),
    ("groups_active", "active groups (count)", None),
    ("effective_groups", "effective groups\n(1 / Herfindahl of member shares)", None),
]
# Fewer seeds than this: a mean +- 1.96 standard errors band (or a bootstrap interval) is itself too
# uncertain to read as a 95% interval (the standard error of a standard deviation from n seeds is about
# 1 / sqrt(2 (n - 1)) of it: 50% at n = 3, 24% at n = 10). Figures say so on their face and warn.
FEW_SEEDS = 10


class FewSeedsWarning(UserWarning):
    """An interval computed from fewer than FEW_SEEDS seeds (or pairs of seeds)."""


def few_seeds_text(n: int, what: str = "95% bands", unit: str = "seed") -> str | None:
    """The note for an interval from ``n`` seeds, or None when there are enough."""
    if n >= FEW_SEEDS:
        return None
    plural = "" if n == 1 else "s"
    return (f"only {n} {unit}{plural}: the {what} are rough guides, not reliable 95% intervals "
            f"(use about {FEW_SEEDS} or more)")


def note_few_seeds(fig, n: int, what: str = "95% bands", unit: str = "seed") -> str | None:
    """Write a visible red note at the foot of ``fig`` and warn (FewSeedsWarning) when ``n < FEW_SEEDS``."""
    text = few_seeds_text(n, what, unit)
    if text is None:
        return None
    engine = fig.get_layout_engine()
    if engine is not None and hasattr(engine, "set"):
        engine.set(rect=(0, 0.05, 1, 0.95))  # leave the bottom strip to the note
    fig.text(0.5, 0.01, "Note: " + text, ha="center", va="bottom", fontsize=9, color="#b2182b",
             gid="few-seeds-note")
    warnings.warn(text, FewSeedsWarning, stacklevel=3)
    return text


POLICY_COLOURS = {"none": "#7f7f7f", "kingpin": "#d62728", "merida": "#ff7f0e", "prevention": "#2ca02c"}


def mean_band(df: pd.DataFrame, column: str, by: str = "policy", at: str = "step") -> pd.DataFrame:
    """Mean across seeds and its 95% confidence band (mean +- 1.96 standard errors), per ``by`` and ``at``."""
    g = df.groupby([by, at])[column]
    out = g.agg(["mean", "std", "count"]).reset_index()
    half = 1.96 * out["std"].fillna(0.0) / np.sqrt(out["count"])
    out["lo"], out["hi"] = out["mean"] - half, out["mean"] + half
    return out


def ordered(levels) -> list:
    """Policy presets in their usual order, other values sorted."""
    present = set(levels)
    return [p for p in POLICY_COLOURS if p in present] + sorted(present - set(POLICY_COLOURS), key=str)


def colour_of(level, k: int) -> str:
    return POLICY_COLOURS.get(level) or plt.get_cmap("viridis")(0.15 + 0.7 * (k % 6) / 5)


def save(fig, path: Path) -> list[Path]:
    """Save as PNG and PDF; return both paths."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for suffix in (".png", ".pdf"):
        out = path.with_suffix(suffix)
        fig.savefig(out, dpi=130)
        written.append(out)
    plt.close(fig)
    return written


def policy_timeseries(df: pd.DataFrame, path: Path, title: str = "", by: str = "policy") -> list[Path]:
    """Four panels of weekly outcomes, one line per value of ``by``, 95% bands across seeds; PNG and PDF."""
    df = df.sort_values([by, "seed", "step"]).copy()
    fig, axes = plt.subplots(2, 2, figsize=(11, 7), sharex=True, constrained_layout=True)
    n_seeds = df.groupby(by)["seed"].nunique().min()
    for ax, (col, label, transform) in zip(axes.flat, PANELS):
        data = df
        if transform is not None:
            data = df.assign(**{col: df.groupby([by, "seed"], group_keys=False)[col].apply(transform)})
        band = mean_band(data, col, by=by)
        for k, level in enumerate(ordered(band[by])):
            part = band[band[by] == level]
            years = part["step"] / 52.0
            colour = colour_of(level, k)
            ax.plot(years, part["mean"], label=str(level), color=colour, lw=1.6)
            ax.fill_between(years, part["lo"], part["hi"], color=colour, alpha=0.2, lw=0)
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.set_ylim(bottom=0)
    for ax in axes[-1]:
        ax.set_xlabel("years since start")
    # outside the panels: inside, it covered the early years of the curves
    fig.legend(*axes[0, 0].get_legend_handles_labels(), title=by, loc="outside right upper")
    fig.suptitle(title or f"Violence and fragmentation by {by} (mean and 95% band across {n_seeds} seeds)")
    note_few_seeds(fig, int(n_seeds))
    return save(fig, path)


def run_timeseries(ts: pd.DataFrame, path: Path, title: str) -> list[Path]:
    """The four panels of ``policy_timeseries`` for one run (no band: one seed has none); PNG and PDF."""
    fig, axes = plt.subplots(2, 2, figsize=(11, 7), sharex=True, constrained_layout=True)
    years = ts["step"] / 52.0
    for ax, (col, label, transform) in zip(axes.flat, PANELS):
        values = ts[col] if transform is None else transform(ts[col])
        ax.plot(years, values, color="#1f77b4", lw=1.6)
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.set_ylim(bottom=0)
    for ax in axes[-1]:
        ax.set_xlabel("years since start")
    fig.suptitle(title)
    return save(fig, path)


NO_GROUP = (0.85, 0.85, 0.85, 1.0)  # plazas no group holds: light grey


# Kelly's (1965) colours of maximum contrast, without white, black and the two greyish ones
KELLY = ["#F3C300", "#875692", "#F38400", "#A1CAF1", "#BE0032", "#008856", "#E68FAC", "#0067A5", "#F99379",
         "#604E97", "#F6A600", "#B3446C", "#DCD300", "#882D17", "#8DB600", "#654522", "#E25822", "#2B3D26"]


def group_colours(gids: np.ndarray) -> np.ndarray:
    """One RGBA colour per group id, fixed for the id (Kelly's 18, by id modulo 18; -1: light grey)."""
    gids = np.asarray(gids)
    palette = matplotlib.colors.to_rgba_array(KELLY)
    return np.where((gids >= 0)[..., None], palette[np.mod(gids, len(KELLY))], NO_GROUP)


def draw_territory(ax, graph: nx.Graph, controller: np.ndarray, violence: np.ndarray, groups: np.ndarray,
                   title: str, legend: int = 6) -> None:
    """Plazas at their coordinates, coloured by controlling group, sized by ``violence``.

    ``controller``: group id per node (-1: none, light grey); ``violence``: homicides per week per
    node (dot area grows with its square root, the largest dot being the largest value); ``groups``:
    groups present per node (2 or more: contested, drawn with a black ring). The legend names the
    ``legend`` groups holding the most plazas.
    """
    xy = np.array([[graph.nodes[i]["x"], graph.nodes[i]["y"]] for i in range(graph.number_of_nodes())])
    segments = [(xy[u], xy[v]) for u, v in graph.edges]
    size = 6 + 40 * np.sqrt(violence / max(violence.max(), 1e-9))
    if len(xy) <= 100:  # few large plazas (states): bigger dots
        size = 4 * size
    ax.add_collection(LineCollection(segments, colors="0.8", linewidths=0.3, zorder=1))
    ax.scatter(xy[:, 0], xy[:, 1], c=group_colours(controller), s=size, edgecolors="none", zorder=2)
    contested = groups >= 2
    ax.scatter(xy[contested, 0], xy[contested, 1], s=size[contested], facecolors="none", edgecolors="k",
               linewidths=0.6, zorder=3)
    gids, plazas = np.unique(controller[controller >= 0], return_counts=True)
    top = gids[np.argsort(-plazas, kind="stable")][:legend]
    if len(top):
        handles = [plt.Line2D([], [], ls="", marker="o", color=c) for c in group_colours(top)]
        held = plazas[np.searchsorted(gids, top)]
        labels = [f"group {g}: {n} plaza{'s' if n > 1 else ''}" for g, n in zip(top, held)]
        ax.legend(handles, labels, fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_aspect("equal", adjustable="datalim")
