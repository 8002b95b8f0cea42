"""Fast figures for the page: built once per model, then only their changing artists are redrawn.

A Step on the page used to build three matplotlib figures from scratch and lay them out again
(about 1 s on ``national``). Here each view keeps its figure: the map draws its static part (edges
or state outlines) once, keeps it as a bitmap, and per week paints only the plazas over it (blitting
on Agg); the two weekly charts update their lines and limits on a fixed layout. Each view returns
PNG bytes for ``solara.Image``; titles and legends are left to the page's HTML, which costs nothing.
"""

from __future__ import annotations

import io

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.figure import Figure
from matplotlib.path import Path as MplPath
from PIL import Image

from . import mexico_map
from .figures import KELLY, NO_GROUP, group_colours

DPI = 100


def _png(canvas: FigureCanvasAgg) -> bytes:
    """The canvas as a palette PNG (a third of the bytes of a full-colour one: quicker to the browser)."""
    out = io.BytesIO()
    image = Image.fromarray(np.asarray(canvas.buffer_rgba())).convert("RGB")
    image.quantize(colors=96, method=Image.Quantize.FASTOCTREE).save(out, format="png", compress_level=1)
    return out.getvalue()


def _compound(rings: list[np.ndarray]) -> MplPath:
    """One path of several closed rings (a state with islands), y flipped to point up."""
    verts, codes = [], []
    for ring in rings:
        pts = np.column_stack([ring[:, 0], -ring[:, 1]])
        verts += [*pts, pts[0]]
        codes += [MplPath.MOVETO] + [MplPath.LINETO] * (len(pts) - 1) + [MplPath.CLOSEPOLY]
    return MplPath(np.array(verts), codes)


class MapView:
    """The territory: on ``mexico_states`` the real state outlines filled with the holding group's colour
    (black outline: contested; dot: homicides per week, smoothed); elsewhere plazas as dots at their
    coordinates over the adjacency edges."""

    def __init__(self, model, width: float = 6.4, height: float = 4.2):
        graph = model.territory
        n = graph.number_of_nodes()
        names = [graph.nodes[i].get("name", str(i)) for i in range(n)]
        self.states = mexico_map.covers(names)
        self.fig = Figure(figsize=(width, height), dpi=DPI)
        self.canvas = FigureCanvasAgg(self.fig)
        ax = self.ax = self.fig.add_axes((0.01, 0.04, 0.98, 0.95))
        ax.set_axis_off()
        if self.states:
            rings = mexico_map.rings_by_node(names)
            paths = [_compound(r) for r in rings]
            self.xy = np.array([mexico_map.states()[self._svg_id(nm)]["centre"] * (1, -1) for nm in names])
            self.shapes = PathCollection(paths, facecolors=[NO_GROUP] * n, edgecolors="white", linewidths=0.6,
                                         animated=True)
            ax.add_collection(self.shapes)
            all_pts = np.vstack([p.vertices for p in paths])
            ax.set_xlim(all_pts[:, 0].min() - 5, all_pts[:, 0].max() + 5)
            ax.set_ylim(all_pts[:, 1].min() - 5, all_pts[:, 1].max() + 5)
            for nm, (x, y) in zip(names, self.xy):
                ax.text(x, y - 9, self._svg_id(nm).upper(), fontsize=5.5, ha="center", va="top", color="0.25",
                        animated=True)
            self.fig.text(0.99, 0.005, mexico_map.ATTRIBUTION, fontsize=6, color="0.45", ha="right", va="bottom")
        else:
            self.shapes = None
            self.xy = np.array([[graph.nodes[i]["x"], graph.nodes[i]["y"]] for i in range(n)])
            segments = [(self.xy[u], self.xy[v]) for u, v in graph.edges]
            ax.add_collection(LineCollection(segments, colors="0.82", linewidths=0.3))
            pad = 0.03 * np.ptp(self.xy, axis=0)
            ax.set_xlim(self.xy[:, 0].min() - pad[0], self.xy[:, 0].max() + pad[0])
            ax.set_ylim(self.xy[:, 1].min() - pad[1], self.xy[:, 1].max() + pad[1])
        ax.set_aspect("equal", adjustable="box")
        self.dots = ax.scatter(self.xy[:, 0], self.xy[:, 1], s=1, animated=True, zorder=3)
        self.rings = ax.scatter(self.xy[:, 0], self.xy[:, 1], s=1, facecolors="none", edgecolors="k",
                                linewidths=0.6, animated=True, zorder=4)
        self.labels = [t for t in ax.texts if t.get_animated()]
        self.canvas.draw()  # the static part once (animated artists are left out)
        self.background = self.canvas.copy_from_bbox(self.fig.bbox)

    @staticmethod
    def _svg_id(name: str) -> str:
        target = mexico_map.NAME_ALIAS.get(name, name)
        return next(k for k, v in mexico_map.states().items() if v["name"] == target)

    def png(self, model) -> bytes:
        controller = model.controllers()
        violence = np.asarray(model.violence_recent, float)
        contested = np.asarray(model.groups_at) >= 2
        colours = group_colours(controller)
        scale = max(violence.max(), 1e-9)
        self.canvas.restore_region(self.background)
        if self.shapes is not None:
            self.shapes.set_facecolors(colours)
            self.shapes.set_edgecolors(np.where(contested[:, None], (0, 0, 0, 1), (1, 1, 1, 1)))
            self.shapes.set_linewidths(np.where(contested, 1.4, 0.6))
            self.ax.draw_artist(self.shapes)
            for label in self.labels:
                self.ax.draw_artist(label)
            self.dots.set_sizes(4 + 160 * np.sqrt(violence / scale))
            self.dots.set_facecolors((0.15, 0.15, 0.15, 0.55))
            self.dots.set_edgecolors("none")
            self.ax.draw_artist(self.dots)
        else:
            sizes = 6 + 40 * np.sqrt(violence / scale)
            self.dots.set_sizes(sizes)
            self.dots.set_facecolors(colours)
            self.dots.set_edgecolors("none")
            self.ax.draw_artist(self.dots)
            self.rings.set_offsets(self.xy[contested])
            self.rings.set_sizes(sizes[contested])
            self.ax.draw_artist(self.rings)
        return _png(self.canvas)


