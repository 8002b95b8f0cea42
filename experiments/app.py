"""The interactive page for students: Mesa's SolaraViz pieces on the cartel model.

    make app        # = python -m solara run experiments.app, then open http://127.0.0.1:8765

Pick a **preset** (none, kingpin, merida, prevention) to fill the sliders, or set the seed, the
territory, the budget, the four pillar weights and the police targeting by hand (every slider shows
its value), press **Reset** to build a model with them, then **Step** (one week) or **▶** (play).
Mesa's ``ModelController`` runs the model (Reset, ▶, Step) and ``ShowSteps`` prints the week. The
page shows:

- the territory: on ``mexico_states`` the 32 states (outlines from ``@svg-maps/mexico``, CC BY 4.0,
  shipped in ``experiments/data/``) filled with the colour of the group that holds each one (light
  grey: none; black outline: two or more groups present), a dot growing with homicides per week
  (exponentially smoothed over ``police.violence_memory_weeks``, 10); elsewhere plazas as dots at their coordinates;
- weekly homicides, and the number of active and effective groups, since the start;
- a button that has the leader of the largest group that has one captured during the next week
  (a timed ``remove_leader`` intervention added to the running model), as in notebook 03;
- downloads of the run: its weekly table as CSV, and its settings as a config file that
  ``python -m experiments.run experiment=<name>`` runs again (same numbers).

The pillar sliders are weights: the model gets them divided by their sum, so they need not add to 1.
Each browser session builds its own model (:func:`Page`). The page's figures are drawn by
``experiments.page_plots`` (built once per model, only the changing parts redrawn each week); the
matplotlib figures below (``FIGURES``) draw the same views from scratch, for scripts and tests.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import warnings

import numpy as np
import solara
import yaml
from mesa.visualization import Slider
from mesa.visualization.solara_viz import ModelController, ShowSteps
from mesa.visualization.utils import force_update, update_counter

from sim import CartelModel
from sim.exploration import LEVERS, PILLARS, to_keywords
from sim.params import POLICIES, TERRITORIES
from sim.interventions import Operation, RemoveLeader, schedule, schedule_leader_removal

from . import page_plots

# Solara warns on every page load served on 127.0.0.1 over http that it cannot set a samesite=none
# cookie (needed only when the page is embedded in another site's iframe) and falls back to lax, which
# is right for this local page: keep the terminal quiet.
warnings.filterwarnings("ignore", message="Cookies with samesite=none require https", category=UserWarning)
MERIDA = POLICIES["merida"]
LEVER = {lever.name: lever for lever in LEVERS}  # the controls' ranges: sim.exploration.LEVERS
BUDGET, TARGETING = LEVER["policy__budget_musd"], LEVER["policy__targeting"]


class ClassroomModel(CartelModel):
    """The cartel model built from the page's controls: pillar weights instead of shares.

    One keyword per budget pillar (:data:`sim.pillars.PILLARS`: ``disruption``, ``rule_of_law``,
    ``border``, ``prevention``; default 1) is a non-negative weight (the sliders); each pillar's share of the budget is its weight over their sum. With every weight at 0
    no pillar is funded: the budget is 0 (and the shares, then unused, equal). Everything else is
    passed on to :class:`~sim.CartelModel` unchanged (``policy__budget_musd``, ``territory``, ...).
    """

    def __init__(self, rng: int | None = None, **kwargs):
        weights = {pillar: kwargs.pop(pillar, 1.0) for pillar in PILLARS}
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
    "policy__finance_share": Slider("Financial intelligence (share of pillar 1)", MERIDA.finance_share, 0.0, 1.0, 0.05),
    "policy__military_share": Slider("Armed forces (share of funded units)", MERIDA.military_share, 0.0, 1.0, 0.05),
    "scenario__cocaine_supply": Slider("Cocaine supply (index, 1 = baseline)", 1.0, 0.0, 10.0, 0.1),
    "steps": 520,  # weeks before the run stops (10 years)
}


def removal_target(model: CartelModel) -> int | None:
    """The id of the largest group (by members) that has a leader now; None if no group has one."""
    led = [g for g in model.groups.values() if g.alive and g.leader is not None]
    return max(led, key=lambda g: g.members).gid if led else None


def removal_pending(model: CartelModel) -> bool:
    return any(iv.at_step > model.week for iv in model.p.interventions if isinstance(iv, RemoveLeader))


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
        fired = [e for e in model.events if e.get("fired") and e["kind"] == "remove_leader"]
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
                    f"{pol.targeting}. The sidebar's settings apply on Reset.")


OPERATION_UNITS, OPERATION_WEEKS = 50, 26  # the page's joint operation: 50 armed-forces units for half a year


def operation_state(model: CartelModel) -> str | None:
    """The state with the most homicides lately (smoothed over ``police.violence_memory_weeks``): where the
    page's operation goes."""
    if model.violence_recent.max() <= 0:
        return None
    return model.territory.nodes[int(np.argmax(model.violence_recent))]["state"]


