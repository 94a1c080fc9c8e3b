"""The vectorised engine: B games of one ``GameSettings`` played in lockstep as numpy arrays.

The same rounds as ``rounds.play_round`` and ``IteratedMatrixGameEnv`` (illegal answers, noise, random initial
states, fixed or geometric length), for a whole batch per call. Shapes: ``B`` games, ``N`` players; moves are coded as
in the numeric observation (C=0, D=1, illegal=2, none=3) in ``int8`` arrays.

- ``state``: ``(B, N)``, every player's last legal move (3 before any), what strategies and the deontological norm
  read; ``last``: ``(B, N)``, the moves of the last round as played (2 for an illegal answer), what observations show.
- ``play(actions)`` scores one round of every game and returns a ``VectorRound``; ``reset(mask)`` starts new
  episodes in the games of ``mask``. Randomness is per game (``counter_rng``), from ``seed(seeds)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matrix_games.core.actions import ILLEGAL, NO_MOVE
from matrix_games.core.game import Game
from matrix_games.core.matrix_game import MatrixGame
from matrix_games.core.public_goods import PublicGoodsGame
from matrix_games.envs.settings import GameSettings
from matrix_games.vector import counter_rng

INITIAL_STREAM, NOISE_STREAM, ENDING_STREAM, STRATEGY_STREAM = 0, 1, 2, 3
"""Stream numbers of the per-game generator (strategies use ``STRATEGY_STREAM + player``)."""


@dataclass(frozen=True)
class VectorRound:
    """One round of every game of a batch (each array ``(B, N)`` unless noted).

    Attributes:
        actions: The moves played (after noise; 2 for an illegal answer).
        intended: The moves chosen (before noise).
        previous: Every player's state before the round (3: none).
        game_rewards: The game rewards: payoffs, and ``illegal_reward`` for illegal answers.
        payoffs: The payoffs of the effective joint action (an illegal answer counts as the last legal move; 0 for
            everyone when some player has no legal move yet).
        terminated: ``(B,)``, the games whose episode ended with this round.
        truncated: ``(B,)``, the games cut at ``num_rounds`` by a geometric length.
        any_illegal: Whether some answer of the round was illegal (the rewards skip the check when not).
    """

    actions: np.ndarray
    intended: np.ndarray
    previous: np.ndarray
    game_rewards: np.ndarray
    payoffs: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    any_illegal: bool = False


def payoff_function(game: Game):
    """A function ``(B, N)`` legal moves -> ``(B, N)`` payoffs for ``game``: a table lookup for a 2x2 game, the
    formula for the public goods game, else ``game.round_payoffs`` row by row (correct, slow)."""
    if isinstance(game, MatrixGame):
        table = np.array(game.payoffs, dtype=np.float64).reshape(4, 2)  # row: own * 2 + other's move
        return lambda moves: table.take(moves[:, 0].astype(np.intp) * 2 + moves[:, 1], axis=0)
    if isinstance(game, PublicGoodsGame):
        share = game.multiplier * game.endowment / game.num_players

        def public_goods(moves: np.ndarray) -> np.ndarray:
            contributors = (moves == 0).sum(axis=1, keepdims=True)
            return share * contributors + game.endowment * (moves == 1)

        return public_goods
    return lambda moves: np.array([game.round_payoffs(tuple(int(m) for m in row)) for row in moves], dtype=np.float64)


class VectorGame:
    """``num_games`` iterated games of ``settings`` in lockstep (see the module docstring for the arrays)."""

    def __init__(self, settings: GameSettings, num_games: int) -> None:
        if isinstance(num_games, bool) or not isinstance(num_games, (int, np.integer)) or num_games < 1:
            raise ValueError(f"num_envs must be a positive whole number of games, got {num_games!r}; e.g. 64.")
        self.settings = settings
        self.num_games, self.num_players = int(num_games), settings.num_players
        self._payoffs = payoff_function(settings.stage_game)
        shape = (self.num_games, self.num_players)
        self.state = np.full(shape, NO_MOVE, dtype=np.int8)
        self.last = self.state.copy()
        self.rounds = np.zeros(self.num_games, dtype=np.int64)
        self.counters = np.zeros(self.num_games, dtype=np.uint64)
        self.keys = counter_rng.game_keys(None, self.num_games)

    def seed(self, seed: int | list[int] | None) -> None:
        """Per-game keys from one seed (games get s, s+1, ...), a list of one seed per game, or None (fresh)."""
        self.keys = counter_rng.game_keys(seed, self.num_games)
        self.counters[:] = 0

    def draw(self, stream: int, columns: int | None = None) -> np.ndarray:
        """Uniform numbers for every game from ``stream`` (``(B,)`` or ``(B, columns)``) at this round's counter."""
        return counter_rng.uniform(self.keys, self.counters, stream, columns)

    def reset(self, mask: np.ndarray | None = None) -> None:
        """Start a new episode in the games of ``mask`` (all when None): round 0 and the initial state."""
        games = slice(None) if mask is None or mask.all() else mask
        self.rounds[games] = 0
        if self.settings.initial_state == "random":  # one fair bit per player of one hash per game
            drawn = counter_rng.bits(self.keys, self.counters, INITIAL_STREAM, self.num_players)
            self.state[games] = drawn if isinstance(games, slice) else drawn[games]
        else:
            self.state[games] = NO_MOVE
        self.last[games] = self.state[games]
        self.counters[games] += np.uint64(1)

    def play(self, actions: np.ndarray) -> VectorRound:
        """Play one round of every game; ``actions`` ``(B, N)`` of 0, 1 (and 2 with ``allow_illegal``), checked."""
        settings = self.settings
        intended = np.array(actions, dtype=np.int8)  # a copy: the state must not alias the caller's array
        played = intended
        if settings.noise > 0:
            flips = (self.draw(NOISE_STREAM, self.num_players) < settings.noise) & (intended != ILLEGAL)
            played = np.where(flips, 1 - intended, intended).astype(np.int8)
        previous, any_illegal = self.state, False
        if settings.allow_illegal:
            illegal = played == ILLEGAL
            any_illegal = bool(illegal.any())
            effective = np.where(illegal, previous, played)
            unscored = (effective == NO_MOVE).any(axis=1)
            payoffs = self._payoffs(np.where(effective == NO_MOVE, 0, effective))
            payoffs[unscored] = 0.0
            game_rewards = np.where(illegal, settings.illegal_reward, payoffs)
            self.state = effective.astype(np.int8)
        else:
            payoffs = self._payoffs(played)
            game_rewards = payoffs
            self.state = played
        self.last = played
        self.rounds += 1
        terminated, truncated = self._ending()
        self.counters += np.uint64(1)
        return VectorRound(played, intended, previous, game_rewards, payoffs, terminated, truncated, any_illegal)

    def _ending(self) -> tuple[np.ndarray, np.ndarray]:
        cap, continuation = self.settings.num_rounds, self.settings.continuation_probability
        at_cap = self.rounds >= cap if cap is not None else np.zeros(self.num_games, dtype=bool)
        if continuation is None:
            return at_cap, np.zeros(self.num_games, dtype=bool)
        ended = self.draw(ENDING_STREAM) >= continuation
        return ended, at_cap & ~ended
