"""Playing episodes: LLM learners against a strategy or each other, several games in lockstep, every round logged.

An episode is ``num_rounds`` rounds of one game from a random previous round (the paper's episode). With
``games_per_update`` games at once, every round is one batched generation per learner over all the games. The
environments score the game and apply the paper's rules for illegal answers (``allow_illegal=True``: the state stays
the last legal move); the training reward of each round is the reward function of the current phase applied to the
round's ``RoundOutcome``, so one environment serves every reward and every phase of a schedule.

Each environment is reset with a seed derived from (run seed, episode, game index) only, so an episode plays the same
way whether the run was interrupted before it or not.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from llm_agents.agent.llm_agent import LLMAgent, StepRecord
from llm_agents.training.config import TrainConfig
from matrix_games.parallel_env import IteratedMatrixGameEnv
from matrix_games.records import RoundLog, player_index
from matrix_games.rewards import RewardFn, make_reward_fn
from matrix_games.rounds import RoundOutcome
from matrix_games.settings import GameSettings
from matrix_games.single_agent_env import IteratedMatrixGameVsStrategy

LOGGED_REWARDS = ("game", "deontological", "utilitarian")
"""The rewards every round log carries besides the training reward (so any run can be read under each of them)."""


@dataclass
class LearnerBatch:
    """What one learner's PPO step needs from one update: queries, responses and training rewards, in order."""

    queries: list[torch.Tensor]
    responses: list[torch.Tensor]
    scores: list[float]


@dataclass(frozen=True)
class EpisodeResult:
    """The round logs and PPO batches of one update (one episode of ``games_per_update`` games)."""

    logs: list[RoundLog]
    batches: dict[str, LearnerBatch]


TRAINING_STREAM, EVALUATION_STREAM = 0, 1
"""Seed streams: training episodes, and evaluation games (which must never replay a training episode)."""


def environment_seed(run_seed: int, episode: int, game: int, stream: int = TRAINING_STREAM) -> int:
    """The reset seed of game ``game`` in episode ``episode``: a pure function of the four numbers."""
    entropy = [run_seed, stream, episode, game]
    return int(np.random.SeedSequence(entropy).generate_state(1, dtype=np.uint64)[0] >> 1)


class GameTable:
    """Environments played in lockstep, seen as ``{player: text}`` per game.

    Against a strategy each game is an ``IteratedMatrixGameVsStrategy`` (the learner is ``player_0``); against an
    LLM it is an ``IteratedMatrixGameEnv`` with both players learning.
    """

    def __init__(self, settings: GameSettings, *, opponent: str | None, players: Sequence[str], games: int) -> None:
        self.players = tuple(players)
        self.against_llm = opponent is None
        if self.against_llm:
            self.envs: list[Any] = [IteratedMatrixGameEnv(settings) for _ in range(games)]
        else:
            self.envs = [IteratedMatrixGameVsStrategy(settings, opponent=opponent) for _ in range(games)]

    @classmethod
    def for_run(cls, config: TrainConfig, games: int | None = None) -> GameTable:
        """The games of a training run (``games`` of them; by default its ``games_per_update``)."""
        return cls(
            config.game_settings,
            opponent=None if config.against_llm else config.opponent,
            players=config.learners,
            games=config.games_per_update if games is None else games,
        )

    def reset(self, seeds: Sequence[int]) -> list[dict[str, str]]:
        observations = []
        for env, seed in zip(self.envs, seeds, strict=True):
            observation = env.reset(seed=int(seed))[0]
            observations.append(observation if self.against_llm else {"player_0": observation})
        return observations

    def step(self, game: int, actions: Mapping[str, int]) -> tuple[dict[str, str], dict[str, RoundOutcome]]:
        """Play one round of game ``game``; return the next observations and each learner's ``RoundOutcome``."""
        env = self.envs[game]
        if self.against_llm:
            observations, *_ = env.step(dict(actions))
            outcomes = env.unwrapped.last_outcomes
            return observations, {player: outcomes[player_index(player)] for player in self.players}
        observation, _, _, _, info = env.step(actions["player_0"])
        return {"player_0": observation}, {"player_0": info["outcome"]}


