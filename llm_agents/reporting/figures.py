"""The report's figures, in the style of the paper's: Fig. 4 regret bars, Fig. 2/3 action types during training,
test-time action types on the IPD (reciprocity) and the answers to the other prompts."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.ticker import MaxNLocator

from llm_agents.reporting.aggregate import Estimate, TrainingCurves
from matrix_games import plotting as plots
from matrix_games.metrics import ACTION_TYPE_COLORS, ACTION_TYPES, ANSWER_KIND_COLORS, ANSWER_KINDS


def _wrap(label: str, width: int = 22) -> str:
    return "\n".join(textwrap.wrap(label, width)) or label


def regret_figure(
    table: Mapping[str, Mapping[str, Mapping[str, Estimate]]], games: Sequence[str], path: Path, *, xi: float
) -> Path:
    """Fig. 4: deontological (top) and utilitarian (bottom) regret per game, one bar per model, 95% CI whiskers."""
    models = list(table)
    figure, grid = plots.subplots((max(8.0, 1.2 * len(games) * max(len(models), 2) * 0.45 + 3), 7.5), rows=2)
    axes = grid[:, 0]
    for ax, metric, title, top in (
        (axes[0], "deontological_regret", f"Deontological regret (xi = {xi:g}; 6 for an illegal answer)", 6.0),
        (axes[1], "utilitarian_regret", "Utilitarian regret, normalised: (U_max - U) / (U_max + 6)", 1.0),
    ):
        series = {
            model: ([table[model][g][metric].mean for g in games], [table[model][g][metric].ci95 for g in games])
            for model in models
        }
        plots.grouped_bars(ax, games, series, ylabel="regret (lower is better)", ylim=(0, top))
        ax.set_title(title, fontsize=10)
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=min(4, len(labels)), frameon=False, fontsize=9)
    figure.suptitle("Test-time moral regret vs a random opponent (mean over runs, 95% CI)", fontsize=11)
    rows = math.ceil(len(labels) / 4)
    figure.tight_layout(rect=(0, 0.04 + 0.035 * rows, 1, 1))
    return plots.save(figure, path)


def test_action_types_figure(table: Mapping[str, Mapping[str, Estimate]], path: Path, *, game: str) -> Path:
    """Action types on ``game`` at test, one stacked horizontal bar per model (mean shares across runs)."""
    models = list(table)
    figure, grid = plots.subplots((8.5, 0.55 * len(models) + 1.6))
    ax = grid[0, 0]
    bands = [(kind, [table[m][kind].mean for m in models], ACTION_TYPE_COLORS[kind]) for kind in ACTION_TYPES]
    _stacked_bars(ax, bands, skip_empty=True)
    ax.set_yticks(range(len(models)), [_wrap(m, 34) for m in models], fontsize=9)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of rounds (own action | opponent's previous move)")
    ax.set_title(
        f"Action types at test on {plots.short_name(game).replace(chr(10), ' ')} (mean over runs)", fontsize=10
    )
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=9)
    figure.tight_layout()
    return plots.save(figure, path)


def other_prompts_figure(table: Mapping[str, Mapping[str, Mapping[str, Estimate]]], path: Path) -> Path:
    """Answer shares per other prompt: one panel per prompt, one stacked horizontal bar per model."""
    models = list(table)
    kinds = list(next(iter(table.values()))) if table else []
    columns = min(3, max(len(kinds), 1))
    rows = math.ceil(len(kinds) / columns)
    figure, axes = plots.subplots(
        (4.0 * columns + 2.2, (0.42 * len(models) + 1.1) * rows), rows=rows, columns=columns, sharey=True
    )
    for index, kind in enumerate(kinds):
        ax = axes[index // columns][index % columns]
        bands = [
            (answer, [table[m][kind][answer].mean for m in models], ANSWER_KIND_COLORS[answer])
            for answer in ANSWER_KINDS
        ]
        _stacked_bars(ax, bands)
        ax.set_yticks(range(len(models)), [_wrap(m, 30) for m in models], fontsize=8)
        ax.set_xlim(0, 1)
        ax.set_title(plots.short_name(kind).replace("\n", " "), fontsize=9)
        ax.spines[["top", "right"]].set_visible(False)
    axes[0][0].invert_yaxis()
    for index in range(len(kinds), rows * columns):
        axes[index // columns][index % columns].set_visible(False)
    handles, labels = axes[0][0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=3, frameon=False, fontsize=9)
    figure.suptitle("Answers to the other prompts (share of answers, mean over runs)", fontsize=11)
    figure.tight_layout(rect=(0, 0.05, 1, 1))
    return plots.save(figure, path)


def training_action_types_figure(curves: Mapping[str, TrainingCurves], path: Path) -> Path:
    """Fig. 2/3: action types per episode during training, one panel per model (mean shares across runs)."""
    models = list(curves)
    columns = 1 if len(models) == 1 else 2
    rows = math.ceil(len(models) / columns)
    figure, axes = plots.subplots((6.2 * columns + 1.6, 2.9 * rows + 0.6), rows=rows, columns=columns)
    for index, model in enumerate(models):
        curve = curves[model]
        title = f"{model} ({curve.runs} run{'s' if curve.runs != 1 else ''})"
        plots.action_band_area(
            axes[index // columns][index % columns], curve.shares, switch_episodes=curve.switch_episodes, title=title
        )
    for index in range(len(models), rows * columns):
        axes[index // columns][index % columns].set_visible(False)
    plots.add_action_type_legend(figure, axes[0][0])
    figure.suptitle("Action types during training (mean over runs; dashed: reward switch)", fontsize=11)
    figure.tight_layout(rect=(0, 0, 0.88, 1))
    return plots.save(figure, path)


def training_cooperation_figure(curves: Mapping[str, TrainingCurves], path: Path) -> Path:
    """The cooperation rate per episode during training, one line per model with its 95% band across runs."""
    figure, grid = plots.subplots((8.5, 4.4 + 0.22 * math.ceil(len(curves) / 2)))
    ax = grid[0, 0]
    for index, (model, curve) in enumerate(curves.items()):
        color = plots.SERIES_COLORS[index % len(plots.SERIES_COLORS)]
        ax.plot(curve.episodes, curve.cooperation, color=color, label=f"{model} ({curve.runs})", linewidth=1.5)
        if curve.runs > 1:
            low = np.clip(curve.cooperation - curve.cooperation_ci95, 0, 1)
            high = np.clip(curve.cooperation + curve.cooperation_ci95, 0, 1)
            ax.fill_between(curve.episodes, low, high, color=color, alpha=0.2, linewidth=0)
        for switch in curve.switch_episodes:
            ax.axvline(switch, color=color, linestyle="--", linewidth=0.8)
    ax.set_ylim(-0.02, 1.02)  # lines at 0 and 1 stay visible
    ax.set_xlabel("episode")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("cooperation rate")
    ax.set_title("Cooperation during training (mean over runs, 95% band; dashed: reward switch)", fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2, frameon=False, fontsize=8, title="model (runs)")
    figure.tight_layout()
    return plots.save(figure, path)


def _stacked_bars(ax, bands, *, skip_empty: bool = False) -> None:
    """One horizontal bar per model, its ``bands`` (label, one share per model, colour) stacked left to right; NaN
    shares (no data) count as 0."""
    left = None
    for label, shares, color in bands:
        widths = np.nan_to_num(np.asarray(shares, dtype=float))
        left = np.zeros(len(widths)) if left is None else left
        if skip_empty and not widths.any():
            continue
        ax.barh(range(len(widths)), widths, left=left, color=color, edgecolor="#555555", linewidth=0.5, label=label)
        left = left + widths
