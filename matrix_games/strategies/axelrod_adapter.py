"""Any strategy of the Axelrod library as a ``Strategy``, imported lazily (``import axelrod`` takes ~20 s).

The adapter keeps one Axelrod player per episode and feeds it our ``History``: each round the Axelrod player
decided is recorded with the moves that actually counted (as Axelrod's own ``Match`` does after noise), and a drawn
initial round, which no one decided, is only appended to both histories. Strategies that inspect or manipulate their
opponent are refused: our strategies never see the opponent object.
"""

from __future__ import annotations

import difflib
import functools
import importlib
from typing import Any

import numpy as np

from matrix_games.core.actions import C, D
from matrix_games.core.games import PRISONERS_DILEMMA, MatrixGame
from matrix_games.core.rounds import History
from matrix_games.strategies.base import Strategy

INSTALL_HINT = "pip install moral-matrix-games[axelrod]"


def import_axelrod() -> Any:
    """Import and return the ``axelrod`` module, or raise an ImportError that says how to install it."""
    try:
        return importlib.import_module("axelrod")
    except ImportError as error:
        raise ImportError(
            f"Axelrod strategies need the optional 'axelrod' package, which is not installed: run `{INSTALL_HINT}`."
        ) from error


def find_axelrod_player(name: str) -> Any:
    """The Axelrod strategy class whose ``name`` (e.g. "Tit For Tat") or class name (e.g. "TitForTat") is ``name``."""
    axl = import_axelrod()
    known = [*axl.all_strategies, *importlib.import_module("axelrod.strategies").cheating_strategies]
    by_name = {cls.name: cls for cls in known} | {cls.__name__: cls for cls in known}
    if name in by_name:
        return by_name[name]
    close = difflib.get_close_matches(name, list(by_name), n=3)
    hint = f" Did you mean one of {close}?" if close else ""
    raise ValueError(
        f"Unknown Axelrod strategy {name!r}.{hint} Use a name from axelrod.all_strategies, e.g. 'Tit For Tat'."
    )


class AxelrodStrategy(Strategy):
    """An Axelrod library player acting through our ``History``.

    Args:
        player: An ``axelrod.Player`` instance or class, or an Axelrod strategy name ("Tit For Tat", "TitForTat").
        game: The game whose (R, P, S, T), read from the row player's payoffs, is given to strategies that use it
            (e.g. Axelrod's ``GTFT``); the paper's Prisoner's Dilemma by default.

    Example:
        >>> strategy = AxelrodStrategy("Tit For Tat")  # doctest: +SKIP
    """

    def __init__(self, player: Any, game: MatrixGame = PRISONERS_DILEMMA) -> None:
        axl = import_axelrod()
        if isinstance(player, str):
            player = find_axelrod_player(player)()
        elif isinstance(player, type) and issubclass(player, axl.Player):
            player = player()
        if not isinstance(player, axl.Player):
            raise TypeError(
                f"AxelrodStrategy needs an axelrod.Player, a Player class or a strategy name, got {player!r}."
            )
        if not axl.Classifiers.obey_axelrod(player):
            raise ValueError(
                f"Axelrod strategy {player.name!r} inspects or manipulates its opponent, which our strategies cannot "
                "see; choose one that obeys Axelrod's rules (axelrod.strategies)."
            )
        self._axl = axl
        self._template = player
        (reward, _), (sucker, _) = game.payoff(0, 0), game.payoff(0, 1)
        (temptation, _), (punishment, _) = game.payoff(1, 0), game.payoff(1, 1)
        self._axelrod_game = axl.Game(r=reward, s=sucker, t=temptation, p=punishment)
        self.name = f"axelrod:{player.name}"
        self.reset()

    def reset(self) -> None:
        self._player = self._template.clone()
        self._opponent = self._axl.Player()  # holds the opponent's history only; never asked to move
        self._player.set_match_attributes(game=self._axelrod_game)
        self._fed_rounds = 0
        self._seeded = False

    def act(self, history: History, rng: np.random.Generator) -> int:
        if len(history) < self._fed_rounds or not self._is_continuation(history):
            self.reset()  # a new episode began without a reset
        if not self._seeded:
            self._player.set_seed(int(rng.integers(2**31 - 1)))
            self._seeded = True
        action_of = {0: self._axl.Action.C, 1: self._axl.Action.D}
        for round_index in range(self._fed_rounds, len(history)):
            own, other = action_of[history.own_actions[round_index]], action_of[history.opponent_actions[round_index]]
            self._player.update_history(own, other)
            self._opponent.update_history(other, own)
        self._fed_rounds = len(history)
        move = self._player.strategy(self._opponent)
        return C if move == self._axl.Action.C else D

    def _is_continuation(self, history: History) -> bool:
        """True when the rounds already fed to the Axelrod player are the start of ``history``."""
        fed_own = tuple(move.value for move in self._player.history)
        fed_opponent = tuple(move.value for move in self._opponent.history)
        n = self._fed_rounds
        return fed_own == history.own_actions[:n] and fed_opponent == history.opponent_actions[:n]

    def __repr__(self) -> str:
        return f"AxelrodStrategy({self._template!r})"


def axelrod_player(strategy: Strategy) -> Any:
    """A memory-one strategy (``Strategy.memory_one``: a ``TabledStrategy`` of an analysed LLM policy, tit-for-tat,
    ...) as an Axelrod ``Player``: it joins ``axl.Tournament``, ``axl.MoranProcess`` and Axelrod's fingerprints.

    Axelrod's ``MemoryOnePlayer`` with the strategy's four-vector; its first move is C with the strategy's first-round
    probability (drawn from the player's own seeded stream, as Axelrod's random strategies do).
    """
    from matrix_games.strategies.base import memory_one_form

    form = memory_one_form(strategy)
    if form is None:
        raise ValueError(f"{strategy!r} is not memory-one; only memory-one strategies become Axelrod players here.")
    first, four_vector = form
    return _tabled_player_class()(
        four_vector=tuple(float(p) for p in four_vector),
        first=float(first),
        label=getattr(strategy, "label", strategy.name),
    )


@functools.cache
def _tabled_player_class() -> type:
    axl = import_axelrod()

    class TabledPlayer(axl.MemoryOnePlayer):
        """A memory-one table with a probabilistic first move (``axelrod_player``)."""

        name = "Tabled policy"

        def __init__(self, four_vector=(1.0, 0.0, 1.0, 0.0), first: float = 1.0, label: str = "Tabled policy"):
            super().__init__(four_vector=four_vector, initial=axl.Action.C if first >= 0.5 else axl.Action.D)
            self.first = first
            self.name = label

        def strategy(self, opponent: Any) -> Any:
            if len(opponent.history) == 0 and 0.0 < self.first < 1.0:
                return self._random.random_choice(self.first)
            return super().strategy(opponent)

    return TabledPlayer
