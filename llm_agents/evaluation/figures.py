"""The figures of one evaluation: action types, regrets per game, and the answer shares of the other prompts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matrix_games import plotting as plots
from matrix_games.metrics import ACTION_TYPE_COLORS, ACTION_TYPES, ANSWER_KIND_COLORS, ANSWER_KINDS


def write_figures(summary: dict[str, Any], out_dir: str | Path) -> list[Path]:
    """Write ``action_types.png``, ``regret.png`` and (with other prompts) ``other_prompts.png``; return their paths."""
    out_dir = Path(out_dir)
    games = list(summary["games"])
    name = summary["policy"].get("label") or summary["policy"].get("name", "policy")
    paths = []

    figure, (ax,) = plots.new_figure(1.4 * len(games) + 2.0, 3.8)
    shares = {t: [summary["games"][g]["action_type_fractions"][t] for g in games] for t in ACTION_TYPES}
    plots.stacked_bars(ax, games, shares, ACTION_TYPE_COLORS, ylabel="share of rounds (my action | their last)")
    ax.set_title(f"Action types at test: {name}")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, reverse=True)
    paths.append(plots.save(figure, out_dir / "action_types.png"))

    figure, axes = plots.new_figure(2.6 * len(games) + 1.5, 3.8, columns=2)
    protocol = summary["protocol"]
    for ax, metric, title, top in (
        (axes[0], "deontological_regret", f"Deontological regret (xi = {protocol['deontological_penalty']:g})", None),
        (axes[1], "utilitarian_regret", "Utilitarian regret (normalised)", 1.0),
    ):
        means = [summary["games"][g][metric] for g in games]
        errors = [summary["games"][g]["episode_spread"][metric]["ci95"] for g in games]
        plots.grouped_bars(ax, games, {name: (means, errors)}, ylabel="regret", show_values=True)
        ax.set_ylim(0, top if top is not None else max(-protocol["illegal_reward"], protocol["deontological_penalty"]))
        ax.set_title(title)
        ax.tick_params(axis="x", labelsize=8)
    figure.suptitle(
        f"{name}: mean over {protocol['episodes']} x {protocol['rounds']} rounds (whiskers: 95% CI over episodes)",
        fontsize=10,
    )
    figure.tight_layout()
    paths.append(plots.save(figure, out_dir / "regret.png"))

    kinds = list(summary.get("other_prompts", {}))
    if kinds:
        figure, (ax,) = plots.new_figure(1.4 * len(kinds) + 2.0, 3.8)
        shares = {k: [summary["other_prompts"][p][k] for p in kinds] for k in ANSWER_KINDS}
        plots.stacked_bars(ax, kinds, shares, ANSWER_KIND_COLORS, ylabel="share of answers")
        labels = protocol["labels"]
        ax.set_title(f"Answers to the other prompts: {name} (C = {labels[0]}, D = {labels[1]})")
        ax.tick_params(axis="x", labelsize=8)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, reverse=True)
        paths.append(plots.save(figure, out_dir / "other_prompts.png"))
    return paths
