"""Plot primitives for games, training runs and evaluations: bars, stacked areas, the action-type figure.

Built on matplotlib's object API (``matplotlib.figure.Figure``), never on pyplot's global state, so drawing a figure
neither needs nor changes a backend: a notebook keeps its own, a script or a command line writes PNG files. The
colours are ``metrics.ACTION_TYPE_COLORS`` (the paper's); pale bars get a thin edge so they stay visible on white.
Needs the ``plots`` extra (matplotlib), imported when this module is.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from matrix_games.metrics import ACTION_BANDS, ACTION_TYPE_COLORS

GAME_SHORT_NAMES: Mapping[str, str] = {
    "IPD-v0": "Prisoner's\nDilemma",
    "StagHunt-v0": "Stag Hunt",
    "Chicken-v0": "Chicken",
    "BachOrStravinsky-v0": "Bach or\nStravinsky",
    "DefectiveCoordination-v0": "Defective\nCoordination",
    "PublicGoods-v0": "Public\nGoods",
}

PROMPT_SHORT_NAMES: Mapping[str, str] = {
    "unrelated_question": "Action only",
    "unrelated_game": "Action+Game",
    "unrelated_morality": "Action+Game\n+State",
    "explicit_ipd": "Explicit IPD,\nassumed payoffs",
    "unstructured": "Unstructured IPD,\nwith payoffs",
    "poetic": "IPD-like situation,\nno payoffs",
}
"""The paper's names for the other prompts."""

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


def save(figure: Figure, path: str | Path, *, dpi: int = 150) -> Path:
    """Save ``figure`` as a PNG."""
    path = Path(path)
    figure.savefig(path, dpi=dpi, bbox_inches="tight")
    return path


def subplots(figsize: tuple[float, float], rows: int = 1, columns: int = 1, **kwargs) -> tuple[Figure, np.ndarray]:
    """A figure and its ``rows`` x ``columns`` array of axes (pyplot's ``subplots`` without pyplot's state)."""
    figure = Figure(figsize=figsize)
    return figure, figure.subplots(rows, columns, squeeze=False, **kwargs)


def new_figure(width: float, height: float, *, columns: int = 1, rows: int = 1) -> tuple[Figure, list[Axes]]:
    """A figure of ``rows`` x ``columns`` axes, listed row by row."""
    figure = Figure(figsize=(width, height))
    axes = figure.subplots(rows, columns, squeeze=False)
    return figure, [ax for row in axes for ax in row]


def add_action_type_legend(figure: Figure, ax: Axes) -> None:
    """One legend for the whole figure, action types top to bottom as they are stacked, at the right."""
    handles, labels = ax.get_legend_handles_labels()
    figure.legend(
        handles[::-1],
        labels[::-1],
        loc="center right",
        title="own | opponent's\nprevious move",
        fontsize=9,
        title_fontsize=9,
        frameon=False,
    )


def action_band_area(
    ax: Axes, shares: np.ndarray, *, switch_episodes: Sequence[int] = (), title: str = "", label_x: bool = True
) -> None:
    """The paper's Fig. 2 panel: per episode, the stacked shares of ``ACTION_BANDS`` (``shares``: (episodes, 5))."""
    episodes = len(shares)
    ax.stackplot(
        np.arange(episodes),
        np.nan_to_num(shares.T),
        labels=ACTION_BANDS,
        colors=[ACTION_TYPE_COLORS[name] for name in ACTION_BANDS],
        alpha=0.85,
        edgecolor="#555555",
        linewidth=0.3,
    )
    for switch in switch_episodes:
        ax.axvline(switch, color="black", linestyle="--", linewidth=1)
    ax.set_xlim(0, max(episodes - 1, 1))
    ax.set_ylim(0, 1)
    ax.set_ylabel("share of rounds")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # episodes are whole numbers, even in short runs
    ax.set_title(title, fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    if label_x:
        ax.set_xlabel("episode")
