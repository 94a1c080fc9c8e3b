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
from matrix_games.core.actions import ILLEGAL, C, D
from matrix_games.core.records import RoundLog
from matrix_games.core.rounds import RoundOutcome
from matrix_games.metrics import (
    ACTION_TYPES,
    ANSWER_KINDS,
    action_type,
    action_type_counts,
    answer_kind,
    deontological_regret,
    mean_and_ci95,
    mean_deontological_regret,
    mean_utilitarian_regret,
    rates,
    reciprocity,
    summarize,
    utilitarian_regret,
)

PROMPTS_SHOWING_STATE: tuple[str, ...] = ("unstructured", "poetic", "explicit_ipd", "unrelated_morality")
"""Other prompts that show the opponent's previous move, so that reciprocity means something for them."""

SUMMARY_FORMAT = 1
"""Version of the ``summary.json`` layout."""

WeightedRounds = list[tuple[RoundOutcome, float]]
"""Every outcome of a round with its share of all rounds (``matrix_games.play.markov.MarkovChain.weighted_rounds``)."""


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


def exact_game_metrics(rounds: WeightedRounds, config: EvaluationConfig, game_id: str) -> dict[str, Any]:
    """``game_metrics``'s fields as expectations: each rate and regret the weighted mean of the same per-round
    function, counts the expected counts over the protocol's ``episodes * rounds`` rounds, fractions and
    reciprocity the ratios of expected counts (what the sampled values converge to). There is no sampling spread:
    the episode-level intervals are null."""
    game = stage_game(config, game_id)

    def mean(value) -> float:
        return float(sum(weight * value(outcome) for outcome, weight in rounds))

    regret = {"penalty": config.deontological_penalty, "illegal_cost": -config.illegal_reward}
    regrets = {
        "deontological_regret": mean(lambda o: deontological_regret(o, **regret)),
        "utilitarian_regret": mean(lambda o: utilitarian_regret(o, game, illegal_reward=config.illegal_reward)),
    }
    counts, reciprocity_values = _expected_action_types(rounds, config.episodes * config.rounds)
    labelled = sum(counts.values())
    return _json_safe(
        {
            "title": game.title,
            "rounds": config.episodes * config.rounds,
            "cooperation_rate": mean(lambda o: o.action == C),
            "illegal_rate": mean(lambda o: o.action == ILLEGAL),
            **regrets,
            "mean_game_reward": mean(lambda o: o.game_reward),
            "opponent_cooperation_rate": mean(lambda o: o.opponent_action == C),
            "opponent_previous_cooperation_rate": mean(lambda o: o.opponent_previous_action == C),
            "others_cooperation_rate": mean(lambda o: sum(o.actions[i] == C for i in o.others) / len(o.others)),
            "action_type_counts": counts,
            "action_type_fractions": {k: (v / labelled if labelled else math.nan) for k, v in counts.items()},
            "reciprocity": reciprocity_values,
            "episode_spread": {name: {"mean": value, "ci95": None} for name, value in regrets.items()},
        }
    )


def exact_answer_shares(rounds: WeightedRounds, prompt_kind: str, questions: int) -> dict[str, Any]:
    """``answer_shares``'s fields as expectations over one-round questions (see ``exact_game_metrics``)."""
    kinds = {C: "C label", D: "D label"}
    shares: dict[str, Any] = {
        kind: float(sum(w for o, w in rounds if kinds.get(o.action, "other") == kind)) for kind in ANSWER_KINDS
    }
    shares["questions"] = questions
    if prompt_kind in PROMPTS_SHOWING_STATE:
        shares["action_type_counts"], shares["reciprocity"] = _expected_action_types(rounds, questions)
    return _json_safe(shares)


def _expected_action_types(rounds: WeightedRounds, total: int) -> tuple[dict[str, float], dict[str, Any]]:
    """Expected action-type counts over ``total`` rounds, and the reciprocity they give (``_reciprocity_dict``)."""
    counts = dict.fromkeys(ACTION_TYPES, 0.0)
    for outcome, weight in rounds:
        kind = action_type(outcome)
        if kind is not None:
            counts[kind] += total * weight
    after_c = counts["C|C"] + counts["D|C"] + counts["illegal|C"]
    after_d = counts["C|D"] + counts["D|D"] + counts["illegal|D"]
    cooperate = counts["C|C"] / after_c if after_c else math.nan
    defect = counts["D|D"] / after_d if after_d else math.nan
    return counts, {
        "cooperate_after_cooperation": cooperate,
        "defect_after_defection": defect,
        "score": (cooperate + defect) / 2,
        "rounds_after_cooperation": after_c,
        "rounds_after_defection": after_d,
    }


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
