"""The single-agent (Gymnasium) view: the learner is ``player_0``, its opponent a baseline strategy.

A shell over ``IteratedMatrixGameEnv``: each step asks the strategy for ``player_1``'s move, plays the round in the
two-player env, and returns ``player_0``'s side of it: the game payoff as the reward. The strategy sees a ``History``
from its own point of view, built from *effective* moves (after noise; an illegal answer counts as the player's last
legal move). With a random initial state the drawn previous round is its first entry, so tit-for-tat copies the
learner's drawn move, as in the paper. A round in which some player has no legal move yet (an illegal answer in a
classic first round) is left out of the strategy's history.

Moral rewards are the reward layer's (``wrappers.MoralReward``): ``gymnasium.make(ID, opponent=..., reward=...)``
builds this env through ``make_single_agent_env``, which applies that wrapper.

Seeding: ``reset(seed=...)`` seeds ``self.np_random``; each episode draws from it the seed of the two-player env and
the strategy's generator.

## Version History

* v0: initial release.
"""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium
import numpy as np

from matrix_games.games import Game
from matrix_games.morality import DEFAULT_DEONTOLOGICAL_PENALTY, RewardFn
from matrix_games.parallel_env import RENDER_MODES, IteratedMatrixGameEnv
from matrix_games.rounds import History
from matrix_games.settings import GameSettings
from matrix_games.strategies import Strategy, make_strategy
from matrix_games.wrappers import MoralReward, RewardSchedule

LEARNER, OPPONENT = "player_0", "player_1"


class IteratedMatrixGameVsStrategy(gymnasium.Env):
    """Play an iterated 2x2 game against a fixed strategy; the reward is the game payoff.

    Args:
        game: A game name, a ``Game``, or a whole ``GameSettings``.
        opponent: A strategy name from ``STRATEGIES`` (e.g. ``"tit_for_tat"``) or a ``Strategy`` instance.
        render_mode: None, ``"ansi"`` or ``"human"``.
        **settings: Any field of ``GameSettings`` (``num_rounds``, ``observation_type``, ...).

    Example:
        >>> env = IteratedMatrixGameVsStrategy(opponent="always_defect", observation_type="numeric")
        >>> observation, info = env.reset(seed=0)
        >>> env.step(0)[1]
        0.0
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": list(RENDER_MODES), "render_fps": 1}

    def __init__(
        self,
        game: str | Game | GameSettings = "prisoners_dilemma",
        opponent: str | Strategy = "tit_for_tat",
        render_mode: str | None = None,
        **settings: Any,
    ) -> None:
        self.two_player_env = IteratedMatrixGameEnv(game, render_mode=render_mode, **settings)
        if self.two_player_env.num_players != 2:
            raise ValueError(
                f"IteratedMatrixGameVsStrategy plays two-player games; {self.game.title} has "
                f"{self.two_player_env.num_players} players (use the public goods game's own single-agent view)."
            )
        self.settings = self.two_player_env.settings
        self.opponent = make_strategy(opponent)
        self.render_mode = render_mode
        self.observation_space = self.two_player_env.observation_space(LEARNER)
        self.action_space = self.two_player_env.action_space(LEARNER)
        self.opponent_history = History()
        self._strategy_rng = np.random.default_rng()

    @property
    def game(self) -> Game:
        return self.settings.stage_game

    @property
    def illegal_reward(self) -> float:
        return self.settings.illegal_reward

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self._strategy_rng = np.random.default_rng(int(self.np_random.integers(2**63)))
        observations, infos = self.two_player_env.reset(seed=int(self.np_random.integers(2**63)))
        self.opponent.reset()
        info = infos[LEARNER]
        own, other = info["previous_action"], info["opponent_previous_action"]
        self.opponent_history = History() if own is None or other is None else History((other,), (own,))
        return observations[LEARNER], {**info, "opponent": self.opponent.name}

    def step(self, action):
        opponent_action = self.opponent.act(self.opponent_history, self._strategy_rng)
        observations, rewards, terminations, truncations, infos = self.two_player_env.step(
            {LEARNER: action, OPPONENT: opponent_action}
        )
        info = infos[LEARNER]
        learner_move, opponent_move = info["outcome"].state_after
        if learner_move is not None and opponent_move is not None:
            self.opponent_history = self.opponent_history.append(opponent_move, learner_move)
        return observations[LEARNER], rewards[LEARNER], terminations[LEARNER], truncations[LEARNER], info

    def render(self) -> str | None:
        return self.two_player_env.render()

    def close(self) -> None:
        self.two_player_env.close()


def make_single_agent_env(
    reward: str | RewardSchedule | RewardFn = "game",
    deontological_penalty: float = DEFAULT_DEONTOLOGICAL_PENALTY,
    **kwargs: Any,
) -> gymnasium.Env:
    """The registered Gymnasium entry point: ``IteratedMatrixGameVsStrategy(**kwargs)`` with the ``reward`` applied by
    ``MoralReward`` (its value also in ``info["moral_reward"]``, the game payoff in ``info["game_reward"]``).

    ``reward`` is a reward name (``"game"``, ``"deontological"``, ...), a schedule such as
    ``"game:500,deontological:500"`` (switched by episode count), or a ``RoundOutcome -> float`` function.
    """
    env = IteratedMatrixGameVsStrategy(**kwargs)
    return MoralReward(env, reward, deontological_penalty=deontological_penalty)
