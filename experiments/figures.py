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


# The same 18 in the order ``ranked_colours`` hands them out: the first ten (yellow, purple, orange, light
# blue, red, green, blue, brown, pink, lime) are far apart; the look-alikes of earlier ones (a second
# orange, yellow, violet, salmon...) come last, so a figure needs more than ten listed groups to use them.
RANKED = ["#F3C300", "#875692", "#F38400", "#A1CAF1", "#BE0032", "#008856", "#0067A5", "#654522", "#E68FAC",
          "#8DB600", "#604E97", "#F99379", "#882D17", "#DCD300", "#B3446C", "#F6A600", "#E25822", "#2B3D26"]


def group_colours(gids: np.ndarray) -> np.ndarray:
    """One RGBA colour per group id, fixed for the id (Kelly's 18, by id modulo 18; -1: light grey)."""
    gids = np.asarray(gids)
    palette = matplotlib.colors.to_rgba_array(KELLY)
    return np.where((gids >= 0)[..., None], palette[np.mod(gids, len(KELLY))], NO_GROUP)


OTHER_GROUPS = (0.45, 0.45, 0.45, 1.0)  # groups a map's legend does not list: mid grey


def groups_by_plazas(controller: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group ids holding plazas and their plaza counts, most plazas first (ties: lower id first)."""
    controller = np.asarray(controller)
    gids, plazas = np.unique(controller[controller >= 0], return_counts=True)
    order = np.argsort(-plazas, kind="stable")
    return gids[order], plazas[order]


def ranked_colours(controllers: list[np.ndarray], legend: int = 6) -> dict[int, tuple]:
    """One colour per group that some map's legend lists, shared by all the maps of a figure.

    The groups among the ``legend`` largest of any of ``controllers`` (one controller array per map)
    are ranked by plazas held summed over the maps and take Kelly's colours in that order (``RANKED``), so
    that up to 18 of them never share a colour (beyond 18 the colours repeat; the legend then says so). Other
    groups get no entry (``draw_territory`` draws them grey). Unlike ``group_colours`` (fixed per
    id, modulo 18, for the live page) two listed groups cannot look alike.
    """
    listed = {int(g) for c in controllers for g in groups_by_plazas(c)[0][:legend]}
    total = {g: sum(int(np.sum(np.asarray(c) == g)) for c in controllers) for g in listed}
    ranked = sorted(listed, key=lambda g: (-total[g], g))
    palette = matplotlib.colors.to_rgba_array(RANKED)
    return {g: tuple(palette[k % len(RANKED)]) for k, g in enumerate(ranked)}


def dot_sizes(violence: np.ndarray, scale: float, nodes: int) -> np.ndarray:
    """Dot areas (points^2) for homicides per week: area grows with sqrt(violence / scale)."""
    violence = np.clip(np.asarray(violence, float), 0, None)
    size = 6 + 40 * np.sqrt(violence / max(float(scale), 1e-9))
    return 4 * size if nodes <= 100 else size  # few large plazas (states): bigger dots


def _nice_floor(x: float) -> float:
    """The largest of 1, 2, 5 times a power of ten not above ``x`` (x > 0)."""
    power = 10.0 ** np.floor(np.log10(x))
    return max(m * power for m in (1, 2, 5) if m * power <= x * (1 + 1e-12))


def size_key_values(scale: float) -> list[float]:
    """Two or three homicides-per-week values for a size key: 0, a round value near a quarter, the largest."""
    if scale <= 0:
        return [0.0]
    values = [0.0, float(scale)]
    if scale >= 4:
        values.insert(1, _nice_floor(scale / 4))
    return values


def size_key(fig, scale: float, nodes: int, **where):
    """A figure legend for ``draw_territory``'s dots: reference sizes in homicides per week, the ring, the greys."""
    handles, labels = [], []
    for v in size_key_values(scale):
        handles.append(plt.Line2D([], [], ls="", marker="o", color="0.35",
                                  markersize=float(np.sqrt(dot_sizes(np.array([v]), scale, nodes)[0]))))
        labels.append(f"{v:,.0f} homicide{'' if v == 1 else 's'}/week" + (" (largest)" if v == scale and v > 0 else ""))
    handles += [plt.Line2D([], [], ls="", marker="o", mfc="none", mec="k", markersize=7),
                plt.Line2D([], [], ls="", marker="o", color=NO_GROUP, markersize=7),
                plt.Line2D([], [], ls="", marker="o", color=OTHER_GROUPS, markersize=7)]
    labels += ["contested (2+ groups)", "no group", "group not in the legend"]
    where = {"loc": "outside lower center", "ncols": len(handles), **where}
    key = fig.legend(handles, labels, fontsize=8, frameon=False,
                     title="dot area: homicides in the plaza that week, one scale for every map", title_fontsize=8,
                     **where)
    key.set_gid("size-key")
    return key


def draw_territory(ax, graph: nx.Graph, controller: np.ndarray, violence: np.ndarray, groups: np.ndarray,
                   title: str, legend: int = 6, scale: float | None = None,
                   colours: dict[int, tuple] | None = None) -> None:
    """Plazas at their coordinates, coloured by controlling group, sized by ``violence``.

    ``controller``: group id per node (-1: none, light grey); ``violence``: homicides per week per
    node (dot area grows with its square root); ``scale``: the value drawn as the largest dot (default:
    the largest of ``violence``; pass the largest over all the maps of a figure so their sizes compare);
    ``groups``: groups present per node (2 or more: contested, drawn with a black ring). The legend
    names the ``legend`` groups holding the most plazas, says how many groups there are, and draws
    the others mid grey; ``colours`` (from ``ranked_colours`` over all the maps of a figure, so a
    group keeps its colour across them) defaults to ``ranked_colours([controller], legend)``.
    """
    controller = np.asarray(controller)
    xy = np.array([[graph.nodes[i]["x"], graph.nodes[i]["y"]] for i in range(graph.number_of_nodes())])
    segments = [(xy[u], xy[v]) for u, v in graph.edges]
    size = dot_sizes(violence, np.max(violence, initial=0) if scale is None else scale, len(xy))
    if colours is None:
        colours = ranked_colours([controller], legend)
    ranked, plazas = groups_by_plazas(controller)
    keep = np.array([int(g) in colours for g in ranked], bool)
    top, held = ranked[keep][:legend], plazas[keep][:legend]
    shown = {int(g): colours[int(g)] for g in top}
    face = np.array([NO_GROUP if g < 0 else shown.get(int(g), OTHER_GROUPS) for g in controller.tolist()])
    ax.add_collection(LineCollection(segments, colors="0.8", linewidths=0.3, zorder=1))
    ax.scatter(xy[:, 0], xy[:, 1], c=face.reshape(-1, 4), s=size, edgecolors="none", zorder=2)
    contested = groups >= 2
    ax.scatter(xy[contested, 0], xy[contested, 1], s=size[contested], facecolors="none", edgecolors="k",
               linewidths=0.6, zorder=3)
    if len(top):
        handles = [plt.Line2D([], [], ls="", marker="o", color=shown[int(g)]) for g in top]
        labels = [f"group {g}: {n} plaza{'s' if n > 1 else ''}" for g, n in zip(top, held)]
        hidden = len(ranked) - len(top)
        if hidden:
            handles.append(plt.Line2D([], [], ls="", marker="o", color=OTHER_GROUPS))
            rest = int(plazas.sum() - held.sum())
            labels.append(f"{hidden} other group{'s' if hidden > 1 else ''}: {rest} plaza{'s' if rest > 1 else ''}")
        head = f"{len(top)} largest of {len(ranked)} groups" if hidden else f"all {len(ranked)} groups"
        if len(set(shown.values())) < len(shown):
            head += f"\n(colours repeat every {len(RANKED)} groups)"
        ax.legend(handles, labels, fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False,
                  title=head, title_fontsize=7)
    ax.set_title(title)
    ax.set_aspect("equal", adjustable="datalim")
    if _looks_geographic(xy):
        ax.set_xlabel("longitude (degrees)", fontsize=8)
        ax.set_ylabel("latitude (degrees)", fontsize=8)
        ax.tick_params(labelsize=7)
    else:
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("position on the territory's own map (x, y: no units)", fontsize=8)


def _looks_geographic(xy: np.ndarray) -> bool:
    """Longitudes and latitudes (as ``mexico_states``), not the stylised unit square of ``small``/``national``."""
    return bool(len(xy)) and np.abs(xy).max() > 2 and (np.abs(xy[:, 0]) <= 180).all() and (np.abs(xy[:, 1]) <= 90).all()
