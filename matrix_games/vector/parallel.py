"""``BatchedParallelEnv``: B games in which every player is learning (self-play, populations), as arrays.

Shape conventions (``B`` games, ``N`` players, ``d`` the observation width):

- ``reset(seed)`` -> ``observations (B, N, d)``, ``infos``; ``step(actions (B, N))`` -> ``observations (B, N, d)``,
  ``rewards (B, N)``, ``terminations (B,)``, ``truncations (B,)``, ``infos``. Player ``p`` of game ``b`` is
  ``[b, p]`` everywhere, ``player_p`` of the PettingZoo env.
- A game that ends is reset in the same step (its next episode's first observation is returned); the last
  observation of the ended episode is in ``infos["final_obs"]``, the ended games in ``infos["_final_obs"]``.
- ``reward`` is one reward for every player or a list of one per player (a population of moral types).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from matrix_games.core.game import Game
from matrix_games.envs.observations import observation_space
from matrix_games.envs.settings import GameSettings, settings_from
from matrix_games.rewards.registry import with_old_penalty
from matrix_games.vector.engine import VectorGame, VectorRound
from matrix_games.vector.observations import check_vector_observation_type, observations
from matrix_games.vector.rewards import vector_reward_fn
from matrix_games.vector.validation import check_actions


class BatchedParallelEnv:
    """``num_games`` games of ``game``, all players acting at once.

    Example:
        >>> env = BatchedParallelEnv("prisoners_dilemma", num_games=2, reward=["game", "utilitarian"])
        >>> observations, _ = env.reset(seed=0)
        >>> observations.shape
        (2, 2, 2)
        >>> env.step(np.array([[0, 1], [1, 1]]))[1].tolist()
        [[0.0, 4.0], [1.0, 2.0]]
    """

    def __init__(
        self,
        game: str | Game | GameSettings = "prisoners_dilemma",
        num_games: int = 1,
        reward: str | Sequence[str] = "game",
        reward_parameters: dict[str, float] | None = None,
        deontological_penalty: float | None = None,
        **settings: Any,
    ) -> None:
        settings.setdefault("observation_type", "numeric")
        self.settings = settings_from(game, settings)
        self.observation_type = check_vector_observation_type(self.settings.observation_type)
        self.engine = VectorGame(self.settings, num_games)
        self.num_games, self.num_players = self.engine.num_games, self.settings.num_players
        names = [reward] * self.num_players if isinstance(reward, str) else list(reward)
        if len(names) != self.num_players:
            raise ValueError(f"reward lists {len(names)} rewards for {self.num_players} players; give one or one each.")
        parameters = with_old_penalty(reward_parameters, deontological_penalty, "BatchedParallelEnv")
        illegal = self.settings.illegal_reward
        functions = {name: vector_reward_fn(name, illegal_reward=illegal, parameters=parameters) for name in names}
        self.reward_names = tuple(names)
        self._rewards = [(player, functions[name]) for player, name in enumerate(names)]
        self.single_observation_space = observation_space(self.settings)
        self.possible_agents = [f"player_{p}" for p in range(self.num_players)]

    def reset(self, seed: int | list[int] | None = None, options: dict[str, Any] | None = None):
        if seed is not None:
            self.engine.seed(seed)
        self.engine.reset()
        return self._observe(), {"round": self.engine.rounds.copy()}

    def step(self, actions: np.ndarray):
        checked = check_actions(actions, (self.num_games, self.num_players), self.settings.allow_illegal)
        played = self.engine.play(checked)
        rewards = self.rewards(played)
        infos: dict[str, Any] = {"game_rewards": played.game_rewards, "actions": played.actions}
        done = played.terminated | played.truncated
        if done.any():
            infos["final_obs"], infos["_final_obs"] = self._observe(), done
            self.engine.reset(done)
        infos["round"] = self.engine.rounds.copy()
        return self._observe(), rewards, played.terminated, played.truncated, infos

    def rewards(self, played: VectorRound) -> np.ndarray:
        """``(B, N)``: each player's reward of ``played`` (its own reward, when they differ)."""
        out = np.empty(played.actions.shape, dtype=np.float64)
        cache: dict[int, np.ndarray] = {}
        for player, function in self._rewards:
            values = cache.setdefault(id(function), function(played))
            out[:, player] = values[:, player]
        return out

    def _observe(self) -> np.ndarray:
        last = self.engine.last
        return np.stack([observations(last, p, self.observation_type) for p in range(self.num_players)], axis=1)