@solara.component
def JointOperation(model: CartelModel):
    """A button that sends armed-forces units to the most violent state for half a year, from next week."""
    update_counter.get()
    where = operation_state(model)
    weeks_left = model.p.steps - model.week

    def send():
        last = model.week + min(OPERATION_WEEKS, weeks_left)
        schedule(model, Operation(where=where, from_step=model.week + 1, to_step=last, units=OPERATION_UNITS,
                                  force="military"))
        force_update()

    with solara.Card("Joint operation"), solara.Column():
        solara.Button(f"Send {OPERATION_UNITS} armed-forces units to {where or 'the most violent state'}",
                      on_click=send, disabled=not model.running or where is None or weeks_left < 1)
        for e in [e for e in model.events if e["kind"] == "operation"][-3:]:
            solara.Text(f"Weeks {e['at_step']}-{e['to_step']}: {e['units']} {e['force']} units in {e['where']}.")
        solara.Text(f"Armed-forces units deployed this week: {model.military_units}.")


# --------------------------------------------------------------------------------------------------
# Presets and the sidebar's settings
PRESET_NAMES = ("none", "kingpin", "merida", "prevention")
CUSTOM = "custom"


def preset_controls(name: str) -> dict:
    """The slider values of a policy preset: its budget, its shares as weights out of 100, its targeting."""
    pol = POLICIES[name]
    return {"policy__budget_musd": round(pol.budget_musd),
            **{pillar: round(100 * getattr(pol.shares, pillar)) for pillar in PILLARS},
            "policy__targeting": pol.targeting, "policy__finance_share": pol.finance_share,
            "policy__military_share": pol.military_share}


def matching_preset(values: dict) -> str:
    """The preset whose slider values these are, or ``custom``."""
    for name in PRESET_NAMES:
        if all(values.get(k) == v for k, v in preset_controls(name).items()):
            return name
    return CUSTOM


def shares_text(values: dict) -> str:
    total = sum(values[p] for p in PILLARS)
    if total == 0:
        return "All weights 0: nothing is spent."
    return "Shares of the budget: " + ", ".join(f"{p.replace('_', ' ')} {100 * values[p] / total:.0f}%"
                                                for p in PILLARS)


# --------------------------------------------------------------------------------------------------
# Downloads: the weekly table, and the settings as a config file experiments.run accepts
def weekly_csv(model: CartelModel) -> str:
    return model.timeseries().to_csv(index=False)


def settings_name(model: CartelModel) -> str:
    return f"page_{model.p.territory.name}_seed{model.p.seed}"


def settings_yaml(model: CartelModel) -> str:
    """An experiment file (``conf/experiment/NAME.yaml``) that runs this page's model again, removals included.

    ``python -m experiments.run experiment=NAME`` then gives the same weekly numbers as the page.
    """
    p = model.p
    name = settings_name(model)
    config = {
        "defaults": [{"override /territory": p.territory.name}, {"override /scenario": p.scenario.name}],
        "seed": int(p.seed), "steps": int(p.steps),
        "policy": dataclasses.asdict(p.policy),
        "scenario": {"cocaine_supply": float(p.scenario.cocaine_supply)},  # the page's scenario slider
        "interventions": [dataclasses.asdict(iv) for iv in p.interventions],
    }
    if p.policy.name in POLICIES:
        config["defaults"].insert(1, {"override /policy": p.policy.name})
    header = (f"# @package _global_\n"
              f"# Settings of a run on the cartelsim page (make app), saved at week {model.week} "
              f"on {dt.date.today().isoformat()}.\n"
              f"# Save this file as conf/experiment/{name}.yaml, then run it again (same numbers) with\n"
              f"#   python -m experiments.run experiment={name}\n")
    return header + yaml.safe_dump(config, sort_keys=False, default_flow_style=None, allow_unicode=True)


# --------------------------------------------------------------------------------------------------
def _label(label: str, value) -> str:
    return f"{label}: {value}"


