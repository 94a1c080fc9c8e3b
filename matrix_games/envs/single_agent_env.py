"""The single-agent (Gymnasium) view: the learner is ``player_0``, the other players baseline strategies.

A shell over ``IteratedMatrixGameEnv``: each step asks every strategy for its player's move, plays the round, and
returns ``player_0``'s side of it: the game payoff as the reward. Each strategy sees a ``History`` from its own point
of view, built from *effective* moves (after noise; an illegal answer counts as the player's last legal move). With a
random initial state the drawn previous round is its first entry, so tit-for-tat copies the learner's drawn move, as
in the paper. A round in which some player has no legal move yet (an illegal answer in a classic first round) is
left out of the histories. In the public goods game every other player has a strategy (one name for all, or a list).

Moral rewards are the reward layer's (``wrappers.MoralReward``): ``gymnasium.make(ID, opponent=..., reward=...)``
builds this env through ``make_single_agent_env``, which applies that wrapper.

Seeding: ``reset(seed=...)`` seeds ``self.np_random``; each episode draws from it the seed of the two-player env and
the strategy's generator.

## Version History

* v0: initial release.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any, ClassVar

import gymnasium
import numpy as np

from matrix_games.core.game import Game
from matrix_games.core.rounds import History
from matrix_games.envs.infos import reset_info, round_info
from matrix_games.envs.parallel_env import RENDER_MODES, IteratedMatrixGameEnv
from matrix_games.envs.settings import GameSettings
from matrix_games.envs.wrappers import MoralReward, RewardSchedule
from matrix_games.rewards import RewardFn
from matrix_games.rewards.registry import with_old_penalty
from matrix_games.strategies import Strategy, make_strategy

LEARNER, OPPONENT = "player_0", "player_1"


class IteratedMatrixGameVsStrategy(gymnasium.Env):
    """Play an iterated game against fixed strategies; the reward is the game payoff.

    Args:
        game: A game name (``"public_goods"`` with ``num_players``, ``endowment``, ``multiplier``), a ``Game``, or a
            whole ``GameSettings``.
        opponent: A strategy name from ``STRATEGIES`` (e.g. ``"tit_for_tat"``) or a ``Strategy`` for every other
            player (each gets its own copy), or a list of one per other player, ``player_1`` first.
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
        opponent: str | Strategy | Sequence[str | Strategy] = "tit_for_tat",
        render_mode: str | None = None,
        **settings: Any,
    ) -> None:
        self.group_env = IteratedMatrixGameEnv(game, render_mode=render_mode, **settings)
        self.settings = self.group_env.settings
        self.opponents = _opponents(opponent, self.group_env.num_players - 1)
        self.render_mode = render_mode
        self.observation_space = self.group_env.observation_space(LEARNER)
        self.action_space = self.group_env.action_space(LEARNER)
        self.histories = [History() for _ in self.opponents]
        self._strategy_rngs = [np.random.default_rng() for _ in self.opponents]

    @property
    def two_player_env(self) -> IteratedMatrixGameEnv:
        """The underlying PettingZoo env (the name of the two-player days; ``group_env`` is the same)."""
        return self.group_env

    @property
    def opponent(self) -> Strategy:
        """The first other player's strategy (``player_1``'s; every one is in ``opponents``)."""
        return self.opponents[0]

    @property
    def opponent_history(self) -> History:
        """``player_1``'s history, from its own point of view."""
        return self.histories[0]

    @property
    def game(self) -> Game:
        return self.settings.stage_game

    @property
    def illegal_reward(self) -> float:
        return self.settings.illegal_reward

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        strategy_seed = int(self.np_random.integers(2**63))
        if len(self.opponents) == 1:
            self._strategy_rngs = [np.random.default_rng(strategy_seed)]
        else:
            children = np.random.SeedSequence(strategy_seed).spawn(len(self.opponents))
            self._strategy_rngs = [np.random.default_rng(child) for child in children]
        observations, _ = self.group_env.reset(seed=int(self.np_random.integers(2**63)))
        for strategy in self.opponents:
            strategy.reset()
        start = self.group_env.previous_actions
        rounds = [] if any(move is None for move in start) else [start]
        self.histories = [History.of_player(player, rounds) for player in range(1, len(start))]
        names = [strategy.name for strategy in self.opponents]
        return observations[LEARNER], {**reset_info(start, 0), "opponent": names[0] if len(names) == 1 else names}

    def step(self, action):
        actions = {LEARNER: action}
        for index, (strategy, history, rng) in enumerate(
            zip(self.opponents, self.histories, self._strategy_rngs, strict=True), start=1
        ):
            actions[self.group_env.possible_agents[index]] = strategy.act(history, rng)
        env = self.group_env
        observations, rewards, terminations, truncations, _ = env.step(actions)
        outcome = env.last_outcomes[0]  # type: ignore[index]
        state = outcome.state_after
        if all(move is not None for move in state):
            self.histories = [
                history.append_round(state[player], tuple(m for i, m in enumerate(state) if i != player))
                for player, history in enumerate(self.histories, start=1)
            ]
        info = round_info(outcome, env.last_intended[0], env.round)  # type: ignore[index]
        return observations[LEARNER], rewards[LEARNER], terminations[LEARNER], truncations[LEARNER], info

    def render(self) -> str | None:
        return self.group_env.render()

    def close(self) -> None:
        self.group_env.close()


def _opponents(opponent: str | Strategy | Sequence[str | Strategy], count: int) -> list[Strategy]:
    """One strategy object per other player: ``count`` copies of one, or a list of ``count``."""
    if isinstance(opponent, (str, Strategy)):
        first = make_strategy(opponent)
        return [first, *(copy.deepcopy(first) for _ in range(count - 1))]
    opponents = list(opponent)
    if len(opponents) != count:
        raise ValueError(
            f"opponent lists {len(opponents)} strategies for {count} other players; give one name for all of them "
            f"or a list of {count}, player_1's first."
        )
    return [make_strategy(item) if isinstance(item, str) else copy.deepcopy(make_strategy(item)) for item in opponents]


def make_single_agent_env(
    reward: str | RewardSchedule | RewardFn = "game",
    reward_parameters: dict[str, float] | None = None,
    deontological_penalty: float | None = None,
    **kwargs: Any,
) -> gymnasium.Env:
    """The registered Gymnasium entry point: ``IteratedMatrixGameVsStrategy(**kwargs)`` with the ``reward`` applied by
    ``MoralReward`` (its value also in ``info["moral_reward"]``, the game payoff in ``info["game_reward"]``).

    ``reward`` is a reward name (``"game"``, ``"deontological"``, ...), a schedule such as
    ``"game:500,deontological:500"`` (switched by episode count), a weighted sum such as ``"0.5*game+utilitarian"``,
    or a ``RoundOutcome -> float`` function; ``reward_parameters`` sets the frameworks' parameters by name
    (``{"deontological_penalty": 3.0, "kindness": 2.0}``). ``deontological_penalty=`` on its own still works, with
    a deprecation warning.
    """
    env = IteratedMatrixGameVsStrategy(**kwargs)
    parameters = with_old_penalty(reward_parameters, deontological_penalty, "gymnasium.make")
    return MoralReward(env, reward, reward_parameters=parameters)