def legend(model, top: int = 6) -> list[tuple[str, str]]:
    """(colour as #rrggbb, label) for the ``top`` groups holding the most plazas."""
    controller = model.controllers()
    gids, plazas = np.unique(controller[controller >= 0], return_counts=True)
    order = np.argsort(-plazas, kind="stable")[:top]
    return [(KELLY[int(gids[k]) % len(KELLY)],
             f"group {int(gids[k])}: {int(plazas[k])} plaza{'s' if plazas[k] > 1 else ''}") for k in order]


class LinesView:
    """Columns of the weekly table against the week, on a fixed layout; lines and limits updated per week."""

    def __init__(self, lines: dict[str, tuple[str, str]], ylabel: str, title: str, width: float = 5.2,
                 height: float = 2.9):
        self.fig = Figure(figsize=(width, height), dpi=DPI)
        self.canvas = FigureCanvasAgg(self.fig)
        self.ax = self.fig.add_axes((0.14, 0.17, 0.83, 0.72))
        self.lines = {c: self.ax.plot([], [], color=colour, lw=1.2, label=label)[0]
                      for c, (label, colour) in lines.items()}
        self.ax.legend(loc="upper left", fontsize=8)
        self.ax.set(xlabel="week", ylabel=ylabel, title=title)
        self.ax.grid(alpha=0.3)

    def png(self, model) -> bytes:
        ts = model.timeseries()
        top = 0.0
        for column, line in self.lines.items():
            line.set_data(ts["step"].to_numpy(), ts[column].to_numpy())
            line.set_marker("o" if len(ts) == 1 else "None")
            top = max(top, float(ts[column].max()) if len(ts) else 0.0)
        self.ax.set_xlim(0, max(52, model.week))
        self.ax.set_ylim(0, 1.3 * top or 1)
        self.canvas.draw()
        return _png(self.canvas)


def violence_view() -> LinesView:
    return LinesView({"homicides": ("all homicides", "#d62728"),
                      "homicides_members": ("cartel members killed", "#7f7f7f")},
                     "homicides per week", "Violence")


def groups_view() -> LinesView:
    return LinesView({"groups_active": ("active groups", "#1f77b4"),
                      "effective_groups": ("effective groups", "#ff7f0e")}, "groups (count)", "Fragmentation")


class PageViews:
    """The three views of one model, built on first use."""

    def __init__(self, model):
        self.map = MapView(model)
        self.violence = violence_view()
        self.groups = groups_view()

    def pngs(self, model) -> list[bytes]:
        return [self.map.png(model), self.violence.png(model), self.groups.png(model)]


def views_of(model) -> PageViews:
    """The views attached to ``model`` (one set per model: a Reset builds a new model, hence new views)."""
    views = getattr(model, "_page_views", None)
    if views is None:
        views = model._page_views = PageViews(model)
    return views
