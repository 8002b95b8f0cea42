"""Shared fixtures: small, fast models."""

from __future__ import annotations

import logging
import os
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from hypothesis import settings

from sim import CartelModel

logging.getLogger("MESA").setLevel(logging.WARNING)

# Under CI the property tests draw a fixed sequence of examples (a red CI then means a change broke
# something, not that a new random draw met an older bug); elsewhere each run explores new examples, and a
# failing one is added to the test as an @example once fixed.
ON_CI = os.environ.get("CI", "").lower() not in ("", "0", "false")
settings.register_profile("ci", derandomize=True)
if ON_CI:
    settings.load_profile("ci")


def make(**kwargs) -> CartelModel:
    """A model on the small synthetic territory unless told otherwise."""
    kwargs.setdefault("territory", "small")
    kwargs.setdefault("rng", 1)
    return CartelModel(**kwargs)


def replay_page_settings(m: CartelModel, tag: str) -> CartelModel:
    """The page's "settings as YAML" of ``m`` saved as a named experiment and built again through Hydra
    (the experiment file is removed afterwards); the caller compares the replay with ``m``."""
    from experiments import app, build

    path = Path(__file__).resolve().parents[1] / "conf" / "experiment" / f"_test_{tag}_{os.getpid()}.yaml"
    path.write_text(app.settings_yaml(m))
    try:
        return build([f"experiment={path.stem}"])
    finally:
        path.unlink()


@pytest.fixture
def small_model() -> CartelModel:
    return make(policy="kingpin", steps=104)


BROWSER_SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "browser.sh"


def find_chromium() -> tuple[str, str, bool]:
    """(path or "", the script's last message, fail) from scripts/browser.sh, the one place that looks."""
    proc = subprocess.run(["sh", str(BROWSER_SCRIPT), "--no-install"], capture_output=True, text=True, timeout=60)
    message = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "no Chromium found"
    return proc.stdout.strip(), message, proc.returncode != 0


def pytest_collection_modifyitems(config, items):
    """No browser (and not CI): every browser test is marked skipped with the script's one line, which
    pytest's summary then shows once per file."""
    browser_tests = [item for item in items if "chromium" in getattr(item, "fixturenames", ())]
    if not browser_tests:
        return
    path, message, fail = find_chromium()
    if not path and not fail:
        for item in browser_tests:
            item.add_marker(pytest.mark.skip(reason=message))


@pytest.fixture(scope="session")
def chromium() -> str:
    """The Chromium binary for browser tests (``make test`` runs scripts/browser.sh first, which installs
    Debian's chromium when it may). None found: skipped (above), or a failure under ``CI=true``."""
    path, message, fail = find_chromium()
    if fail or not path:
        pytest.fail(message)
    return path


def wait_until_serving(proc: subprocess.Popen, url: str, log, what: str, seconds: float = 90) -> None:
    """Poll ``url`` until it answers; fail with the server's log if ``proc`` dies or time runs out."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"{what} did not start:\n{log.read().decode()[-3000:]}")
            time.sleep(0.5)
