"""What a run shows at the end: action types per episode (the paper's Fig. 2 style) and a short summary.

Both read the run's ``RoundLog``s (``rounds.jsonl``), so they describe the whole run, resumed or not; every rate and
band comes from ``matrix_games.metrics``, every drawing primitive from ``matrix_games.metrics.plotting``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from matrix_games.core.records import RoundLog
from matrix_games.metrics import ACTION_BANDS, band_shares_by_episode, default_window, rates, smooth

SUMMARY_FRACTION = 0.1
"""The share of episodes at each end of the run that the summary compares (first and last 10%)."""


def plot_action_types(
    logs: Sequence[RoundLog],
    path: Path,
    *,
    episodes: int,
    players: Sequence[str],
    title: str,
    switch_episodes: Sequence[int] = (),
    window: int | None = None,
    diagnostics: Sequence[Mapping[str, Any]] = (),
) -> Path:
    """Save a stacked-area plot of the action types per episode, one panel per learner, each followed by the exact
    P(C) per state over training when the run logged its diagnostics.

    Args:
        logs: The run's round logs.
        path: Where to write the PNG.
        episodes: The run's number of episodes (the x range).
        players: The learners to draw.
        title: The figure title.
        switch_episodes: Episodes where the reward changes (drawn as dashed lines).
        window: Moving-average window in episodes; None picks ``default_window``.
        diagnostics: The lines of ``analysis.jsonl`` (``diagnostics.py``).
    """
    from matrix_games import plotting

    window = default_window(episodes) if window is None else window
    exact = {player: [line for line in diagnostics if line["player"] == player] for player in players}
    panels = [(player, kind) for player in players for kind in ("bands", "exact") if kind == "bands" or exact[player]]
    heights = [3.2 if kind == "bands" else 2.4 for _, kind in panels]
    figure, axes = plotting.new_figure(8, sum(heights) + 0.8, rows=len(panels))
    for index, (ax, (player, kind)) in enumerate(zip(axes, panels, strict=True)):
        label = player if len(players) > 1 else ""
        if kind == "bands":
            shares = smooth(band_shares_by_episode(logs, episodes, player), window)
            plotting.action_band_area(ax, shares, switch_episodes=switch_episodes, title=label, label_x=False)
        else:
            _exact_panel(ax, exact[player], episodes, switch_episodes)
        if index == len(panels) - 1:
            ax.set_xlabel(f"episode (moving average over {window})" if window > 1 else "episode")
    plotting.add_action_type_legend(figure, axes[0])
    figure.suptitle(title, fontsize=11)
    figure.tight_layout(rect=(0, 0, 0.8, 1))
    return plotting.save(figure, path, dpi=120)


def _exact_panel(ax, lines: Sequence[Mapping[str, Any]], episodes: int, switch_episodes: Sequence[int]) -> None:
    """P(C) (solid) and P(illegal) (dotted) of each state, computed exactly every few updates."""
    from matrix_games.metrics.plotting import SERIES_COLORS

    x = [line["episode"] for line in lines]
    for color, state in zip(SERIES_COLORS, lines[0]["states"], strict=False):
        ax.plot(x, [line["states"][state]["p_c"] for line in lines], color=color, label=f"P(C | {state})")
        illegal = [line["states"][state]["p_illegal"] for line in lines]
        ax.plot(x, illegal, color=color, linestyle=":", linewidth=1)
    for switch in switch_episodes:
        ax.axvline(switch, color="black", linestyle="--", linewidth=1)
    ax.set_xlim(0, max(episodes, 1))
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel("exact P(C | state)\n(dotted: P(illegal))", fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=7)


def summarize_run(logs: Sequence[RoundLog], episodes: int, players: Sequence[str]) -> dict[str, Any]:
    """Per learner: the rates over the first and the last 10% of the episodes (at least one episode each)."""
    span = max(1, math.ceil(episodes * SUMMARY_FRACTION))
    summary: dict[str, Any] = {"episodes_compared": span}
    for player in players:
        own = [log for log in logs if log.player == player]
        summary[player] = {
            "first": rates(log for log in own if log.episode < span),
            "last": rates(log for log in own if log.episode >= episodes - span),
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
        shares = "  ".join(f"{name} {last.get(f'share {name}', math.nan):.2f}" for name in ACTION_BANDS)
        lines.append(f"  last action types      {shares}")
    return "\n".join(lines)
