"""The interactive page for students: Mesa's SolaraViz on the cartel model.

    make app        # = python -m solara run experiments.app, then open http://127.0.0.1:8765

Set the budget, the four pillar weights, the police targeting and the territory in the sidebar,
press **Reset** to build a model with them, then **Step** (one week) or **▶** (play). The page shows:

- the territory: plazas at their coordinates, coloured by the group that holds each one (light grey:
  none; black ring: two or more groups present), dot area growing with violence (homicides per week,
  exponentially smoothed over about 10 weeks);
- weekly homicides, and the number of active and effective groups, since the start;
- a button that has the leader of the largest group that has one captured during the next week
  (a timed ``remove_leader`` intervention added to the running model), as in notebook 03.

The pillar sliders are weights: the model gets them divided by their sum, so they need not add to 1.
Each browser session builds its own model (:func:`Page`).
"""

from __future__ import annotations

import solara
from matplotlib.figure import Figure
from mesa.visualization import Slider, SolaraViz
from mesa.visualization.utils import force_update, update_counter

from sim import CartelModel
from sim.exploration import LEVERS, PILLARS, to_keywords
from sim.params import POLICIES, TERRITORIES
from sim.policy import schedule_leader_removal

from .figures import draw_territory

MERIDA = POLICIES["merida"]
LEVER = {lever.name: lever for lever in LEVERS}  # the controls' ranges: sim.exploration.LEVERS
BUDGET, TARGETING = LEVER["policy__budget_musd"], LEVER["policy__targeting"]


class ClassroomModel(CartelModel):
    """The cartel model built from the page's controls: pillar weights instead of shares.

    ``disruption``, ``rule_of_law``, ``border`` and ``prevention`` are non-negative weights (the
    sliders); each pillar's share of the budget is its weight over their sum. With every weight at 0
    no pillar is funded: the budget is 0 (and the shares, then unused, equal). Everything else is
    passed on to :class:`~sim.CartelModel` unchanged (``policy__budget_musd``, ``territory``, ...).
    """

    def __init__(self, rng: int | None = None, disruption: float = 1.0, rule_of_law: float = 1.0,
                 border: float = 1.0, prevention: float = 1.0, **kwargs):
        weights = dict(disruption=disruption, rule_of_law=rule_of_law, border=border, prevention=prevention)
        kwargs.update(to_keywords({f"{p}_weight": w for p, w in weights.items()}))  # sim.exploration's rule
        super().__init__(rng=rng, **kwargs)
        self._advance = self.step  # Mesa's step: moves its clock, then runs CartelModel.step
        self.step = self._step_while_running

    def _step_while_running(self) -> None:
        """One week; nothing once the last week is done (the page may ask for several weeks a click)."""
        if self.running:
            self._advance()


def _weight(pillar: str) -> Slider:
    return Slider(f"{pillar.replace('_', ' ')} (weight)", round(100 * getattr(MERIDA.shares, pillar)), 0, 100, 1)


MODEL_PARAMS = {
    "rng": Slider("Seed", 1, 0, 99, 1),
    "territory": {"type": "Select", "value": "mexico_states", "values": [t for t in TERRITORIES if t != "files"],
                  "label": "Territory"},
    "policy__budget_musd": Slider("Budget (US$ M a year)", round(MERIDA.budget_musd), round(BUDGET.low),
                                  round(BUDGET.high), 10),
    **{pillar: _weight(pillar) for pillar in PILLARS},
    "policy__targeting": {"type": "Select", "value": MERIDA.targeting, "values": list(TARGETING.values),
                          "label": "Police target"},
    "steps": 520,  # weeks before the run stops (10 years)
}


def _axes(width: float = 6.0, height: float = 3.2) -> tuple[Figure, object]:
    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.subplots()


def territory_figure(model: CartelModel) -> Figure:
    """Plazas coloured by controlling group, dot area by smoothed homicides per week."""
    fig, ax = _axes(6.0, 3.7)
    controller = model.controllers()
    held = len(set(controller[controller >= 0].tolist()))
    draw_territory(ax, model.territory, controller, model.violence_recent, model.groups_at,
                   f"week {model.week}: {held} groups hold plazas")
    ax.set_xlabel(f"grey: no group; black ring: 2+ groups present (contested)\nlargest dot: "
                  f"{model.violence_recent.max():.1f} homicides/week (10-week smoothed)", fontsize=8)
    return fig


