"""The interactive page (``make app``): its model wrapper, its figures, and the page in a real browser.

The browser test starts the page the way ``make app`` does, opens it in headless Chromium (Debian's
``chromium``, found or installed by ``scripts/browser.sh``; ``CARTELSIM_CHROMIUM`` names another binary;
skipped when none is found, except under ``CI=true``), clicks Step and
the leader-removal button, checks that the plots changed, and saves a screenshot to
``outputs/app/page.png``.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from experiments import app
from sim.params import ParamError

from .conftest import replay_page_settings, wait_until_serving

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOT = ROOT / "outputs" / "app" / "page.png"
APP_ENV = {"SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false", "SOLARA_KERNEL_CULL_TIMEOUT": "60s"}  # as make app
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def test_pillar_weights_become_shares_in_proportion():
    m = app.ClassroomModel(rng=3, territory="small", steps=4, disruption=60, rule_of_law=0, border=20, prevention=20)
    s = m.p.policy.shares
    assert (s.disruption, s.rule_of_law, s.border, s.prevention) == pytest.approx((0.6, 0.0, 0.2, 0.2))
    assert m.p.seed == 3


def test_page_defaults_build_the_merida_preset():
    m = app.ClassroomModel(**app.initial_values(app.MODEL_PARAMS))
    merida = app.POLICIES["merida"]
    assert m.p.policy.shares == merida.shares
    assert m.p.policy.budget_musd == merida.budget_musd and m.p.policy.targeting == merida.targeting
    assert m.p.territory.name == "mexico_states"


def test_no_pillar_weight_means_nothing_is_spent():
    m = app.ClassroomModel(rng=1, territory="small", steps=4, disruption=0, rule_of_law=0, border=0, prevention=0)
    assert m.p.policy.budget_musd == 0 and m.funded_units == 0
    assert m.run().equals(app.ClassroomModel(rng=1, territory="small", steps=4, policy__budget_musd=0).run())


def test_the_page_stops_at_the_last_week():
    m = app.ClassroomModel(rng=1, territory="small", steps=3)
    for _ in range(6):  # Render Interval > 1 asks for several weeks per click
        m.step()
    assert m.week == 3 and not m.running and len(m.timeseries()) == 3


def test_negative_weight_is_named():
    with pytest.raises(ParamError) as err:
        app.ClassroomModel(territory="small", steps=4, border=-5)
    assert err.value.key == "policy.shares"


def test_removal_button_captures_the_largest_led_group_next_week():
    m = app.ClassroomModel(rng=1, territory="mexico_states", steps=60)
    for _ in range(3):
        target = app.removal_target(m)
        led = [g for g in m.groups.values() if g.alive and g.leader is not None]
        assert m.groups[target].members == max(g.members for g in led)
        app.schedule_leader_removal(m, target, "capture")
        assert app.removal_pending(m)
        m.step()
        assert not app.removal_pending(m)
        assert m.events[-1]["fired"] and m.events[-1]["group"] == target and m.leaders_removed >= 1
        assert m.groups[target].leader is None or m.events[-1]["successor"]


def test_operation_button_sends_armed_forces_to_the_most_violent_state_and_replays():
    m = app.ClassroomModel(rng=3, territory="mexico_states", steps=40, policy__finance_share=0.2,
                           policy__military_share=0.5)
    for _ in range(4):
        m.step()
    where = app.operation_state(m)
    node = int(np.argmax(m.violence_recent))
    assert where == m.territory.nodes[node]["state"]
    before = m.military_units
    app.schedule(m, app.Operation(where=where, from_step=m.week + 1, to_step=m.week + app.OPERATION_WEEKS,
                                  units=app.OPERATION_UNITS, force="military"))
    m.step()
    assert m.military_units == before + app.OPERATION_UNITS and m.military_at[node] >= app.OPERATION_UNITS
    assert m.events[-1]["kind"] == "operation" and m.events[-1]["where"] == where
    while m.running:
        m.step()
    replay = replay_page_settings(m, "page_op")
    assert replay.p == m.p and replay.run().equals(m.timeseries())


def test_page_lines_follow_the_model():
    """The page's two line figures hold the weekly table's columns, week by week, with labelled axes."""
    from experiments import page_plots

    m = app.ClassroomModel(rng=2, territory="mexico_states", steps=30)
    views = page_plots.views_of(m)
    for _ in range(20):
        m.step()
    views.pngs(m)
    ts = m.timeseries()
    for view, columns in ((views.violence, ("homicides", "homicides_members")),
                          (views.groups, ("groups_active", "effective_groups"))):
        assert tuple(view.lines) == columns and view.ax.get_xlabel() == "week" and view.ax.get_ylabel()
        for column, line in view.lines.items():
            assert np.array_equal(line.get_xdata(), ts["step"].to_numpy())
            assert np.array_equal(line.get_ydata(), ts[column].to_numpy())
    assert views.groups.ax.get_ylabel() == "groups (count)"
    assert views.violence.ax.get_xlim()[1] >= 52 and views.violence.ax.get_ylim()[1] >= ts["homicides"].max()


def test_presets_fill_the_sliders_and_are_recognised():
    kingpin = app.POLICIES["kingpin"]
    values = {**app.initial_values(app.MODEL_PARAMS), **app.preset_controls("kingpin")}
    assert values["policy__budget_musd"] == round(kingpin.budget_musd)
    assert values["disruption"] == round(100 * kingpin.shares.disruption)
    assert app.matching_preset(values) == "kingpin"
    assert app.matching_preset(app.initial_values(app.MODEL_PARAMS)) == "merida"
    assert app.matching_preset({**values, "border": values["border"] + 1}) == "custom"
    m = app.ClassroomModel(rng=1, territory="small", steps=4, **app.preset_controls("prevention"))
    prevention = app.POLICIES["prevention"]
    assert m.p.policy.shares.prevention == pytest.approx(prevention.shares.prevention, abs=0.01)
    assert m.p.policy.targeting == prevention.targeting


def test_downloaded_settings_run_again_with_the_same_numbers():
    """The page's config file, saved in conf/experiment/, gives the page's run (a live removal included)."""
    m = app.ClassroomModel(rng=2, territory="small", steps=30, disruption=60, rule_of_law=0, border=20,
                           prevention=20, policy__targeting="operators", policy__budget_musd=300)
    for _ in range(3):
        m.step()
    app.schedule_leader_removal(m, app.removal_target(m), "capture")
    while m.running:
        m.step()
    replay = replay_page_settings(m, "page")
    assert replay.p == m.p and len(replay.p.interventions) == 1
    assert replay.run().equals(m.timeseries())
    csv = app.weekly_csv(m).splitlines()
    assert csv[0].startswith("step,homicides,") and len(csv) == 31


def test_state_map_has_the_32_states_from_the_shipped_outlines():
    from experiments import mexico_map

    shapes = mexico_map.states()
    assert len(shapes) == 32 and "Chihuahua" in {v["name"] for v in shapes.values()}
    m = app.ClassroomModel(rng=1, territory="mexico_states", steps=4)
    names = [m.territory.nodes[i]["name"] for i in range(32)]
    assert mexico_map.covers(names) and not mexico_map.covers(names[:-1])
    rings = mexico_map.rings_by_node(names)
    chih = names.index("Chihuahua")
    assert max(len(r) for r in rings[chih]) > 50  # a real outline, not a box
    licence = (ROOT / "experiments" / "data" / "SOURCES.md").read_text()
    assert "CC BY 4.0" in licence and "@svg-maps/mexico" in licence


@pytest.mark.parametrize("territory", ["mexico_states", "national"])
def test_page_views_follow_the_model_and_redraw_fast(territory):
    from experiments import page_plots

    m = app.ClassroomModel(rng=1, territory=territory, steps=40)
    views = page_plots.views_of(m)
    assert views.map.states == (territory == "mexico_states")
    first = views.pngs(m)
    assert all(p.startswith(b"\x89PNG") for p in first)
    seconds = []
    for _ in range(12):
        start = time.perf_counter()
        m.step()
        pngs = views.pngs(m)
        seconds.append(time.perf_counter() - start)
    assert all(a != b for a, b in zip(first, pngs))
    assert page_plots.views_of(m) is views  # built once per model
    median = float(np.median(seconds))
    print(f"{territory}: a week plus the three page figures, median {median:.3f} s")
    assert median < 0.5


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SERVER_LOG: dict[str, object] = {}  # the page server's terminal output, read by the tests


@pytest.fixture(scope="module")
def server():
    """The page served as ``make app`` serves it, on a free port; yields its address."""
    port = _free_port()
    log = tempfile.TemporaryFile()
    SERVER_LOG["file"] = log
    proc = subprocess.Popen([sys.executable, "-m", "solara", "run", "experiments.app", "--host", "127.0.0.1",
                             "--port", str(port), "--no-open", "--production"],
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **APP_ENV})
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_serving(proc, url, log, "the page's server")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


def _plots(page) -> list[bytes]:
    images = page.locator("img")
    return [images.nth(i).screenshot() for i in range(images.count())]


def test_page_in_a_real_browser(chromium, server):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:  # launch() starts Chromium on a new, empty profile
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(server)
            step = page.get_by_role("button", name="Step", exact=True)
            expect(step).to_be_enabled(timeout=60_000)
            expect(page.locator("img")).to_have_count(3, timeout=30_000)  # map, violence, fragmentation
            expect(page.get_by_text("Time: 0.0")).to_be_visible()
            before = _plots(page)

            sources = page.eval_on_selector_all("img", "els => els.map(e => e.src)")
            clicked = time.perf_counter()
            step.click()
            page.wait_for_function("old => [...document.images].every((e, i) => e.src !== old[i])", arg=sources,
                                   timeout=20_000)
            print(f"Step click to three redrawn plots in the browser: {time.perf_counter() - clicked:.2f} s")
            expect(page.get_by_text("Time: 1.0")).to_be_visible()
            after = _plots(page)
            assert len(after) == 3
            assert all(a != b for a, b in zip(after, before)), "a plot did not change after Step"

            page.get_by_role("button", name="Remove the largest group's leader").click()
            expect(page.get_by_text("Scheduled for week 2")).to_be_visible(timeout=20_000)
            step.click()
            expect(page.get_by_text("Time: 2.0")).to_be_visible(timeout=20_000)
            expect(page.get_by_text(re.compile(r"Week 2: group \d+'s leader captured"))).to_be_visible()

            other = browser.new_page()  # a second visitor gets a model of their own
            other.goto(server)
            expect(other.get_by_text("Time: 0.0")).to_be_visible(timeout=60_000)
            other.close()

            for _ in range(3):
                step.click()
            expect(page.get_by_text("Time: 5.0")).to_be_visible(timeout=20_000)
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=SCREENSHOT, full_page=True)

            page.get_by_role("button", name="Reset").click()  # rebuilds the model from the sidebar's controls
            expect(page.get_by_text("Time: 0.0")).to_be_visible(timeout=20_000)
            expect(page.get_by_text("Error")).to_have_count(0)
        finally:
            browser.close()
    assert SCREENSHOT.stat().st_size > 10_000


def test_mesa_reset_rebuilds_the_plain_model():
    """SolaraViz's Reset calls ``type(model)(**controls, scenario=<a Mesa Scenario>)``: the plain model takes it."""
    from mesa.visualization.solara_viz import _build_model_init_kwargs

    from sim import CartelModel

    model = CartelModel(rng=1, territory="small", steps=4)
    controls = {"rng": 4, "territory": "small", "policy": "kingpin", "steps": 4}
    kwargs = _build_model_init_kwargs(model, controls, add_scenario_when_empty=True,
                                      require_model_accepts_scenario=True)
    rebuilt = type(model)(**kwargs)
    assert (rebuilt.p.seed, rebuilt.p.policy.name) == (4, "kingpin")
    assert rebuilt.run().equals(CartelModel(rng=4, territory="small", policy="kingpin", steps=4).run())


