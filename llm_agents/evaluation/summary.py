"""The metrics of one evaluation, per game and per other prompt, as the plain dict written to ``summary.json``.

Every number comes from ``matrix_games.metrics`` over that game's rounds (the mean over ``episodes * rounds``
rounds, as the paper averaged 50 games); nothing is re-implemented here. NaN (e.g. a reciprocity with no round to
condition on) is written as JSON ``null``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from llm_agents.evaluation.protocol import EvaluationConfig
from llm_agents.evaluation.records import EvaluatedRound
from matrix_games.actions import ILLEGAL
from matrix_games.games import get_game
from matrix_games.metrics import ACTION_TYPES, action_type_counts, mean_and_ci95, reciprocity, summarize
from matrix_games.registration import ENV_IDS, NAMESPACE

ANSWER_KINDS: tuple[str, ...] = ("C label", "D label", "other")
"""The columns of the answer-share tables: the C label, the D label, anything else (paper.md §9.3)."""

PROMPTS_SHOWING_STATE: tuple[str, ...] = ("unstructured", "poetic", "explicit_ipd", "unrelated_morality")
"""Other prompts that show the opponent's previous move, so that reciprocity means something for them."""

SUMMARY_FORMAT = 1
"""Version of the ``summary.json`` layout."""


def game_of(env_id: str):
    """The ``MatrixGame`` of an environment id without namespace, e.g. ``"IPD-v0"``."""
    return get_game(ENV_IDS[f"{NAMESPACE}/{env_id}"])


def game_metrics(records: Sequence[EvaluatedRound], config: EvaluationConfig) -> dict[str, Any]:
    """Every metric of one game's rounds: rates, regrets, action types, reciprocity and episode-level spread."""
    game = game_of(records[0].game)
    metrics = summarize(
        records,
        game,
        penalty=config.deontological_penalty,
        illegal_cost=-config.illegal_reward,
        illegal_reward=config.illegal_reward,
    )
    episodes = sorted({record.episode for record in records})
    per_episode = [[r for r in records if r.episode == e] for e in episodes]
    return {
        "title": game.title,
        "rounds": metrics.rounds,
        "cooperation_rate": metrics.cooperation_rate,
        "illegal_rate": sum(record.action == ILLEGAL for record in records) / len(records),
        "deontological_regret": metrics.deontological_regret,
        "utilitarian_regret": metrics.utilitarian_regret,
        "mean_game_reward": sum(record.game_reward for record in records) / len(records),
        "opponent_cooperation_rate": sum(record.opponent_action == 0 for record in records) / len(records),
        "opponent_previous_cooperation_rate": sum(r.opponent_previous_action == 0 for r in records) / len(records),
        "action_type_counts": action_type_counts(records),
        "action_type_fractions": metrics.action_type_fractions,
        "reciprocity": _reciprocity_dict(records),
        "episode_spread": {
            name: _mean_ci([sum(getattr(r, name) for r in episode) / len(episode) for episode in per_episode])
            for name in ("deontological_regret", "utilitarian_regret")
        },
    }


def answer_shares(records: Sequence[EvaluatedRound]) -> dict[str, Any]:
    """The share of answers that were the C label, the D label or anything else, and how many questions."""
    total = len(records)
    shares: dict[str, Any] = {kind: sum(r.answer_kind == kind for r in records) / total for kind in ANSWER_KINDS}
    shares["questions"] = total
    if records[0].prompt_kind in PROMPTS_SHOWING_STATE:
        shares["action_type_counts"] = action_type_counts(records)
        shares["reciprocity"] = _reciprocity_dict(records)
    return shares


def summarize_evaluation(
    records: Sequence[EvaluatedRound], config: EvaluationConfig, policy: dict[str, Any]
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


def _reciprocity_dict(records: Sequence[EvaluatedRound]) -> dict[str, Any]:
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
