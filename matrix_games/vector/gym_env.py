"""``gymnasium.make_vec(ID, num_envs=B, vectorization_mode="vector_entry_point", ...)``: the learner (``player_0``)
of B games against baseline strategies, as one native ``gymnasium.vector.VectorEnv`` on the vectorised engine.

The same arguments as ``gymnasium.make(ID, ...)`` (``opponent``, ``reward``,
``reward_parameters`` and every game setting), numeric or one-hot observations (numeric by default), and Gymnasium's
vector conventions: actions ``(B,)``, rewards ``(B,)`` float64, ``terminations``/``truncations`` ``(B,)``, infos a
dict of arrays (``game_reward``, ``opponent_action``, ``round``). Autoreset follows Gymnasium's default
(``AutoresetMode.NEXT_STEP``: the step after an episode ends resets that game and ignores its action); pass
``autoreset_mode="same_step"`` to reset in the ending step (the final observation in ``infos["final_obs"]``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium
import numpy as np
from gymnasium.vector.utils import batch_space

from matrix_games.core.game import Game
from matrix_games.core.validation import check_choice
from matrix_games.envs.observations import observation_space
from matrix_games.envs.settings import GameSettings, settings_from
from matrix_games.rewards.registry import with_old_penalty
from matrix_games.strategies import Strategy
from matrix_games.vector.engine import VectorGame
from matrix_games.vector.observations import check_vector_observation_type, observations
from matrix_games.vector.rewards import vector_reward_fn
from matrix_games.vector.strategies import vector_strategy
from matrix_games.vector.validation import check_actions

AUTORESET_MODES = ("next_step", "same_step")


class MatrixGameVectorEnv(gymnasium.vector.VectorEnv):
    """B games of one iterated game, the learner against strategies, stepped as arrays.

    Example:
        >>> env = MatrixGameVectorEnv(num_envs=3, opponent="always_defect", reward="utilitarian")
        >>> observations, infos = env.reset(seed=0)
        >>> env.step(np.array([0, 0, 1]))[1].tolist()
        [4.0, 4.0, 2.0]
    """

    def __init__(
        self,
        game: str | Game | GameSettings = "prisoners_dilemma",
        num_envs: int = 1,
        opponent: str | Strategy | Sequence[str | Strategy] = "tit_for_tat",
        reward: str = "game",
        reward_parameters: dict[str, float] | None = None,
        deontological_penalty: float | None = None,
        autoreset_mode: str = "next_step",
        render_mode: str | None = None,
        **settings: Any,
    ) -> None:
        settings.setdefault("observation_type", "numeric")
        self.settings = settings_from(game, settings)
        self.observation_type = check_vector_observation_type(self.settings.observation_type)
        self.engine = VectorGame(self.settings, num_envs)
        players = self.settings.num_players
        names = [opponent] * (players - 1) if isinstance(opponent, (str, Strategy)) else list(opponent)
        if len(names) != players - 1:
            raise ValueError(f"opponent lists {len(names)} strategies for {players - 1} other players.")
        self.strategies = [vector_strategy(name, player) for player, name in enumerate(names, start=1)]
        if not isinstance(reward, str) or ":" in reward:
            raise ValueError(
                f"The vector env takes a reward name or a weighted sum (e.g. 'game+deontological'), got {reward!r}; "
                "for a reward schedule or a Python function use the single env (gymnasium.make)."
            )
        parameters = with_old_penalty(reward_parameters, deontological_penalty, "MatrixGameVectorEnv")
        self.reward_name = reward
        self._reward = vector_reward_fn(reward, illegal_reward=self.settings.illegal_reward, parameters=parameters)
        self.autoreset_mode = check_choice("autoreset_mode", autoreset_mode, AUTORESET_MODES)
        mode = gymnasium.vector.AutoresetMode.NEXT_STEP if autoreset_mode == "next_step" else None
        self.metadata = {"autoreset_mode": mode or gymnasium.vector.AutoresetMode.SAME_STEP, "render_modes": []}
        self.render_mode = check_choice("render_mode", render_mode, (None,))
        self.num_envs = self.engine.num_games
        self.single_observation_space = observation_space(self.settings)
        self.single_action_space = gymnasium.spaces.Discrete(3 if self.settings.allow_illegal else 2)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._needs_reset = np.zeros(self.num_envs, dtype=bool)
        self._actions = np.empty((self.num_envs, players), dtype=np.int8)

    def reset(self, *, seed: int | list[int] | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed if isinstance(seed, int) else None)  # Gymnasium's own generator takes an int only
        if seed is not None:  # else the games go on drawing from their keys (fresh entropy when built)
            self.engine.seed(seed)
        self._start(None)
        return self._observe(), {"round": self.engine.rounds.copy()}

    def step(self, actions):
        engine = self.engine
        learner = check_actions(actions, (self.num_envs,), self.settings.allow_illegal)
        restart = self._needs_reset
        joint = self._actions
        joint[:, 0] = learner
        for strategy in self.strategies:
            joint[:, strategy.player] = strategy.act(engine)
        played = engine.play(joint)
        for strategy in self.strategies:
            strategy.observe(engine, played)
        rewards = self._reward(played)[:, 0]
        terminated, truncated = played.terminated, played.truncated
        infos: dict[str, Any] = {
            "game_reward": played.game_rewards[:, 0],
            "opponent_action": played.actions[:, 1],
        }
        done = terminated | truncated
        if self.autoreset_mode == "same_step":
            if done.any():
                infos["final_obs"], infos["_final_obs"] = self._observe(), done
                self._start(done)
            infos["round"] = engine.rounds.copy()
            return self._observe(), rewards, terminated, truncated, infos
        if restart.any():  # NEXT_STEP: these games ended last step; this step starts them again instead
            self._start(restart)
            rewards = np.where(restart, 0.0, rewards)
            terminated, truncated = terminated & ~restart, truncated & ~restart
            infos["game_reward"] = np.where(restart, 0.0, infos["game_reward"])
            done = done & ~restart
        self._needs_reset = done
        infos["round"] = engine.rounds.copy()
        return self._observe(), rewards, terminated, truncated, infos

    def _start(self, mask: np.ndarray | None) -> None:
        self.engine.reset(mask)
        for strategy in self.strategies:
            strategy.start(self.engine, mask)
        self._needs_reset = np.zeros(self.num_envs, dtype=bool)

    def _observe(self) -> np.ndarray:
        return observations(self.engine.last, 0, self.observation_type)