def reward_functions(config: TrainConfig) -> dict[str, RewardFn]:
    """Every reward a run needs (its schedule's and the logged ones), by name."""
    names = {name for name, _ in config.schedule.phases} | set(LOGGED_REWARDS)
    parameters = config.rewards_parameters
    return {
        name: make_reward_fn(name, illegal_reward=config.illegal_reward, parameters=parameters)
        for name in sorted(names)
    }


def play_episode(
    table: GameTable,
    agents: Mapping[str, LLMAgent],
    *,
    episode: int,
    run_seed: int,
    reward_name: str,
    rewards: Mapping[str, RewardFn],
    rounds: int,
    game_id: str,
    stream: int = TRAINING_STREAM,
) -> EpisodeResult:
    """Play one episode of every game of ``table`` in lockstep; return its logs and each learner's PPO batch.

    Args:
        table: The environments.
        agents: One ``LLMAgent`` per learning player (each with its own adapter, or the reference policy).
        episode: The episode index (for the seeds and the logs).
        run_seed: The run seed.
        reward_name: The training reward of this episode.
        rewards: Reward functions by name (``reward_functions``).
        rounds: Rounds per episode.
        game_id: The environment id the logs name.
        stream: The seed stream (``TRAINING_STREAM`` or ``EVALUATION_STREAM``).
    """
    seeds = [environment_seed(run_seed, episode, game, stream) for game in range(len(table.envs))]
    observations = table.reset(seeds)
    with contextlib.ExitStack() as stack:
        for agent in agents.values():  # the policies are fixed for the episode: share every prompt's work
            stack.enter_context(agent.sharing_prefixes())
        return _play_rounds(table, agents, observations, episode, reward_name, rewards, rounds, game_id)


def _play_rounds(
    table: GameTable,
    agents: Mapping[str, LLMAgent],
    observations: list[dict[str, str]],
    episode: int,
    reward_name: str,
    rewards: Mapping[str, RewardFn],
    rounds: int,
    game_id: str,
) -> EpisodeResult:
    logs: list[RoundLog] = []
    batches = {player: LearnerBatch([], [], []) for player in agents}
    for round_index in range(rounds):
        records = {player: agent.respond([obs[player] for obs in observations]) for player, agent in agents.items()}
        next_observations = []
        for game in range(len(observations)):
            observation, outcomes = table.step(game, {player: records[player][game].action for player in agents})
            next_observations.append(observation)
            for player, outcome in outcomes.items():
                record = records[player][game]
                log = _log(record, outcome, rewards, reward_name, episode, round_index, game, game_id, agents[player])
                logs.append(log)
                batch = batches[player]
                batch.queries.append(record.prompt_ids)
                batch.responses.append(record.completion_ids)
                batch.scores.append(float(log.reward))  # type: ignore[arg-type]
        observations = next_observations
    return EpisodeResult(logs=logs, batches=batches)


def _log(
    record: StepRecord,
    outcome: RoundOutcome,
    rewards: Mapping[str, RewardFn],
    reward_name: str,
    episode: int,
    round_index: int,
    game: int,
    game_id: str,
    agent: LLMAgent,
) -> RoundLog:
    logged = {name: float(rewards[name](outcome)) for name in LOGGED_REWARDS}
    logged["game"] = outcome.game_reward  # the environment's own score
    return RoundLog(
        outcome=outcome,
        episode=episode,
        round=round_index,
        match=game,
        game=game_id,
        section="train",
        labels=agent.labels,
        answer=record.completion_text,
        reward_name=reward_name,
        reward=float(rewards[reward_name](outcome)),
        rewards=logged,
    )
