"""The test protocol's expected results, computed instead of played (``llm-agents evaluate --exact``).

Each game of the protocol is a Markov chain (``matrix_games.play.markov``): the evaluated policy as its exact form (an
LLM as its policy table, ``llm_agents.analysis``; a strategy as itself), every other player the protocol's opponent,
episodes from a uniformly drawn previous round, ``rounds`` rounds each, illegal answers scored and remembered as the
environment does. The summary has the fields of a sampled one (``summary.py``), each the expectation its sampled
value estimates, and says ``"exact": true``; a report reads it like any evaluation. The other prompts are one-round
questions from a uniform previous round, as the protocol asks them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from llm_agents.evaluation.policies import Policy
from llm_agents.evaluation.protocol import OTHER_PROMPTS_GAME, EvaluationConfig, game_settings
from llm_agents.evaluation.summary import SUMMARY_FORMAT, exact_answer_shares, exact_game_metrics
from matrix_games.envs.settings import GameSettings
from matrix_games.metrics import ACTION_TYPES
from matrix_games.play.markov import ChainPlayer, MemoryOnePlayer, build_chain, representative_states, strategy_player


def opponent_player(config: EvaluationConfig) -> ChainPlayer:
    """The protocol's opponent as a chain player (``random`` with its P(C), or any strategy with an exact form)."""
    if config.opponent == "random":
        return strategy_player("random", p=config.opponent_cooperation_probability)
    return strategy_player(config.opponent)


def exact_player(policy: Policy, settings: GameSettings, game_id: str) -> tuple[ChainPlayer, dict[str, Any] | None]:
    """The policy's exact form on one environment, and its policy table as ``analysis.json`` holds it (None for a
    strategy); a policy without an exact form is refused."""
    make = getattr(policy, "exact_player", None)
    if make is None:
        raise ValueError(
            f"Policy {policy.name!r} ({type(policy).__name__}) has no exact form: evaluate --exact takes a strategy "
            "or an LLM; sample it instead (without --exact)."
        )
    return make(settings, game_id)


def evaluate_exactly(
    policy: Policy, config: EvaluationConfig, description: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The protocol's exact summary (``summary.json``'s layout, marked exact) and the policy tables behind it
    (``analysis.json``'s ``games``, by game and by other prompt)."""
    games, tables = {}, {}
    for game in config.games:
        settings = game_settings(config, game, config.table_order, config.rounds)
        rounds, table = _expected_rounds(policy, config, settings, game, config.rounds)
        games[game] = exact_game_metrics(rounds, config, game)
        if table is not None:
            tables[game] = {**table, "exact": games[game]}
    others, other_tables = {}, {}
    questions = config.episodes * config.rounds
    for kind in config.other_prompts:
        settings = game_settings(config, OTHER_PROMPTS_GAME, kind, 1)
        rounds, table = _expected_rounds(policy, config, settings, OTHER_PROMPTS_GAME, 1)
        others[kind] = exact_answer_shares(rounds, kind, questions)
        if table is not None:
            other_tables[kind] = {**table, "exact": others[kind]}
    summary = {
        "format": SUMMARY_FORMAT,
        "exact": True,
        "policy": {**description, "exact": True},
        "protocol": {**config.to_dict(), "exact": True},
        "action_types": list(ACTION_TYPES),
        "games": games,
        "other_prompts": others,
    }
    return summary, {"games": tables, "other_prompts": other_tables}


def _expected_rounds(
    policy: Policy, config: EvaluationConfig, settings: GameSettings, game_id: str, rounds: int
) -> tuple[list, dict[str, Any] | None]:
    player, table = exact_player(policy, settings, game_id)
    others = [opponent_player(config) for _ in range(settings.num_players - 1)]
    chain = build_chain(settings.stage_game, [player, *others], illegal_reward=config.illegal_reward)
    return chain.weighted_rounds(0, rounds=rounds), table


def analyse(
    policy: Policy, config: EvaluationConfig, out_dir: str | Path, *, label: str | None = None, figures: bool = True
) -> tuple[dict[str, Any], Path]:
    """``llm-agents analyse``: the policy tables and the protocol's expected results, written to
    ``out_dir/analysis.json`` (and drawn in ``analysis.png``); returns the content and the file."""
    from llm_agents.evaluation.folder import ANALYSIS_FILE, check_out_folder, make_out_folder, write_analysis
    from llm_agents.runs.folder import writing

    check_out_folder(out_dir)  # before the tables are computed
    description = {**policy.describe(), "label": label or policy.describe().get("label") or policy.name}
    summary, tables = evaluate_exactly(policy, config, description)
    for section, results in (("games", summary["games"]), ("other_prompts", summary["other_prompts"])):
        for name, exact in results.items():
            if name not in tables[section]:  # a strategy: its move probabilities per state, if memory-one
                game = name if section == "games" else OTHER_PROMPTS_GAME
                tables[section][name] = {**_strategy_states(policy, config, game), "exact": exact}
    out_dir = make_out_folder(out_dir)
    with writing(out_dir):  # a full disk or a read-only folder: one line with the fix
        path = write_analysis(out_dir / ANALYSIS_FILE, tables, summary)
    content = json.loads(path.read_text(encoding="utf-8"))
    if figures:
        from llm_agents.analysis.figures import draw_policy_tables

        states = {game: table["states"] for game, table in content["games"].items() if "states" in table}
        if states:
            labels = "/".join(config.labels)
            title = f"{description['label']}: exact answer distribution per state (labels {labels})"
            with writing(out_dir):
                draw_policy_tables(states, path.with_suffix(".png"), title)
    return content, path


def _strategy_states(policy: Policy, config: EvaluationConfig, game: str) -> dict[str, Any]:
    settings = game_settings(config, game, config.table_order, config.rounds)
    player, _ = exact_player(policy, settings, game)
    if not isinstance(player, MemoryOnePlayer):
        return {}
    states = representative_states(settings.num_players)
    return {
        "states": {
            name: dict(zip(("p_c", "p_d", "p_illegal"), player.moves(None, state, 0), strict=True))
            for name, state in states.items()
        }
    }
