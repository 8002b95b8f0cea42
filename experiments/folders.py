"""What a results folder is: one run, one sweep, or neither (then ``collect`` and ``plot`` refuse it).

- a **run**: a folder with ``summary.json`` or Hydra's ``.hydra/config.yaml`` directly inside;
- a **sweep**: a folder Hydra's multirun made (``multirun.yaml`` or the progress file ``.sweep.json``
  at its top) that holds no other sweep inside it.

Anything else (``outputs/`` full of single runs, ``multirun/`` holding several sweeps, an empty or
unrelated folder) is refused with one line saying what the folder holds and what to give instead,
so unrelated runs are never mixed into one table or figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SWEEP_MARKERS = ("multirun.yaml", ".sweep.json")


class NotARunOrSweep(ValueError):
    """The folder is neither one run nor one sweep; the message is the one line to print."""


@dataclass(frozen=True)
class Folder:
    path: Path
    kind: str  # "run" | "sweep"


def is_run(path: Path) -> bool:
    return (path / "summary.json").is_file() or (path / ".hydra" / "config.yaml").is_file()


def is_sweep(path: Path) -> bool:
    return any((path / m).is_file() for m in SWEEP_MARKERS)


def _sweeps_inside(path: Path) -> list[Path]:
    return sorted({p.parent for m in SWEEP_MARKERS for p in path.rglob(m) if p.parent != path})


def _runs_inside(path: Path) -> list[Path]:
    return sorted({p.parent.parent for p in path.rglob(".hydra/config.yaml")})


def _names(paths: list[Path], base: Path, most: int = 3) -> str:
    names = [str(p.relative_to(base)) for p in paths[:most]]
    return ", ".join(names) + (f" and {len(paths) - most} more" if len(paths) > most else "")


def classify(path: Path) -> Folder:
    """The folder's kind, or NotARunOrSweep with a one-line explanation."""
    path = Path(path)
    if not path.is_dir():
        raise NotARunOrSweep(f"no folder {path}")
    if is_run(path):
        return Folder(path, "run")
    inner = _sweeps_inside(path)
    if is_sweep(path):
        if inner:
            raise NotARunOrSweep(f"{path} is a sweep with other sweeps inside it ({_names(inner, path)}); "
                                 "give one sweep folder, so their runs are not mixed")
        return Folder(path, "sweep")
    loose = [r for r in _runs_inside(path) if not any(s in r.parents for s in inner)]
    parts = []
    if inner:
        parts.append(f"{_count(len(inner), 'sweep')} ({_names(inner, path)})")
    if loose:
        parts.append(f"{_count(len(loose), 'separate run')} ({_names(loose, path)})")
    if parts:
        raise NotARunOrSweep(f"{path} is not one sweep: it holds {' and '.join(parts)}; give one sweep folder "
                             "or one run folder, so unrelated runs are not mixed")
    raise NotARunOrSweep(f"{path} is neither a run (no summary.json) nor a sweep (no multirun.yaml)")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
