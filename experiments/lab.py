"""JupyterLab on the teaching notebooks (``make notebooks``): the jupytext sources open as notebooks.

    python -m experiments.lab [--host 127.0.0.1] [--port 8888] [--dir notebooks] [extra jupyter lab options]

Serves ``notebooks/`` on 127.0.0.1 (this machine only) with jupytext's contents manager, so each
``.py`` percent source opens as a notebook (double-click; saving writes the ``.py`` back), and
prints the address to open (with its access token). Kernels run this project's Python (``.venv``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .notebook import NOTEBOOKS

# JupyterLab settings: .py files open with jupytext's notebook view by default
# and the "Jupyter news" prompt (a network look-up) stays off
OVERRIDES = {"@jupyterlab/docmanager-extension:plugin": {"defaultViewers": {"python": "Jupytext Notebook"}},
             "@jupyterlab/apputils-extension:notification": {"fetchNews": "false"}}


def settings_file() -> Path:
    """JupyterLab's overrides.json of this environment (it reads it at start-up)."""
    return Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"


def write_settings() -> Path:
    path = settings_file()
    current = json.loads(path.read_text()) if path.exists() else {}
    merged = {**current, **OVERRIDES}
    if merged != current:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(merged, indent=2) + "\n")
    return path


def command(host: str, port: int, extra: list[str], root: Path = NOTEBOOKS) -> list[str]:
    return [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--ServerApp.ip={host}",
            f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--ServerApp.root_dir={root}",
            "--ServerApp.contents_manager_class=jupytext.AsyncTextFileContentsManager",
            "--LabApp.extension_manager=readonly",  # no look-ups of extensions on the network
            *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []), *extra]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    ap.add_argument("--port", type=int, default=8888, help="port (default 8888)")
    ap.add_argument("--dir", type=Path, default=NOTEBOOKS, help="folder to serve (default: the notebooks/ folder)")
    args, extra = ap.parse_known_args(argv)
    if not args.dir.is_dir():
        print(f"error: invalid value for '--dir': no folder {args.dir} (allowed: an existing folder, by default "
              "the notebooks/ folder of a cartelsim checkout)", file=sys.stderr)
        return 2
    try:
        write_settings()
    except OSError as err:  # a read-only environment: notebooks still open with "Open With > Jupytext Notebook"
        print(f"warning: could not write {settings_file()} ({err}); open a .py with Open With > Jupytext Notebook",
              file=sys.stderr)
    print(f"JupyterLab on {args.dir}: open the http://{args.host}:{args.port}/lab?token=... address printed "
          "below (Ctrl-C stops it); double-click a notebook (.py) to open it", flush=True)
    os.execv(sys.executable, command(args.host, args.port, extra, args.dir.resolve()))
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
