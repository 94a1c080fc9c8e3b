"""Moral reward wrappers: replace the game payoff by a reward from ``matrix_games.rewards``, fixed or switched by
episode.

The Gymnasium view publishes the learner's ``RoundOutcome`` in ``info["outcome"]``; the PettingZoo env's infos hold
numbers only, from which ``infos.round_outcomes`` rebuilds every player's. A wrapper takes the outcome, computes the
reward, and returns it in place of the game payoff. The game payoff stays in ``info["game_reward"]`` and the new
reward is also written to ``info["moral_reward"]`` (with ``info["reward_name"]``), so logs see both.

A ``RewardSchedule`` switches the reward by episode count, as the paper's unlearning runs did (500 episodes of the
game reward, then 500 of a moral one): ``RewardSchedule.parse("game:500,deontological:500")``. Episodes are counted
by ``reset()`` calls, starting at 0. After the last phase the last reward stays.

One rule for illegal answers everywhere: ``illegal_reward`` under every reward (``rewards.registry``); by default the
wrapper takes it from the wrapped env, so the two always agree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import gymnasium
from pettingzoo.utils import BaseParallelWrapper

from matrix_games.core.records import player_name
from matrix_games.core.rounds import RoundOutcome
from matrix_games.envs.infos import round_outcomes
from matrix_games.rewards import (
    DEFAULT_ILLEGAL_REWARD,
    RewardFn,
    RewardParameters,
    RewardSchedule,
    as_schedule,
    make_reward_fn,
)
from matrix_games.rewards.registry import with_old_penalty


class EpisodeRewards:
    """The reward of each round: a fixed reward function, or the one a ``RewardSchedule`` picks for this episode.

    Shared by the wrappers below (and so by the ``reward=`` argument of ``gymnasium.make``).

    Args:
        reward: A reward name, a schedule (or its string), or any function ``RoundOutcome -> float``.
        illegal_reward: The reward of an illegal answer under every reward.
        reward_parameters: The frameworks' parameters by name (``{"deontological_penalty": 3.0, "kindness": 2.0}``,
            ``inequity_alpha``, ``inequity_beta``; ``RewardParameters`` has the defaults).
    """

    def __init__(
        self,
        reward: str | RewardSchedule | RewardFn,
        *,
        illegal_reward: float = DEFAULT_ILLEGAL_REWARD,
        reward_parameters: Mapping[str, float] | RewardParameters | None = None,
    ) -> None:
        self.parameters = RewardParameters.of(reward_parameters)
        self.deontological_penalty = self.parameters.deontological_penalty
        self.illegal_reward = float(illegal_reward)
        self.episode = -1
        if callable(reward) and not isinstance(reward, (str, RewardSchedule)):
            self.schedule: RewardSchedule | None = None
            self._fixed: Callable[[Any], float] | None = reward
            self.name = getattr(reward, "__name__", type(reward).__name__)
        else:
            self.schedule = as_schedule(reward)
            self._fixed = None
            self.name = self.schedule.reward_name(0)
        self._fn = self._fixed or self._make(self.name)

    def start_episode(self) -> None:
        """Count one more episode (call on every reset) and pick its reward."""
        self.episode += 1
        if self.schedule is not None:
            name = self.schedule.reward_name(self.episode)
            if name != self.name:
                self.name, self._fn = name, self._make(name)

    def __call__(self, info: dict[str, Any]) -> float:
        """The reward for the round described by ``info`` (which gains ``moral_reward`` and ``reward_name``)."""
        if "outcome" not in info:
            raise ValueError(
                f"info has no 'outcome' (keys: {sorted(info)}); moral rewards need a matrix_games environment, "
                "whose step() infos carry the RoundOutcome."
            )
        return self.of_outcome(info["outcome"], info)

    def of_outcome(self, outcome: RoundOutcome, info: dict[str, Any], *, name: bool = True) -> float:
        """The reward of ``outcome``, also written to ``info`` (``moral_reward``, and ``reward_name`` if ``name``)."""
        reward = float(self._fn(outcome))
        info["moral_reward"] = reward
        if name:
            info["reward_name"] = self.name
        return reward

    def _make(self, name: str) -> RewardFn:
        return make_reward_fn(name, illegal_reward=self.illegal_reward, parameters=self.parameters)


def _env_illegal_reward(env: Any, illegal_reward: float | None) -> float:
    if illegal_reward is not None:
        return float(illegal_reward)
    return float(getattr(env.unwrapped, "illegal_reward", DEFAULT_ILLEGAL_REWARD))


class MoralReward(gymnasium.Wrapper, gymnasium.utils.RecordConstructorArgs):
    """Single-agent: return ``reward(info["outcome"])`` instead of the game payoff.

    ``reward`` is a name from ``REWARD_NAMES``, any ``RoundOutcome -> float`` function, or a ``RewardSchedule`` (or
    its string, e.g. ``"game:500,deontological:500"``): the wrapper then switches reward by episode count, counting
    ``reset()`` calls.

    Example:
        >>> import matrix_games
        >>> env = MoralReward(gymnasium.make("matrix_games/IPD-v0"), "deontological")
    """

    def __init__(
        self,
        env: gymnasium.Env,
        reward: str | RewardSchedule | RewardFn,
        *,
        illegal_reward: float | None = None,
        reward_parameters: Mapping[str, float] | RewardParameters | None = None,
        deontological_penalty: float | None = None,
    ) -> None:
        parameters = with_old_penalty(reward_parameters, deontological_penalty, "MoralReward")
        gymnasium.utils.RecordConstructorArgs.__init__(
            self, reward=reward, illegal_reward=illegal_reward, reward_parameters=parameters.to_dict()
        )
        gymnasium.Wrapper.__init__(self, env)
        self.rewards = EpisodeRewards(
            reward, illegal_reward=_env_illegal_reward(env, illegal_reward), reward_parameters=parameters
        )

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        self.rewards.start_episode()
        observation, info = self.env.reset(seed=seed, options=options)
        return observation, {**info, "reward_name": self.rewards.name}

    def step(self, action):
        observation, _, terminated, truncated, info = self.env.step(action)
        return observation, self.rewards(info), terminated, truncated, info


class MoralRewardParallel(BaseParallelWrapper):
    """PettingZoo parallel: each player's reward becomes ``reward`` of its ``RoundOutcome`` (``infos.round_outcomes``).

    Its infos stay numbers with the same keys at reset and step (``moral_reward`` added to both, 0.0 at reset); the
    reward's name is ``wrapper.rewards.name``.

    Arguments as ``MoralReward``; both players use the same reward (wrap twice-built envs for mixed settings).
    """

    def __init__(
        self,
        env: Any,
        reward: str | RewardSchedule | RewardFn,
        *,
        illegal_reward: float | None = None,
        reward_parameters: Mapping[str, float] | RewardParameters | None = None,
        deontological_penalty: float | None = None,
    ) -> None:
        super().__init__(env)
        self._settings = env.unwrapped.settings  # the game that scores the rounds whose infos step returns
        parameters = with_old_penalty(reward_parameters, deontological_penalty, "MoralRewardParallel")
        self.rewards = EpisodeRewards(
            reward, illegal_reward=_env_illegal_reward(env, illegal_reward), reward_parameters=parameters
        )

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None):
        self.rewards.start_episode()
        observations, infos = self.env.reset(seed=seed, options=options)
        return observations, {agent: {**info, "moral_reward": 0.0} for agent, info in infos.items()}

    def step(self, actions):
        observations, rewards, terminations, truncations, infos = self.env.step(actions)
        game, illegal = self._settings.stage_game, self._settings.illegal_reward
        for outcome in round_outcomes(infos, game, illegal_reward=illegal):
            agent = player_name(outcome.player)
            if agent in rewards:
                rewards[agent] = self.rewards.of_outcome(outcome, infos[agent], name=False)
        return observations, rewards, terminations, truncations, infos
