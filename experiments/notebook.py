"""Helpers for the teaching notebooks (``notebooks/``)."""

from __future__ import annotations

from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def figures_dir(*parts: str) -> Path:
    """``notebooks/figures/`` (joined with ``parts``) of this checkout, whatever the working directory.

    A notebook's figures and small sweeps go beside it, whether its kernel started in ``notebooks/``
    (JupyterLab), at the repository's root or anywhere else. When the package is installed without
    its notebooks (not from a checkout), ``figures/`` under the working directory.
    """
    base = NOTEBOOKS / "figures" if NOTEBOOKS.is_dir() else Path.cwd() / "figures"
    return base.joinpath(*parts)