def _choose(page, label: str, option: str) -> None:
    page.get_by_label(label).click(force=True)
    page.locator(".v-menu__content:visible .v-list-item").filter(has_text=option).first.click()


def test_page_preset_selector_download_and_national_step_in_a_browser(chromium, server):
    from playwright.sync_api import expect, sync_playwright

    kingpin = app.POLICIES["kingpin"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
            page.goto(server)
            step = page.get_by_role("button", name="Step", exact=True)
            expect(step).to_be_enabled(timeout=60_000)
            expect(page.get_by_text("Budget (US$ M a year): 230")).to_be_visible()  # values always shown
            expect(page.get_by_text("Page 0")).to_have_count(0)  # no tab bar
            expect(page.get_by_text(re.compile(r"^Week 0: \d+ groups hold states$"))).to_be_visible()

            _choose(page, "Policy (fills the sliders)", "kingpin")
            expect(page.get_by_text(f"Budget (US$ M a year): {round(kingpin.budget_musd)}")).to_be_visible()
            expect(page.get_by_text(f"disruption (weight): {round(100 * kingpin.shares.disruption)}")).to_be_visible()
            _choose(page, "Territory", "national")
            page.get_by_role("button", name="Reset", exact=True).click()
            expect(page.get_by_text(re.compile(r"^Week 0: \d+ groups hold plazas$"))).to_be_visible(timeout=30_000)
            expect(page.get_by_text(f"US$ {kingpin.budget_musd:.0f} M a year", exact=False)).to_be_visible()

            seconds = []
            for _ in range(4):
                sources = page.eval_on_selector_all("img", "els => els.map(e => e.src)")
                clicked = time.perf_counter()
                step.click()
                page.wait_for_function("old => [...document.images].every((e, i) => e.src !== old[i])",
                                       arg=sources, timeout=20_000)
                seconds.append(time.perf_counter() - clicked)
            print("national: Step click to three redrawn plots in the browser: "
                  + ", ".join(f"{s:.2f}" for s in seconds) + " s")
            expect(page.get_by_text("Time: 4.0")).to_be_visible()

            with page.expect_download() as csv_download:
                page.get_by_role("button", name="Weekly table (CSV)").click()
            rows = Path(csv_download.value.path()).read_text().splitlines()
            assert csv_download.value.suggested_filename == "page_national_seed1_week4.csv"
            assert rows[0].startswith("step,homicides,") and len(rows) == 5
            with page.expect_download() as yaml_download:
                page.get_by_role("button", name="Settings (config file)").click()
            text = Path(yaml_download.value.path()).read_text()
            assert "override /territory: national" in text and "experiment=page_national_seed1" in text
            assert f"budget_musd: {kingpin.budget_musd}" in text
        finally:
            browser.close()
    log = SERVER_LOG["file"]
    log.seek(0)
    terminal = log.read().decode(errors="replace")
    assert "Cookies with samesite" not in terminal and "Traceback" not in terminal, terminal[-2000:]
