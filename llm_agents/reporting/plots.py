"""Plot primitives shared by the evaluation figures and the cross-run report (matplotlib, Agg backend).

The colours of the action types are the paper's (plotting.py; paper.md §9.3): C|C dark green, C|D light green,
D|C pale pink, D|D dark purple, illegal grey. Pale bars get a thin edge so they stay visible on white.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

ACTION_TYPE_COLORS: Mapping[str, str] = {
    "C|C": "#28641E",
    "C|D": "#B0DC82",
    "D|C": "#FBE6F1",
    "D|D": "#8E0B52",
    "illegal|C": "#A9A9A9",
    "illegal|D": "#D4D4D4",
}
"""The paper's action-type colours; the two illegal types in two greys."""

ANSWER_KIND_COLORS: Mapping[str, str] = {"C label": "#28641E", "D label": "#8E0B52", "other": "#A9A9A9"}

GAME_SHORT_NAMES: Mapping[str, str] = {
    "IPD-v0": "Prisoner's\nDilemma",
    "StagHunt-v0": "Stag Hunt",
    "Chicken-v0": "Chicken",
    "BachOrStravinsky-v0": "Bach or\nStravinsky",
    "DefectiveCoordination-v0": "Defective\nCoordination",
}

PROMPT_SHORT_NAMES: Mapping[str, str] = {
    "unrelated_question": "Action only",
    "unrelated_game": "Action+Game",
    "unrelated_morality": "Action+Game\n+State",
    "explicit_ipd": "Explicit IPD,\nassumed payoffs",
    "unstructured": "Unstructured IPD,\nwith payoffs",
    "poetic": "IPD-like situation,\nno payoffs",
}
"""The paper's names for the other prompts (paper.md §9.3)."""

SERIES_COLORS = ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C", "#CCB974")


def short_name(key: str) -> str:
    """The axis label of a game id or prompt kind."""
    return GAME_SHORT_NAMES.get(key, PROMPT_SHORT_NAMES.get(key, key))


def stacked_bars(
    ax: Axes,
    categories: Sequence[str],
    shares: Mapping[str, Sequence[float]],
    colors: Mapping[str, str],
    *,
    ylabel: str = "share of rounds",
) -> None:
    """One bar per category, stacked by the keys of ``shares`` (each a list aligned with ``categories``)."""
    positions = range(len(categories))
    bottom = [0.0] * len(categories)
    for key, values in shares.items():
        heights = [0.0 if value is None or math.isnan(value) else value for value in values]
        if not any(heights):
            continue
        ax.bar(positions, heights, bottom=bottom, color=colors[key], edgecolor="#555555", linewidth=0.5, label=key)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    ax.set_xticks(list(positions), [short_name(c) for c in categories])
    ax.set_ylim(0, 1)
    ax.set_ylabel(ylabel)
    ax.spines[["top", "right"]].set_visible(False)


def grouped_bars(
    ax: Axes,
    categories: Sequence[str],
    series: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    *,
    ylabel: str,
    ylim: tuple[float, float] | None = None,
    show_values: bool = False,
) -> None:
    """Bars per category, one per series (``{name: (means, ci_half_widths)}``), with 95% interval whiskers."""
    count = max(len(series), 1)
    width = 0.8 / count
    for index, (name, (means, errors)) in enumerate(series.items()):
        offsets = [c - 0.4 + width * (index + 0.5) for c in range(len(categories))]
        heights = [math.nan if m is None else m for m in means]
        whiskers = [0.0 if e is None or math.isnan(e) else e for e in errors]
        bars = ax.bar(
            offsets,
            heights,
            width=width * 0.92,
            yerr=whiskers,
            capsize=2.5 if count < 6 else 1.5,
            color=SERIES_COLORS[index % len(SERIES_COLORS)],
            error_kw={"elinewidth": 0.9, "ecolor": "#333333"},
            label=name,
        )
        if show_values:
            ax.bar_label(bars, fmt="%.2f", fontsize=7, padding=2)
        else:  # a zero bar is invisible: say it is there
            for x, height in zip(offsets, heights, strict=True):
                if height == 0:
                    ax.annotate("0", (x, 0), xytext=(0, 2), textcoords="offset points", ha="center", fontsize=6)
    ax.set_xticks(list(range(len(categories))), [short_name(c) for c in categories])
    ax.set_ylabel(ylabel)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)


def stacked_area(
    ax: Axes, episodes: Sequence[float], shares: Mapping[str, Sequence[float]], colors: Mapping[str, str]
) -> None:
    """A stacked area chart of shares over episodes (the paper's Fig. 2 and 3)."""
    keys = [key for key, values in shares.items() if any(v > 0 for v in values)]
    ax.stackplot(
        episodes,
        [shares[key] for key in keys],
        labels=keys,
        colors=[colors[key] for key in keys],
        edgecolor="#555555",
        linewidth=0.3,
        alpha=0.9,
    )
    ax.set_xlim(min(episodes), max(episodes))
    ax.set_ylim(0, 1)
    ax.set_xlabel("episode")
    ax.set_ylabel("share of rounds")
    ax.spines[["top", "right"]].set_visible(False)


def legend_below(figure: Figure, ax: Axes, *, columns: int = 6) -> None:
    """One legend for the whole figure, centred under the axes."""
    handles, labels = ax.get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=min(columns, max(len(labels), 1)), frameon=False)


def save(figure: Figure, path: str | Path) -> Path:
    """Save ``figure`` as a PNG (150 dpi) and close it."""
    path = Path(path)
    figure.savefig(path, dpi=150, bbox_inches="tight")
    plt.close(figure)
    return path


def new_figure(width: float, height: float, *, columns: int = 1) -> tuple[Figure, list[Axes]]:
    """A figure of ``columns`` side-by-side axes."""
    figure, axes = plt.subplots(1, columns, figsize=(width, height), squeeze=False)
    return figure, list(axes[0])
