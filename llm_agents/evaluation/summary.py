"""The metrics of one evaluation, per game and per other prompt, as the plain dict written to ``summary.json``.

Every number comes from ``matrix_games.metrics`` over that game's rounds (the mean over ``episodes * rounds``
rounds, as the paper averaged 50 games); nothing is re-implemented here. NaN (e.g. a reciprocity with no round to
condition on) is written as JSON ``null``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from llm_agents.evaluation.protocol import EvaluationConfig, stage_game
from matrix_games.actions import C
from matrix_games.metrics import (
    ACTION_TYPES,
    ANSWER_KINDS,
    action_type_counts,
    answer_kind,
    mean_and_ci95,
    mean_deontological_regret,
    mean_utilitarian_regret,
    rates,
    reciprocity,
    summarize,
)
from matrix_games.records import RoundLog

PROMPTS_SHOWING_STATE: tuple[str, ...] = ("unstructured", "poetic", "explicit_ipd", "unrelated_morality")
"""Other prompts that show the opponent's previous move, so that reciprocity means something for them."""

SUMMARY_FORMAT = 1
"""Version of the ``summary.json`` layout."""


def game_metrics(records: Sequence[RoundLog], config: EvaluationConfig) -> dict[str, Any]:
    """Every metric of one game's rounds: rates, regrets, action types, reciprocity and episode-level spread."""
    game = stage_game(config, records[0].game)
    regret = {"penalty": config.deontological_penalty, "illegal_cost": -config.illegal_reward}
    metrics = summarize(records, game, illegal_reward=config.illegal_reward, **regret)
    episodes = sorted({record.episode for record in records})
    per_episode = [[r for r in records if r.episode == e] for e in episodes]
    spread = {
        "deontological_regret": [mean_deontological_regret(rounds, **regret) for rounds in per_episode],
        "utilitarian_regret": [
            mean_utilitarian_regret(rounds, game, illegal_reward=config.illegal_reward) for rounds in per_episode
        ],
    }
    shares = rates(records)
    others = [move == C for r in records for i, move in enumerate(r.outcome.actions) if i != r.outcome.player]
    return {
        "title": game.title,
        "rounds": metrics.rounds,
        "cooperation_rate": metrics.cooperation_rate,
        "illegal_rate": shares["illegal_rate"],
        "deontological_regret": metrics.deontological_regret,
        "utilitarian_regret": metrics.utilitarian_regret,
        "mean_game_reward": shares["mean_game_reward"],
        "opponent_cooperation_rate": sum(record.opponent_action == C for record in records) / len(records),
        "opponent_previous_cooperation_rate": sum(r.opponent_previous_action == C for r in records) / len(records),
        "others_cooperation_rate": sum(others) / len(others),
        "action_type_counts": action_type_counts(records),
        "action_type_fractions": metrics.action_type_fractions,
        "reciprocity": _reciprocity_dict(records),
        "episode_spread": {name: _mean_ci(values) for name, values in spread.items()},
    }


def answer_shares(records: Sequence[RoundLog]) -> dict[str, Any]:
    """The share of answers that were the C label, the D label or anything else, and how many questions."""
    total = len(records)
    kinds = [answer_kind(record) for record in records]
    shares: dict[str, Any] = {kind: kinds.count(kind) / total for kind in ANSWER_KINDS}
    shares["questions"] = total
    if records[0].prompt_kind in PROMPTS_SHOWING_STATE:
        shares["action_type_counts"] = action_type_counts(records)
        shares["reciprocity"] = _reciprocity_dict(records)
    return shares


def summarize_evaluation(
    records: Sequence[RoundLog], config: EvaluationConfig, policy: dict[str, Any]
) -> dict[str, Any]:
    """The content of ``summary.json``: ``{"games": {...}, "other_prompts": {...}, "policy": ..., "protocol": ...}``."""
    games = {
        game: game_metrics([r for r in records if r.section == "games" and r.game == game], config)
        for game in config.games
    }
    others = {
        kind: answer_shares([r for r in records if r.section == "other_prompts" and r.prompt_kind == kind])
        for kind in config.other_prompts
    }
    summary = {
        "format": SUMMARY_FORMAT,
        "policy": policy,
        "protocol": config.to_dict(),
        "action_types": list(ACTION_TYPES),
        "games": games,
        "other_prompts": others,
    }
    return _json_safe(summary)


def _reciprocity_dict(records: Sequence[RoundLog]) -> dict[str, Any]:
    result = reciprocity(records)
    return {
        "cooperate_after_cooperation": result.cooperate_after_cooperation,
        "defect_after_defection": result.defect_after_defection,
        "score": result.score,
        "rounds_after_cooperation": result.rounds_after_cooperation,
        "rounds_after_defection": result.rounds_after_defection,
    }


def _mean_ci(values: Sequence[float]) -> dict[str, float]:
    mean, half_width = mean_and_ci95(values)
    return {"mean": mean, "ci95": half_width}


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(item) for item in value]
    return value
