"""Figures of runs (matplotlib, headless): weekly outcomes per policy with bands across seeds."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

# (column, axis label, transform of the weekly series)
PANELS = [
    ("homicides", "homicides per year\n(13-week mean x 52)", lambda s: s.rolling(13, min_periods=1).mean() * 52),
    ("members", "cartel members (persons)", None),
    ("groups_active", "active groups (count)", None),
    ("effective_groups", "effective groups\n(1 / Herfindahl of member shares)", None),
]
POLICY_COLOURS = {"none": "#7f7f7f", "kingpin": "#d62728", "merida": "#ff7f0e", "prevention": "#2ca02c"}


def mean_band(df: pd.DataFrame, column: str, by: str = "policy") -> pd.DataFrame:
    """Mean across seeds and its 95% confidence band (mean +- 1.96 standard errors), per ``by`` and step."""
    g = df.groupby([by, "step"])[column]
    out = g.agg(["mean", "std", "count"]).reset_index()
    half = 1.96 * out["std"].fillna(0.0) / np.sqrt(out["count"])
    out["lo"], out["hi"] = out["mean"] - half, out["mean"] + half
    return out


def policy_timeseries(df: pd.DataFrame, path: Path, title: str = "") -> list[Path]:
    """Four panels of weekly outcomes, one line per policy, 95% bands across seeds; PNG and PDF."""
    df = df.sort_values(["policy", "seed", "step"]).copy()
    fig, axes = plt.subplots(2, 2, figsize=(11, 7), sharex=True, constrained_layout=True)
    n_seeds = df.groupby("policy")["seed"].nunique().min()
    for ax, (col, label, transform) in zip(axes.flat, PANELS):
        data = df
        if transform is not None:
            data = df.assign(**{col: df.groupby(["policy", "seed"], group_keys=False)[col].apply(transform)})
        band = mean_band(data, col)
        present = set(band["policy"])
        order = [p for p in POLICY_COLOURS if p in present] + sorted(present - set(POLICY_COLOURS))
        for policy in order:
            part = band[band["policy"] == policy]
            years = part["step"] / 52.0
            colour = POLICY_COLOURS.get(policy)
            ax.plot(years, part["mean"], label=policy, color=colour, lw=1.6)
            ax.fill_between(years, part["lo"], part["hi"], color=colour, alpha=0.2, lw=0)
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.set_ylim(bottom=0)
    for ax in axes[-1]:
        ax.set_xlabel("years since start")
    axes[0, 0].legend(title="policy", loc="upper left")
    fig.suptitle(title or f"Violence and fragmentation by policy (mean and 95% band across {n_seeds} seeds)")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for suffix in (".png", ".pdf"):
        out = path.with_suffix(suffix)
        fig.savefig(out, dpi=130)
        written.append(out)
    plt.close(fig)
    return written
