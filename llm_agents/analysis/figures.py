"""The figure of an exact analysis: per game, each state's P(C), P(D) and P(illegal) as stacked bars."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from matrix_games import plotting as plots
from matrix_games.metrics import ANSWER_KIND_COLORS

BAR_KEYS = {"p_c": "C label", "p_d": "D label", "p_illegal": "other"}


def draw_policy_tables(states_by_game: Mapping[str, Mapping[str, Mapping[str, float]]], path: Path, title: str) -> Path:
    """One panel per game (``{game: {state: {"p_c", "p_d", "p_illegal"}}}``), one stacked bar per state: own
    previous move and the opponent's (``CD``), or own move and how many others contributed (``C2``)."""
    games = list(states_by_game)
    columns = min(len(games), 3)
    rows = -(-len(games) // columns)
    widest = max(len(states) for states in states_by_game.values())
    figure, axes = plots.new_figure(max(3.2, 0.55 * widest + 1.2) * columns, 3.0 * rows, columns=columns, rows=rows)
    for ax, game in zip(axes, games, strict=False):
        states = list(states_by_game[game])
        shares = {name: [states_by_game[game][s][key] for s in states] for key, name in BAR_KEYS.items()}
        plots.stacked_bars(ax, states, shares, ANSWER_KIND_COLORS, ylabel="probability")
        ax.set_title(plots.short_name(game).replace("\n", " "), fontsize=10)
        ax.set_xlabel("state (own, opponent's previous move)", fontsize=8)
    for ax in axes[len(games) :]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles[::-1], labels[::-1], loc="center right", frameon=False, fontsize=9)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout(rect=(0, 0, 0.86, 1))
    return plots.save(figure, path)
