"""Every teaching notebook (jupytext percent source in notebooks/) converts and executes."""

from __future__ import annotations

from pathlib import Path

import jupytext
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found in notebooks/"


@pytest.mark.parametrize("source", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(source, tmp_path):
    notebook = jupytext.read(source)
    NotebookClient(notebook, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(source.parent)}}).execute()
    jupytext.write(notebook, tmp_path / (source.stem + ".ipynb"))
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any(o.get("output_type") == "display_data" for o in outputs)  # the figures were drawn


def test_notebook_figures_go_beside_the_notebooks_whatever_the_working_directory(tmp_path, monkeypatch):
    from experiments.notebook import figures_dir

    monkeypatch.chdir(tmp_path)
    assert figures_dir("02_policies") == ROOT / "notebooks" / "figures" / "02_policies"
    for source in NOTEBOOKS:  # no notebook writes to a path relative to the kernel's working directory
        text = source.read_text()
        assert '"figures/' not in text and "Path(\"figures" not in text, source.name


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab started as ``make notebooks`` starts it (experiments.lab), on a free port, with a token,
    serving a copy of the notebooks (opening one in JupyterLab saves it: the sources stay untouched)."""
    import os
    import secrets
    import shutil
    import subprocess
    import sys
    import tempfile

    from tests.conftest import wait_until_serving
    from tests.test_app import _free_port

    port, token = _free_port(), secrets.token_hex(8)
    copy = tmp_path_factory.mktemp("lab")
    for source in NOTEBOOKS:
        shutil.copy(source, copy / source.name)
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen([sys.executable, "-m", "experiments.lab", "--port", str(port), "--dir", str(copy),
                             f"--IdentityProvider.token={token}"], cwd=tempfile.gettempdir(), stdout=log,
                            stderr=subprocess.STDOUT, env={**os.environ, "JUPYTER_PLATFORM_DIRS": "1"})
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(proc, f"{url}/api/status?token={token}", log, "JupyterLab")
        yield url, token
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_jupyterlab_opens_a_notebook_and_runs_its_cells(chromium, lab):
    from playwright.sync_api import expect, sync_playwright

    from tests.test_app import CHROMIUM_FLAGS

    url, token = lab
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{url}/lab/tree/01_first_simulation.py?token={token}")
            notebook = page.locator(".jp-NotebookPanel:visible .jp-Notebook")
            expect(notebook.locator(".jp-Cell").nth(5)).to_be_visible(timeout=90_000)  # opened as a notebook
            expect(page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")).to_have_count(
                1, timeout=90_000)  # its kernel is up
            # run its cells from the notebook's toolbar (one command: robust to a slow machine, unlike keys);
            # on a busy machine the restart can swallow the run: then ask once more (at most three times)
            table = notebook.locator(".jp-OutputArea-output").filter(has_text="effective_groups")
            for attempt in range(3):
                page.get_by_role("button", name="Restart the kernel and run all cells").click()
                page.locator(".jp-Dialog .jp-mod-accept").click()  # "Restart"
                try:
                    expect(table).to_be_visible(timeout=90_000)
                    break
                except AssertionError:
                    if attempt == 2:
                        raise
            assert "groups_active" in table.inner_text()
            expect(notebook.locator(".jp-OutputArea-output img").first).to_be_visible(timeout=60_000)  # its figure
            expect(notebook.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
                   .filter(has_text="Error")).to_have_count(0)
        finally:
            browser.close()
