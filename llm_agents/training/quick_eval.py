"""A quick check of what a run learned: its agent plays fresh games against the training opponent, no learning.

The games are the run's (same game, labels, prompt, rounds per episode and rewards) but drawn from a separate seed
stream, so they never replay a training episode; all of them are played in lockstep, one batched generation per
round. Comparing the base model (``LLMAgent(..., reference=True)`` or the model before training) with the trained
adapter on the same games gives a before/after summary. For the paper's full test protocol (five games, a random
opponent, new labels) use ``llm_agents.evaluation``.
"""

from __future__ import annotations

from typing import Any

from llm_agents.agent.llm_agent import LLMAgent
from llm_agents.training.config import TrainConfig
from llm_agents.training.episodes import EVALUATION_STREAM, GameTable, play_episode, reward_functions
from matrix_games.core.records import RoundLog
from matrix_games.core.validation import check_int
from matrix_games.metrics import rates


def play_evaluation_games(agent: LLMAgent, config: TrainConfig, games: int) -> list[RoundLog]:
    """``games`` episodes of the run's game against its opponent strategy, played by ``agent``; no PPO step.

    Raises:
        ValueError: for a run against an LLM (whose opponent is not a fixed strategy).
    """
    if config.against_llm:
        raise ValueError(
            "A quick evaluation plays against the run's opponent strategy, but this run trained against an LLM; "
            "evaluate its adapter with llm_agents.evaluation (the paper's protocol) instead."
        )
    check_int("games", games, minimum=1)
    result = play_episode(
        GameTable.for_run(config, games=games),
        {"player_0": agent},
        episode=0,
        run_seed=config.seed,
        reward_name=config.schedule.reward_name(config.num_episodes - 1),
        rewards=reward_functions(config),
        rounds=config.num_rounds,
        game_id=config.env_id,
        stream=EVALUATION_STREAM,
    )
    return result.logs


def evaluate_agent(agent: LLMAgent, config: TrainConfig, games: int = 10) -> dict[str, Any]:
    """Cooperation, defection and illegal rates, mean rewards and action-type shares over ``games`` fresh games."""
    return rates(play_evaluation_games(agent, config, games))
