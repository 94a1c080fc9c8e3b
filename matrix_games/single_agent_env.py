"""The single-agent (Gymnasium) view: the learner is ``player_0``, its opponent a baseline strategy.

A shell over ``IteratedMatrixGameEnv``: each step asks the strategy for ``player_1``'s move, plays the round in the
two-player env, and returns ``player_0``'s side of it. The strategy sees a ``History`` from its own point of view,
built from *effective* moves (after noise; an illegal answer counts as the player's last legal move). With a random
initial state the drawn previous round is its first entry, so tit-for-tat copies the learner's drawn move, as in the
paper. A round in which some player has no legal move yet (an illegal answer in a classic first round) is left out
of the strategy's history.

Seeding: ``reset(seed=...)`` seeds ``self.np_random``; each episode draws from it the seed of the two-player env and
the strategy's generator.

## Version History

* v0: initial release.
"""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium
import numpy as np

from matrix_games.actions import DEFAULT_LABELS
from matrix_games.games import MatrixGame
from matrix_games.morality import DEFAULT_DEONTOLOGICAL_PENALTY, DEFAULT_ILLEGAL_REWARD, RewardFn
from matrix_games.parallel_env import InitialState, IteratedMatrixGameEnv, ObservationType
from matrix_games.rounds import History, next_state
from matrix_games.strategies import Strategy, make_strategy
from matrix_games.text import PromptKind
from matrix_games.wrappers import EpisodeRewards, RewardSchedule

LEARNER, OPPONENT = "player_0", "player_1"


class IteratedMatrixGameVsStrategy(gymnasium.Env):
    """Play an iterated 2x2 game against a fixed strategy; the reward is the game payoff or a moral reward.

    Takes every argument of ``IteratedMatrixGameEnv`` and:

    Args:
        opponent: A strategy name from ``STRATEGIES`` (e.g. ``"tit_for_tat"``) or a ``Strategy`` instance.
        reward: ``"game"``, ``"deontological"``, ``"utilitarian"``, ``"game_deontological"``, a schedule such as
            ``"game:500,deontological:500"`` (switches by episode count), or a ``RoundOutcome -> float`` function.
            The game payoff stays in ``info["game_reward"]``; the reward returned is also in ``info["moral_reward"]``.
        deontological_penalty: The xi of the deontological rewards (the paper trained with 3).

    Example:
        >>> env = IteratedMatrixGameVsStrategy(opponent="always_defect", observation_type="numeric")
        >>> observation, info = env.reset(seed=0)
        >>> env.step(0)[1]
        0.0
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi"], "render_fps": 1}

    def __init__(
        self,
        game: str | MatrixGame = "prisoners_dilemma",
        num_rounds: int | None = 5,
        initial_state: InitialState = "random",
        observation_type: ObservationType = "dict",
        action_labels: tuple[str, str] = DEFAULT_LABELS,
        prompt: PromptKind = "original",
        noise: float = 0.0,
        continuation_probability: float | None = None,
        allow_illegal: bool = False,
        illegal_reward: float = DEFAULT_ILLEGAL_REWARD,
        render_mode: str | None = None,
        opponent: str | Strategy = "tit_for_tat",
        reward: str | RewardSchedule | RewardFn = "game",
        deontological_penalty: float = DEFAULT_DEONTOLOGICAL_PENALTY,
    ) -> None:
        self.two_player_env = IteratedMatrixGameEnv(
            game=game,
            num_rounds=num_rounds,
            initial_state=initial_state,
            observation_type=observation_type,
            action_labels=action_labels,
            prompt=prompt,
            noise=noise,
            continuation_probability=continuation_probability,
            allow_illegal=allow_illegal,
            illegal_reward=illegal_reward,
            render_mode=render_mode,
        )
        self.opponent = make_strategy(opponent)
        self.rewards = EpisodeRewards(
            reward, deontological_penalty=deontological_penalty, illegal_reward=illegal_reward
        )
        self.render_mode = render_mode
        self.observation_space = self.two_player_env.observation_space(LEARNER)
        self.action_space = self.two_player_env.action_space(LEARNER)
        self.opponent_history = History()
        self._strategy_rng = np.random.default_rng()

    @property
    def game(self) -> MatrixGame:
        return self.two_player_env.game

    @property
    def illegal_reward(self) -> float:
        return self.two_player_env.illegal_reward

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self._strategy_rng = np.random.default_rng(int(self.np_random.integers(2**63)))
        observations, infos = self.two_player_env.reset(seed=int(self.np_random.integers(2**63)))
        self.opponent.reset()
        self.rewards.start_episode()
        info = infos[LEARNER]
        own, other = info["previous_action"], info["opponent_previous_action"]
        self.opponent_history = History() if own is None or other is None else History((other,), (own,))
        return observations[LEARNER], {**info, "opponent": self.opponent.name, "reward_name": self.rewards.name}

    def step(self, action):
        opponent_action = self.opponent.act(self.opponent_history, self._strategy_rng)
        observations, _, terminations, truncations, infos = self.two_player_env.step(
            {LEARNER: action, OPPONENT: opponent_action}
        )
        info = infos[LEARNER]
        learner_move, opponent_move = next_state(info["outcome"])
        if learner_move is not None and opponent_move is not None:
            self.opponent_history = self.opponent_history.append(opponent_move, learner_move)
        reward = self.rewards(info)
        return observations[LEARNER], reward, terminations[LEARNER], truncations[LEARNER], info

    def render(self) -> str | None:
        return self.two_player_env.render()

    def close(self) -> None:
        self.two_player_env.close()