def _weekly(model: CartelModel, lines: dict[str, tuple[str, str]], ylabel: str, title: str) -> Figure:
    """Columns of the timeseries against the week, on a horizon of at least a year."""
    fig, ax = _axes()
    ts = model.timeseries()
    for column, (label, colour) in lines.items():
        ax.plot(ts["step"], ts[column], color=colour, lw=1.2, label=label, marker="o" if len(ts) == 1 else None)
    top = max((ts[c].max() for c in lines), default=0) if len(ts) else 0
    ax.legend(loc="upper left", fontsize=8)  # above the lines: the axis leaves a quarter of headroom
    ax.set(xlabel="week", ylabel=ylabel, title=title, xlim=(0, max(52, model.week)), ylim=(0, 1.3 * top or 1))
    ax.grid(alpha=0.3)
    return fig


def violence_figure(model: CartelModel) -> Figure:
    """Weekly homicides since the start, and the part of them that are cartel members."""
    lines = {"homicides": ("all homicides", "#d62728"), "homicides_members": ("cartel members killed", "#7f7f7f")}
    return _weekly(model, lines, "homicides per week (persons)", "Violence")


def groups_figure(model: CartelModel) -> Figure:
    """Active groups and effective groups (1 / Herfindahl of member shares) since the start."""
    lines = {"groups_active": ("active groups", "#1f77b4"), "effective_groups": ("effective groups", "#ff7f0e")}
    return _weekly(model, lines, "groups (count)", "Fragmentation")


FIGURES = (territory_figure, violence_figure, groups_figure)


def _component(draw):
    @solara.component
    def Plot(model: CartelModel):
        update_counter.get()  # redrawn after every step
        solara.FigureMatplotlib(draw(model), format="png")

    Plot.__doc__ = draw.__doc__
    return Plot


def removal_target(model: CartelModel) -> int | None:
    """The id of the largest group (by members) that has a leader now; None if no group has one."""
    led = [g for g in model.groups.values() if g.alive and g.leader is not None]
    return max(led, key=lambda g: g.members).gid if led else None


def removal_pending(model: CartelModel) -> bool:
    return any(iv.at_step > model.week for iv in model.p.interventions)


@solara.component
def LeaderRemoval(model: CartelModel):
    """A button that has the largest led group's leader captured next week; the run's settings and removals."""
    update_counter.get()
    target, pending = removal_target(model), removal_pending(model)

    def remove():
        schedule_leader_removal(model, target, "capture")
        force_update()

    with solara.Card("Kingpin strike"), solara.Column():
        solara.Button("Remove the largest group's leader", color="error", on_click=remove,
                      disabled=not model.running or target is None or pending)
        if pending:
            solara.Text(f"Scheduled for week {model.week + 1}: press Step or ▶.")
        elif target is None:
            solara.Text("No group has a leader to remove now.")
        fired = [e for e in model.events if e.get("fired")]
        for e in fired[-3:]:
            heir = "an accepted heir took over" if e["successor"] else "no accepted heir: a succession fight"
            solara.Text(f"Week {e['at_step']}: group {e['group']}'s leader captured ({len(e['plazas'])} plazas); "
                        f"{heir}.")
        if len(fired) > 3:
            solara.Text(f"({len(fired)} removals in all; the last 3 shown.)")
        if not model.running:
            solara.Text(f"The run has reached its last week ({model.p.steps}): press Reset for a new one.")
        pol = model.p.policy
        shares = ", ".join(f"{k.replace('_', ' ')} {100 * getattr(pol.shares, k):.0f}%" for k in PILLARS)
        spend = f"US$ {pol.budget_musd:.0f} M a year ({shares})" if pol.budget_musd > 0 else "no budget spent"
        solara.Text(f"This run: seed {model.p.seed}, {model.p.territory.name}, {spend}, police target "
                    f"{pol.targeting}. The sidebar's settings apply on Reset (a slider shows its value while "
                    "you drag it).")


def initial_values(params: dict) -> dict:
    """The value each control starts at (fixed entries as they are)."""
    return {k: v.value if isinstance(v, Slider) else v["value"] if isinstance(v, dict) else v
            for k, v in params.items()}


@solara.component
def Page():
    """The page; each browser session gets its own model."""
    model = solara.use_memo(lambda: ClassroomModel(**initial_values(MODEL_PARAMS)), [])
    SolaraViz(model, components=[*[(_component(draw), 0) for draw in FIGURES], (LeaderRemoval, 0)],
              model_params=MODEL_PARAMS, name="cartelsim: budgets, kingpins and fragmentation", play_interval=150)