@solara.component
def Settings(controls: solara.Reactive[dict]):
    """Preset selector, then every setting with its value always shown; they apply on Reset."""
    values = controls.value

    def set_value(key, value):
        controls.set({**controls.value, key: value})

    def choose(name):
        if name in POLICIES:
            controls.set({**controls.value, **preset_controls(name)})

    with solara.Card("Settings (apply on Reset)"):
        solara.Select("Policy (fills the sliders)", values=[*PRESET_NAMES, CUSTOM], value=matching_preset(values),
                      on_value=choose)
        for key, spec in MODEL_PARAMS.items():
            if isinstance(spec, Slider):
                slider = solara.SliderFloat if spec.is_float_slider else solara.SliderInt
                slider(_label(spec.label, values[key]), value=values[key], min=spec.min, max=spec.max,
                       step=spec.step, on_value=lambda v, k=key: set_value(k, v))
            elif isinstance(spec, dict):
                solara.Select(spec["label"], values=spec["values"], value=values[key],
                              on_value=lambda v, k=key: set_value(k, v))
        solara.Text(shares_text(values), style={"font-size": "0.85em"})


@solara.component
def RunControls(model: solara.Reactive[CartelModel], controls: solara.Reactive[dict]):
    """Mesa's ModelController (Reset, ▶, Step), the play and render intervals, and the week."""
    play_interval = solara.use_reactive(150)
    render_interval = solara.use_reactive(1)
    use_threads = solara.use_reactive(False)
    with solara.Card("Run"):
        ModelController(model, model_parameters=controls, play_interval=play_interval,
                        render_interval=render_interval, use_threads=use_threads)
        solara.SliderInt(_label("Play interval (ms between weeks)", play_interval.value), value=play_interval,
                         min=10, max=500, step=10)
        solara.SliderInt(_label("Render interval (weeks per redraw)", render_interval.value), value=render_interval,
                         min=1, max=52, step=1)
        ShowSteps(model.value)


@solara.component
def MapPanel(model: CartelModel):
    """The territory, its title and legend (HTML), redrawn after every step."""
    update_counter.get()
    views = page_plots.views_of(model)
    controller = model.controllers()
    held = len(set(controller[controller >= 0].tolist()))
    chips = " ".join(f'<span style="color:{c}">&#9679;</span>&nbsp;{label}' for c, label in page_plots.legend(model))
    kind = "states" if views.map.states else "plazas"
    with solara.Card(f"Week {model.week}: {held} groups hold {kind}", style={"min-width": "420px"}):
        solara.Image(views.map.png(model), width="100%")
        solara.HTML(tag="div", unsafe_innerHTML=(
            f'<div style="font-size:0.85em">{chips}<br>grey: no group; black outline/ring: 2+ groups present '
            f'(contested); dot: homicides a week ({model.p.police.violence_memory_weeks:g}-week smoothed, '
            f'largest {model.violence_recent.max():.1f})</div>'))


@solara.component
def Charts(model: CartelModel):
    """Weekly violence and fragmentation since the start."""
    update_counter.get()
    views = page_plots.views_of(model)
    with solara.Card("Violence and fragmentation"):
        solara.Image(views.violence.png(model), width="100%")
        solara.Image(views.groups.png(model), width="100%")


@solara.component
def Downloads(model: CartelModel):
    """The run's weekly table (CSV) and its settings as a config file experiments.run accepts."""
    update_counter.get()
    name = settings_name(model)
    with solara.Card("Download this run"):
        with solara.Column():
            solara.FileDownload(lambda: weekly_csv(model), filename=f"{name}_week{model.week}.csv",
                                label="Weekly table (CSV)", mime_type="text/csv")
            solara.FileDownload(lambda: settings_yaml(model), filename=f"{name}.yaml",
                                label="Settings (config file)", mime_type="text/yaml")
        solara.Text(f"Save the config file in conf/experiment/ and run it again with "
                    f"python -m experiments.run experiment={name}", style={"font-size": "0.85em"})


def initial_values(params: dict) -> dict:
    """The value each control starts at (fixed entries as they are)."""
    return {k: v.value if isinstance(v, Slider) else v["value"] if isinstance(v, dict) else v
            for k, v in params.items()}


@solara.component
def Page():
    """The page; each browser session gets its own model and settings."""
    model = solara.use_reactive(solara.use_memo(lambda: ClassroomModel(**initial_values(MODEL_PARAMS)), []))
    controls = solara.use_reactive(initial_values(MODEL_PARAMS))
    solara.Title("cartelsim")
    with solara.AppBar():
        solara.AppBarTitle("cartelsim: budgets, kingpins and fragmentation")
    with solara.Sidebar(), solara.Column():
        RunControls(model, controls)
        Settings(controls)
    with solara.ColumnsResponsive(default=[12], large=[7, 5]):
        with solara.Column():
            MapPanel(model.value)
            LeaderRemoval(model.value)
            JointOperation(model.value)
        with solara.Column():
            Charts(model.value)
            Downloads(model.value)
