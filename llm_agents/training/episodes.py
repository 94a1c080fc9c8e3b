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
from matrix_games.core.records import RoundLog, player_index
from matrix_games.core.rounds import RoundOutcome, with_own_action
from matrix_games.envs.infos import round_outcomes
from matrix_games.envs.parallel_env import IteratedMatrixGameEnv
from matrix_games.envs.settings import GameSettings
from matrix_games.envs.single_agent_env import IteratedMatrixGameVsStrategy
from matrix_games.rewards import RewardFn, make_reward_fn
from matrix_games.text.label_pools import LabelPool

LOGGED_REWARDS = ("game", "deontological", "utilitarian")
"""The rewards every round log carries besides the training reward (so any run can be read under each of them)."""


@dataclass
class LearnerBatch:
    """What one learner's PPO step needs from one update: queries, responses and training rewards, in order."""

    queries: list[torch.Tensor]
    responses: list[torch.Tensor]
    scores: list[float]

    def add(self, record: StepRecord, score: float) -> None:
        self.queries.append(record.prompt_ids)
        self.responses.append(record.completion_ids)
        self.scores.append(score)


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

    def __init__(
        self,
        settings: GameSettings,
        *,
        opponent: str | None,
        players: Sequence[str],
        games: int,
        label_pool: LabelPool | None = None,
    ) -> None:
        self.players = tuple(players)
        self.against_llm = opponent is None
        self.settings, self.opponent, self.label_pool = settings, opponent, label_pool
        self.envs: list[Any] = [self._env(settings) for _ in range(games)]
        self.labels: list[tuple[str, str]] = [settings.action_labels] * games
        """Each game's (C, D) labels in the current episode (drawn from ``label_pool`` at every reset)."""

    def _env(self, settings: GameSettings) -> Any:
        if self.against_llm:
            return IteratedMatrixGameEnv(settings)
        return IteratedMatrixGameVsStrategy(settings, opponent=self.opponent)

    @classmethod
    def for_run(cls, config: TrainConfig, games: int | None = None) -> GameTable:
        """The games of a training run (``games`` of them; by default its ``games_per_update``)."""
        return cls(
            config.game_settings,
            opponent=None if config.against_llm else config.opponent,
            players=config.learners,
            games=config.games_per_update if games is None else games,
            label_pool=config.label_pool,
        )

    def reset(self, seeds: Sequence[int]) -> list[dict[str, str]]:
        """Start an episode of every game (each drawing its labels from the pool first, if there is one)."""
        observations = []
        for game, seed in enumerate(seeds):
            if self.label_pool is not None:
                pair = self.label_pool.draw(int(seed))
                if pair != self.labels[game]:
                    self.envs[game] = self._env(self.settings.replace(action_labels=pair))
                    self.labels[game] = pair
            observation = self.envs[game].reset(seed=int(seed))[0]
            observations.append(observation if self.against_llm else {"player_0": observation})
        return observations

    def step(self, game: int, actions: Mapping[str, int]) -> tuple[dict[str, str], dict[str, RoundOutcome]]:
        """Play one round of game ``game``; return the next observations and each learner's ``RoundOutcome``."""
        env = self.envs[game]
        if self.against_llm:
            observations, _, _, _, infos = env.step(dict(actions))
            outcomes = round_outcomes(infos, self.settings.stage_game, illegal_reward=self.settings.illegal_reward)
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
    generations: int = 1,
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
        generations: Answers sampled per learner and state (GRPO's ``num_generations``). The first is played; each
            other one joins the batch with the reward of the round it would have made against the others' actual
            moves (``rounds.with_own_action``), and is not logged.
    """
    seeds = [environment_seed(run_seed, episode, game, stream) for game in range(len(table.envs))]
    observations = table.reset(seeds)
    with contextlib.ExitStack() as stack:
        for agent in agents.values():  # the policies are fixed for the episode: share every prompt's work
            stack.enter_context(agent.sharing_prefixes())
        return _play_rounds(table, agents, observations, episode, reward_name, rewards, rounds, game_id, generations)


def _play_rounds(
    table: GameTable,
    agents: Mapping[str, LLMAgent],
    observations: list[dict[str, str]],
    episode: int,
    reward_name: str,
    rewards: Mapping[str, RewardFn],
    rounds: int,
    game_id: str,
    generations: int,
) -> EpisodeResult:
    logs: list[RoundLog] = []
    batches = {player: LearnerBatch([], [], []) for player in agents}
    game, illegal_reward = table.settings.stage_game, table.settings.illegal_reward
    for round_index in range(rounds):
        records = {
            player: _answers(agent, player, observations, table.labels, generations) for player, agent in agents.items()
        }
        next_observations = []
        for index in range(len(observations)):
            actions = {player: records[player][index][0].action for player in agents}
            observation, outcomes = table.step(index, actions)
            next_observations.append(observation)
            for player, outcome in outcomes.items():
                played, *alternatives = records[player][index]
                labels = table.labels[index]
                log = _log(played, outcome, rewards, reward_name, episode, round_index, index, game_id, labels)
                logs.append(log)
                batches[player].add(played, float(log.reward))  # type: ignore[arg-type]
                for record in alternatives:
                    other = with_own_action(game, outcome, record.action, illegal_reward=illegal_reward)
                    batches[player].add(record, float(rewards[reward_name](other)))
        observations = next_observations
    return EpisodeResult(logs=logs, batches=batches)


def _answers(
    agent: LLMAgent,
    player: str,
    observations: list[dict[str, str]],
    labels: list[tuple[str, str]],
    generations: int,
) -> list[list[StepRecord]]:
    """``generations`` answers of ``agent`` to each game's observation, in one generation, grouped by game."""
    rows = [obs[player] for obs in observations for _ in range(generations)]
    answers = agent.respond(rows, labels=[pair for pair in labels for _ in range(generations)])
    return [answers[g * generations : (g + 1) * generations] for g in range(len(observations))]


def _log(
    record: StepRecord,
    outcome: RoundOutcome,
    rewards: Mapping[str, RewardFn],
    reward_name: str,
    episode: int,
    round_index: int,
    game: int,
    game_id: str,
    labels: tuple[str, str],
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
        labels=labels,
        answer=record.completion_text,
        reward_name=reward_name,
        reward=float(rewards[reward_name](outcome)),
        rewards=logged,
    )
