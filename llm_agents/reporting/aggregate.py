"""Aggregate runs (seeds) of each model: means and 95% intervals across runs, as the paper's figures show them.

Each evaluation contributes one value per metric (its mean over its ``episodes * rounds`` rounds); a model's value is
the mean over its runs with the half-width ``1.96 * sd / sqrt(n)`` of ``matrix_games.metrics.mean_and_ci95``
(docs/paper.md; NaN for a single run). Training runs contribute their per-episode action-type shares
(``matrix_games.metrics.band_shares_by_episode``), averaged across runs episode by episode.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from llm_agents.reporting.load import Evaluation, TrainingRun
from matrix_games.envs.wrappers import as_schedule
from matrix_games.metrics import (
    ACTION_BANDS,
    ACTION_TYPES,
    ANSWER_KINDS,
    band_shares_by_episode,
    default_window,
    mean_and_ci95,
    smooth,
)

GAME_METRICS: tuple[str, ...] = ("cooperation_rate", "illegal_rate", "deontological_regret", "utilitarian_regret")


@dataclass(frozen=True)
class Estimate:
    """A metric across runs: mean, 95% half-width (NaN for one run) and the number of runs with a value."""

    mean: float
    ci95: float
    runs: int

    def format(self, digits: int = 2) -> str:
        """``"0.43 ± 0.12"`` (or just the mean for one run; "n/a" with no value)."""
        if self.runs == 0:
            return "n/a"
        if math.isnan(self.ci95):
            return f"{self.mean:.{digits}f}"
        return f"{self.mean:.{digits}f} ± {self.ci95:.{digits}f}"


def estimate(values: Sequence[float | None]) -> Estimate:
    """The ``Estimate`` of the values that exist (None and NaN, e.g. an undefined reciprocity, are left out)."""
    present = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    if not present:
        return Estimate(math.nan, math.nan, 0)
    mean, half_width = mean_and_ci95(present)
    return Estimate(mean, half_width, len(present))


def games_of(groups: Mapping[str, Sequence[Evaluation]]) -> list[str]:
    """The games evaluated, in the order they first appear."""
    games: list[str] = []
    for evaluations in groups.values():
        for evaluation in evaluations:
            games += [game for game in evaluation.summary["games"] if game not in games]
    return games


def game_table(groups: Mapping[str, Sequence[Evaluation]]) -> dict[str, dict[str, dict[str, Estimate]]]:
    """``table[model][game][metric]`` for ``GAME_METRICS``, across the model's runs."""
    return {
        model: {
            game: {
                metric: estimate([e.summary["games"][game][metric] for e in runs if game in e.summary["games"]])
                for metric in GAME_METRICS
            }
            for game in games_of(groups)
        }
        for model, runs in groups.items()
    }


def reciprocity_table(
    groups: Mapping[str, Sequence[Evaluation]], game: str = "IPD-v0"
) -> dict[str, dict[str, Estimate]]:
    """``table[model]``: action-type shares on ``game`` and P(C | their C), P(D | their D), across runs."""
    table = {}
    for model, runs in groups.items():
        with_game = [e.summary["games"][game] for e in runs if game in e.summary["games"]]
        row = {kind: estimate([m["action_type_fractions"][kind] for m in with_game]) for kind in ACTION_TYPES}
        for key in ("cooperate_after_cooperation", "defect_after_defection"):
            row[key] = estimate([m["reciprocity"][key] for m in with_game])
        table[model] = row
    return table


def other_prompts_table(groups: Mapping[str, Sequence[Evaluation]]) -> dict[str, dict[str, dict[str, Estimate]]]:
    """``table[model][prompt kind][answer kind]``: shares of C label, D label and other answers, across runs."""
    kinds: list[str] = []
    for runs in groups.values():
        for evaluation in runs:
            kinds += [kind for kind in evaluation.summary.get("other_prompts", {}) if kind not in kinds]
    return {
        model: {
            kind: {
                answer: estimate(
                    [
                        e.summary["other_prompts"][kind][answer]
                        for e in runs
                        if kind in e.summary.get("other_prompts", {})
                    ]
                )
                for answer in ANSWER_KINDS
            }
            for kind in kinds
        }
        for model, runs in groups.items()
    }


def protocols(runs: Sequence[Evaluation]) -> list[dict[str, Any]]:
    """The distinct protocols (labels, order, sizes, seed, xi...) behind a model's evaluations."""
    distinct: list[dict[str, Any]] = []
    for evaluation in runs:
        protocol = {k: v for k, v in evaluation.summary["protocol"].items() if k != "games"}
        if protocol not in distinct:
            distinct.append(protocol)
    return distinct


@dataclass(frozen=True)
class TrainingCurves:
    """A model's action types during training, across its runs.

    Attributes:
        episodes: The episode numbers (x axis), shape (E,).
        shares: Mean share of each ``PLOTTED_TYPES`` band per episode across runs, shape (E, 5).
        cooperation: Mean cooperation rate per episode across runs, shape (E,).
        cooperation_ci95: Its 95% half-width across runs (NaN with one run), shape (E,).
        runs: How many runs.
        switch_episodes: Episodes where the training reward changed.
    """

    episodes: np.ndarray
    shares: np.ndarray
    cooperation: np.ndarray
    cooperation_ci95: np.ndarray
    runs: int
    switch_episodes: tuple[int, ...]


def training_curves(runs: Sequence[TrainingRun], *, window: int | None = None) -> TrainingCurves:
    """Average the per-episode action-type shares of ``runs`` (smoothed over ``window`` episodes; None: ~1/25 run)."""
    episodes = min(run.episodes for run in runs)
    window = default_window(episodes) if window is None else window
    per_run = np.stack([smooth(band_shares_by_episode(run.logs, episodes, "player_0"), window) for run in runs])
    cooperating = [ACTION_BANDS.index("C|C"), ACTION_BANDS.index("C|D")]
    cooperation = per_run[:, :, cooperating].sum(axis=2)  # (runs, E)
    with np.errstate(invalid="ignore"):
        shares = np.nanmean(per_run, axis=0) if len(runs) > 1 else per_run[0]
        mean_cooperation = np.nanmean(cooperation, axis=0)
        if len(runs) > 1:
            ci = 1.96 * np.nanstd(cooperation, axis=0, ddof=1) / math.sqrt(len(runs))
        else:
            ci = np.full(episodes, math.nan)
    return TrainingCurves(
        episodes=np.arange(episodes),
        shares=shares,
        cooperation=mean_cooperation,
        cooperation_ci95=ci,
        runs=len(runs),
        switch_episodes=as_schedule(str(runs[0].config.get("reward", "game"))).switch_episodes(episodes),
    )


def training_end_table(runs: Sequence[TrainingRun], fraction: float = 0.2) -> dict[str, Estimate]:
    """Action-type shares over the last ``fraction`` of training (the paper read episodes 800-1000), across runs."""
    episodes = min(run.episodes for run in runs)
    start = int(episodes * (1 - fraction))
    values: dict[str, list[float]] = {band: [] for band in ACTION_BANDS}
    for run in runs:
        shares = band_shares_by_episode(run.logs, episodes, "player_0")[start:]
        shares = shares[~np.isnan(shares).any(axis=1)]
        for index, band in enumerate(ACTION_BANDS):
            values[band].append(float(shares[:, index].mean()) if len(shares) else math.nan)
    return {band: estimate(values[band]) for band in ACTION_BANDS}
