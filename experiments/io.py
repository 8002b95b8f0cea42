"""Atomic writing of results: a file appears whole or not at all (write aside, then rename)."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd


def _atomic(path: Path, write: Callable[[Path], None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    _atomic(Path(path), lambda tmp: df.to_parquet(tmp, index=False))


def write_csv(df: pd.DataFrame, path: Path) -> None:
    _atomic(Path(path), lambda tmp: df.to_csv(tmp, index=False))


def write_text(text: str, path: Path) -> None:
    _atomic(Path(path), lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_json(obj: Any, path: Path) -> None:
    write_text(json.dumps(obj, indent=2, default=str) + "\n", path)


@functools.cache
def git_commit() -> str | None:
    """The commit of the source tree when it is a git checkout (once per process), else None."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(__file__).resolve().parent)
    except (OSError, subprocess.SubprocessError):
        return None
    return (out.stdout.strip() or None) if out.returncode == 0 else None
