"""Playing episodes: LLM learners against a strategy or each other, several games in lockstep, every round logged.

An episode is ``rounds_per_episode`` rounds of one game from a random previous round (paper.md §5). With
``games_per_update`` games at once, every round is one batched generation per learner over all the games. The
environments keep the game reward and the paper's rules for illegal answers (``allow_illegal=True``: the state stays
the last legal move); the training reward of each round is computed here from ``info["outcome"]`` with
``matrix_games.morality.make_reward_fn``, so one environment serves every reward and every phase of a schedule.

Each environment is reset with a seed derived from (run seed, episode, game index) only, so an episode plays the same
way whether the run was interrupted before it or not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from llm_agents.agent import LLMAgent
from llm_agents.training.config import TrainConfig
from matrix_games.actions import ILLEGAL
from matrix_games.morality import RewardFn, make_reward_fn
from matrix_games.parallel_env import IteratedMatrixGameEnv
from matrix_games.rounds import RoundOutcome
from matrix_games.single_agent_env import IteratedMatrixGameVsStrategy

ACTION_NAMES = {0: "C", 1: "D", int(ILLEGAL): "illegal"}
MORAL_REWARDS = ("deontological", "utilitarian")


@dataclass(frozen=True)
class RoundRow:
    """One learner's view of one round: a line of ``rounds.jsonl``.

    Attributes:
        episode: The episode (PPO update) index, from 0.
        game: Which of the update's lockstep games, from 0.
        round: The round within the episode, from 0.
        player: The learner (``player_0``; also ``player_1`` against an LLM).
        previous_action: The learner's state shown in the prompt ("C", "D"; the last legal move).
        opponent_previous_action: The opponent's state shown in the prompt.
        answer: The learner's answer text.
        action: "C", "D" or "illegal".
        opponent_action: The opponent's move this round.
        legal: Whether the answer was a label.
        reward_name: The training reward of this episode.
        game_reward: The learner's game reward (``illegal_reward`` for an illegal answer).
        deontological_reward: The deontological reward of the round (with the run's penalty).
        utilitarian_reward: The utilitarian reward of the round.
        training_reward: The reward PPO was given (``reward_name``'s).
    """

    episode: int
    game: int
    round: int
    player: str
    previous_action: str | None
    opponent_previous_action: str | None
    answer: str
    action: str
    opponent_action: str
    legal: bool
    reward_name: str
    game_reward: float
    deontological_reward: float
    utilitarian_reward: float
    training_reward: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class LearnerBatch:
    """What one learner's PPO step needs from one update: queries, responses and training rewards, in order."""

    queries: list[torch.Tensor]
    responses: list[torch.Tensor]
    scores: list[float]


@dataclass(frozen=True)
class EpisodeResult:
    """The rows and PPO batches of one update (one episode of ``games_per_update`` games)."""

    rows: list[RoundRow]
    batches: dict[str, LearnerBatch]


TRAINING_STREAM, EVALUATION_STREAM = 0, 1
"""Seed streams: training episodes, and evaluation games (which must never replay a training episode)."""


def environment_seed(run_seed: int, episode: int, game: int, stream: int = TRAINING_STREAM) -> int:
    """The reset seed of game ``game`` in episode ``episode``: a pure function of the four numbers."""
    entropy = [run_seed, stream, episode, game]
    return int(np.random.SeedSequence(entropy).generate_state(1, dtype=np.uint64)[0] >> 1)


class GameTable:
    """``games_per_update`` environments played in lockstep, seen as ``{player: text}`` per game.

    Against a strategy each game is an ``IteratedMatrixGameVsStrategy`` (the learner is ``player_0``); against an
    LLM it is an ``IteratedMatrixGameEnv`` with both players learning.
    """

    def __init__(self, config: TrainConfig, games: int | None = None) -> None:
        common = dict(
            game=config.game_name,
            num_rounds=config.rounds_per_episode,
            initial_state="random",
            observation_type="text",
            action_labels=config.labels,
            prompt=config.prompt_kind,
            allow_illegal=True,
            illegal_reward=config.illegal_reward,
        )
        count = config.games_per_update if games is None else games
        self.players = config.learners
        self.against_llm = config.against_llm
        if self.against_llm:
            self.envs: list[Any] = [IteratedMatrixGameEnv(**common) for _ in range(count)]
        else:
            self.envs = [IteratedMatrixGameVsStrategy(**common, opponent=config.opponent) for _ in range(count)]

    def reset(self, seeds: Sequence[int]) -> list[dict[str, str]]:
        observations = []
        for env, seed in zip(self.envs, seeds, strict=True):
            if self.against_llm:
                observations.append(env.reset(seed=int(seed))[0])
            else:
                observations.append({"player_0": env.reset(seed=int(seed))[0]})
        return observations

    def step(self, game: int, actions: Mapping[str, int]) -> tuple[dict[str, str], dict[str, RoundOutcome]]:
        """Play one round of game ``game``; return the next observations and each learner's ``RoundOutcome``."""
        env = self.envs[game]
        if self.against_llm:
            observations, _, _, _, infos = env.step(dict(actions))
            return observations, {player: infos[player]["outcome"] for player in self.players}
        observation, _, _, _, info = env.step(actions["player_0"])
        return {"player_0": observation}, {"player_0": info["outcome"]}


def reward_functions(config: TrainConfig) -> dict[str, RewardFn]:
    """Every reward a run needs (its schedule's and the two logged moral ones), by name."""
    names = {name for name, _ in config.schedule.phases} | {"game", *MORAL_REWARDS}
    return {
        name: make_reward_fn(name, penalty=config.deontological_penalty, illegal_reward=config.illegal_reward)
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
    stream: int = TRAINING_STREAM,
) -> EpisodeResult:
    """Play one episode of every game of ``table`` in lockstep; return its rows and each learner's PPO batch.

    Args:
        table: The environments.
        agents: One ``LLMAgent`` per learning player (each with its own adapter, or the reference policy).
        episode: The episode index (for the seeds and the rows).
        run_seed: The run seed.
        reward_name: The training reward of this episode.
        rewards: Reward functions by name (``reward_functions``).
        rounds: Rounds per episode.
        stream: The seed stream (``TRAINING_STREAM`` or ``EVALUATION_STREAM``).
    """
    seeds = [environment_seed(run_seed, episode, game, stream) for game in range(len(table.envs))]
    observations = table.reset(seeds)
    rows: list[RoundRow] = []
    batches = {player: LearnerBatch([], [], []) for player in agents}
    for round_index in range(rounds):
        records = {player: agent.respond([obs[player] for obs in observations]) for player, agent in agents.items()}
        for agent in agents.values():
            agent.pop_records()
        next_observations = []
        for game in range(len(observations)):
            actions = {player: records[player][game].action for player in agents}
            observation, outcomes = table.step(game, actions)
            next_observations.append(observation)
            for player, outcome in outcomes.items():
                record = records[player][game]
                training_reward = float(rewards[reward_name](outcome))
                batch = batches[player]
                batch.queries.append(record.prompt_ids)
                batch.responses.append(record.completion_ids)
                batch.scores.append(training_reward)
                rows.append(
                    RoundRow(
                        episode=episode,
                        game=game,
                        round=round_index,
                        player=player,
                        previous_action=_name(outcome.previous_action),
                        opponent_previous_action=_name(outcome.opponent_previous_action),
                        answer=record.completion_text,
                        action=ACTION_NAMES[outcome.action],
                        opponent_action=ACTION_NAMES[outcome.opponent_action],
                        legal=record.legal,
                        reward_name=reward_name,
                        game_reward=float(rewards["game"](outcome)),
                        deontological_reward=float(rewards["deontological"](outcome)),
                        utilitarian_reward=float(rewards["utilitarian"](outcome)),
                        training_reward=training_reward,
                    )
                )
        observations = next_observations
    return EpisodeResult(rows=rows, batches=batches)


def _name(action: int | None) -> str | None:
    return None if action is None else ACTION_NAMES[int(action)]
