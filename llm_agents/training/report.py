"""What a run shows at the end: action types per episode (the paper's Fig. 2 style) and a short summary.

Both read ``rounds.jsonl`` rows (``episodes.RoundRow`` as dicts), so they describe the whole run, resumed or not.
An action type is ``"<own action>|<opponent's previous move>"`` (paper.md §9.3): "D|C" is defecting right after
the opponent cooperated. The two illegal types are drawn as one grey band, as in the paper.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

PLOTTED_TYPES: tuple[str, ...] = ("C|C", "C|D", "D|C", "D|D", "illegal")
"""The bands of the action-type plot, bottom to top."""

ACTION_TYPE_COLORS: Mapping[str, str] = {
    "C|C": "#28641E",
    "C|D": "#B0DC82",
    "D|C": "#FBE6F1",
    "D|D": "#8E0B52",
    "illegal": "#A9A9A9",
}
"""The paper's colours (plotting.py, paper.md §9.3)."""

SUMMARY_FRACTION = 0.1
"""The share of episodes at each end of the run that the summary compares (first and last 10%)."""


def plotted_type(row: Mapping[str, Any]) -> str | None:
    """The band of a row: "illegal" for an illegal answer, else the action type; None with no opponent state."""
    if row["action"] == "illegal":
        return "illegal"
    previous = row["opponent_previous_action"]
    if previous is None:
        return None
    return f"{row['action']}|{previous}"


def action_type_shares(rows: Iterable[Mapping[str, Any]], episodes: int, player: str = "player_0") -> np.ndarray:
    """The share of each ``PLOTTED_TYPES`` band per episode, shape (episodes, 5); NaN rows for unplayed episodes."""
    counts = np.zeros((episodes, len(PLOTTED_TYPES)))
    index = {name: i for i, name in enumerate(PLOTTED_TYPES)}
    for row in rows:
        if row["player"] != player or row["episode"] >= episodes:
            continue
        band = plotted_type(row)
        if band is not None:
            counts[row["episode"], index[band]] += 1
    totals = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, counts / totals, np.nan)


def smooth(shares: np.ndarray, window: int) -> np.ndarray:
    """A centred moving average over episodes (each row still sums to 1); NaN rows are skipped."""
    if window <= 1:
        return shares
    smoothed = np.full_like(shares, np.nan)
    half = window // 2
    for episode in range(len(shares)):
        block = shares[max(0, episode - half) : episode + half + 1]
        block = block[~np.isnan(block).any(axis=1)]
        if len(block):
            smoothed[episode] = block.mean(axis=0)
    return smoothed


def plot_action_types(
    rows: Sequence[Mapping[str, Any]],
    path: Path,
    *,
    episodes: int,
    players: Sequence[str],
    title: str,
    switch_episodes: Sequence[int] = (),
    window: int | None = None,
) -> Path:
    """Save a stacked-area plot of the action types per episode, one panel per learner.

    Args:
        rows: ``rounds.jsonl`` records.
        path: Where to write the PNG.
        episodes: The run's number of episodes (the x range).
        players: The learners to draw.
        title: The figure title.
        switch_episodes: Episodes where the reward changes (drawn as dashed lines).
        window: Moving-average window in episodes; None picks about 1/25 of the run (at least 1).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    window = max(1, round(episodes / 25)) if window is None else window
    figure, axes = plt.subplots(len(players), 1, figsize=(8, 3.2 * len(players) + 0.8), squeeze=False)
    x = np.arange(episodes)
    for ax, player in zip(axes[:, 0], players, strict=True):
        shares = smooth(action_type_shares(rows, episodes, player), window)
        ax.stackplot(
            x,
            np.nan_to_num(shares.T),
            labels=PLOTTED_TYPES,
            colors=[ACTION_TYPE_COLORS[name] for name in PLOTTED_TYPES],
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
        ax.set_title(player if len(players) > 1 else "", fontsize=10)
        ax.spines[["top", "right"]].set_visible(False)
    axes[-1, 0].set_xlabel(f"episode (moving average over {window})" if window > 1 else "episode")
    add_action_type_legend(figure, axes[0, 0])
    figure.suptitle(title, fontsize=11)
    figure.tight_layout(rect=(0, 0, 0.8, 1))
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def rates(rows: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Cooperation, defection and illegal rates, mean training and game reward, and action-type shares of rows."""
    if not rows:
        return {}
    count = len(rows)
    result = {
        "rounds": count,
        "cooperation_rate": sum(r["action"] == "C" for r in rows) / count,
        "defection_rate": sum(r["action"] == "D" for r in rows) / count,
        "illegal_rate": sum(r["action"] == "illegal" for r in rows) / count,
        "mean_training_reward": float(np.mean([r["training_reward"] for r in rows])),
        "mean_game_reward": float(np.mean([r["game_reward"] for r in rows])),
    }
    bands = [plotted_type(r) for r in rows]
    labelled = [b for b in bands if b is not None]
    for name in PLOTTED_TYPES:
        result[f"share {name}"] = labelled.count(name) / len(labelled) if labelled else math.nan
    return result


def summarize_run(rows: Sequence[Mapping[str, Any]], episodes: int, players: Sequence[str]) -> dict[str, Any]:
    """Per learner: the rates over the first and the last 10% of the episodes (at least one episode each)."""
    span = max(1, math.ceil(episodes * SUMMARY_FRACTION))
    summary: dict[str, Any] = {"episodes_compared": span}
    for player in players:
        own = [r for r in rows if r["player"] == player]
        summary[player] = {
            "first": rates([r for r in own if r["episode"] < span]),
            "last": rates([r for r in own if r["episode"] >= episodes - span]),
        }
    return summary


def format_summary(summary: Mapping[str, Any], players: Sequence[str]) -> str:
    """A few readable lines: per learner, first vs last episodes."""
    span = summary["episodes_compared"]
    lines = []
    keys = ("cooperation_rate", "illegal_rate", "mean_training_reward", "mean_game_reward")
    for player in players:
        first, last = summary[player]["first"], summary[player]["last"]
        lines.append(f"{player}: first {span} vs last {span} episodes")
        for key in keys:
            if key in first and key in last:
                lines.append(f"  {key:<22} {first[key]:7.3f} -> {last[key]:7.3f}")
        shares = "  ".join(f"{name} {last.get(f'share {name}', math.nan):.2f}" for name in PLOTTED_TYPES)
        lines.append(f"  last action types      {shares}")
    return "\n".join(lines)


def add_action_type_legend(figure, ax) -> None:
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
