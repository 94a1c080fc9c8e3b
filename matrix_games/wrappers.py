"""Moral reward wrappers: replace the game payoff by a reward from ``morality.py``, fixed or switched by episode.

The environments publish each player's ``RoundOutcome`` in ``info["outcome"]``; a wrapper reads it, computes the
reward, and returns it in place of the game payoff. The game payoff stays in ``info["game_reward"]`` and the new
reward is also written to ``info["moral_reward"]`` (with ``info["reward_name"]``), so logs see both.

A ``RewardSchedule`` switches the reward by episode count, as the paper's unlearning runs did (500 episodes of the
game reward, then 500 of a moral one): ``RewardSchedule.parse("game:500,deontological:500")``. Episodes are counted
by ``reset()`` calls, starting at 0. After the last phase the last reward stays.

One rule for illegal answers everywhere: ``illegal_reward`` under every reward (``morality.py``); by default the
wrapper takes it from the wrapped env, so the two always agree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gymnasium
from pettingzoo.utils import BaseParallelWrapper

from matrix_games.morality import (
    DEFAULT_DEONTOLOGICAL_PENALTY,
    DEFAULT_ILLEGAL_REWARD,
    RewardFn,
    check_reward_name,
    make_reward_fn,
)


@dataclass(frozen=True)
class RewardSchedule:
    """Rewards by episode: ``phases[i] = (reward_name, number_of_episodes)``; the last count may be None (forever).

    Example:
        >>> schedule = RewardSchedule.parse("game:500,deontological:500")
        >>> schedule.reward_name(499), schedule.reward_name(500), schedule.reward_name(10_000)
        ('game', 'deontological', 'deontological')
    """

    phases: tuple[tuple[str, int | None], ...]

    def __post_init__(self) -> None:
        phases = tuple((name, count) for name, count in self.phases)
        if not phases:
            raise ValueError("A RewardSchedule needs at least one phase, e.g. RewardSchedule.parse('game:500').")
        for index, (name, count) in enumerate(phases):
            check_reward_name(name)
            last = index == len(phases) - 1
            if count is None and not last:
                raise ValueError(
                    f"Only the last phase of a reward schedule may run forever; phase {index} ({name!r}) has no "
                    "episode count. Write e.g. 'game:500,deontological'."
                )
            if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
                raise ValueError(
                    f"Phase {index} ({name!r}) of a reward schedule has episode count {count!r}; "
                    "expected a positive integer, e.g. 'game:500'."
                )
        object.__setattr__(self, "phases", phases)

    @classmethod
    def parse(cls, text: str) -> RewardSchedule:
        """Read ``"name:episodes,name:episodes,..."``; the last phase may omit ``:episodes`` (it then never ends)."""
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"Cannot read reward schedule {text!r}: expected e.g. 'game:500,deontological:500'.")
        phases: list[tuple[str, int | None]] = []
        for part in text.split(","):
            name, _, count = part.strip().partition(":")
            if not count.strip():
                phases.append((name.strip(), None))
                continue
            try:
                phases.append((name.strip(), int(count)))
            except ValueError:
                raise ValueError(
                    f"Cannot read {part.strip()!r} in reward schedule {text!r}: the episode count must be an "
                    "integer, e.g. 'game:500,deontological:500'."
                ) from None
        return cls(tuple(phases))

    def switch_episodes(self, episodes: int | None = None) -> tuple[int, ...]:
        """The episodes at which the reward changes (before ``episodes``, if given).

        Example:
            >>> RewardSchedule.parse("game:10,deontological:10").switch_episodes()
            (10,)
        """
        switches, start = [], 0
        for _, count in self.phases[:-1]:
            start += count  # type: ignore[operator]
            if episodes is None or start < episodes:
                switches.append(start)
        return tuple(switches)

    @property
    def total_episodes(self) -> int | None:
        """The episodes the phases cover, or None when the last phase runs forever."""
        counts = [count for _, count in self.phases]
        return None if None in counts else sum(counts)  # type: ignore[arg-type]

    def reward_name(self, episode: int) -> str:
        """The reward used in episode ``episode`` (0-based)."""
        start = 0
        for name, count in self.phases:
            if count is None or episode < start + count:
                return name
            start += count
        return self.phases[-1][0]

    def __str__(self) -> str:
        return ",".join(name if count is None else f"{name}:{count}" for name, count in self.phases)


def as_schedule(reward: str | RewardSchedule) -> RewardSchedule:
    """A schedule from a reward name (``"deontological"``), a schedule string, or a schedule."""
    if isinstance(reward, RewardSchedule):
        return reward
    if isinstance(reward, str) and ":" not in reward and "," not in reward:
        return RewardSchedule(((check_reward_name(reward), None),))
    return RewardSchedule.parse(reward)  # type: ignore[arg-type]


class EpisodeRewards:
    """The reward of each round: a fixed reward function, or the one a ``RewardSchedule`` picks for this episode.

    Shared by the wrappers below (and so by the ``reward=`` argument of ``gymnasium.make``).

    Args:
        reward: A reward name, a schedule (or its string), or any function ``RoundOutcome -> float``.
        deontological_penalty: The xi of the deontological rewards.
        illegal_reward: The reward of an illegal answer under every reward.
    """

    def __init__(
        self,
        reward: str | RewardSchedule | RewardFn,
        *,
        deontological_penalty: float = DEFAULT_DEONTOLOGICAL_PENALTY,
        illegal_reward: float = DEFAULT_ILLEGAL_REWARD,
    ) -> None:
        self.deontological_penalty = float(deontological_penalty)
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
        reward = float(self._fn(info["outcome"]))
        info["moral_reward"] = reward
        info["reward_name"] = self.name
        return reward

    def _make(self, name: str) -> RewardFn:
        return make_reward_fn(name, penalty=self.deontological_penalty, illegal_reward=self.illegal_reward)


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
        deontological_penalty: float = DEFAULT_DEONTOLOGICAL_PENALTY,
        illegal_reward: float | None = None,
    ) -> None:
        gymnasium.utils.RecordConstructorArgs.__init__(
            self, reward=reward, deontological_penalty=deontological_penalty, illegal_reward=illegal_reward
        )
        gymnasium.Wrapper.__init__(self, env)
        self.rewards = EpisodeRewards(
            reward, deontological_penalty=deontological_penalty, illegal_reward=_env_illegal_reward(env, illegal_reward)
        )

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        self.rewards.start_episode()
        observation, info = self.env.reset(seed=seed, options=options)
        return observation, {**info, "reward_name": self.rewards.name}

    def step(self, action):
        observation, _, terminated, truncated, info = self.env.step(action)
        return observation, self.rewards(info), terminated, truncated, info


class MoralRewardParallel(BaseParallelWrapper):
    """PettingZoo parallel: each player's reward becomes ``reward(infos[agent]["outcome"])``.

    Arguments as ``MoralReward``; both players use the same reward (wrap twice-built envs for mixed settings).
    """

    def __init__(
        self,
        env: Any,
        reward: str | RewardSchedule | RewardFn,
        *,
        deontological_penalty: float = DEFAULT_DEONTOLOGICAL_PENALTY,
        illegal_reward: float | None = None,
    ) -> None:
        super().__init__(env)
        self.rewards = EpisodeRewards(
            reward, deontological_penalty=deontological_penalty, illegal_reward=_env_illegal_reward(env, illegal_reward)
        )

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None):
        self.rewards.start_episode()
        return self.env.reset(seed=seed, options=options)

    def step(self, actions):
        observations, rewards, terminations, truncations, infos = self.env.step(actions)
        rewards = {agent: self.rewards(infos[agent]) for agent in rewards}
        return observations, rewards, terminations, truncations, infos
