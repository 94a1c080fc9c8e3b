"""Baseline strategies for the vectorised engine: one array operation per round for the whole batch.

- **Memory-one** strategies are their four cooperation probabilities after (own, opponent) = CC, CD, DC, DD and the
  probability of cooperating first (``MemoryOne``; Press & Dyson's notation, Axelrod's ``MemoryOnePlayer``):
  ``always_cooperate``, ``always_defect``, ``random``, ``tit_for_tat``, ``suspicious_tit_for_tat``,
  ``generous_tit_for_tat``, ``win_stay_lose_shift``, ``alternator``. "The opponent" of a game of more players is the
  others' majority, as for the single env (``rounds.History``).
- **Short memory**: ``grim_trigger``, ``tit_for_two_tats``, ``two_tits_for_tat`` (the opponent's last two moves and
  whether it ever defected), and ``conditional_cooperator``, ``group_grim_trigger`` (how many others contributed).
- **Fallback** (``PerGameStrategy``): any other ``Strategy`` (Axelrod's included) is played by one Python object per
  game with its own ``History``, as the single env does: the same moves, at Python speed. ``vector_strategy`` warns
  which strategy falls back.

A vector strategy plays ``player`` of every game: ``start(game, mask)`` at the start of episodes, ``act(game)`` the
moves ``(B,)`` for this round, ``observe(game, round)`` after it.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np

from matrix_games.core.actions import NO_MOVE
from matrix_games.core.rounds import History
from matrix_games.strategies import STRATEGIES, Strategy, make_strategy
from matrix_games.strategies.base import memory_one_form
from matrix_games.vector.engine import STRATEGY_STREAM, VectorGame, VectorRound

_C, _D = 0, 1


def opponent_view(state: np.ndarray, player: int, *, missing: str = "any") -> np.ndarray:
    """The move of "the opponent" of ``player`` per game ``(B,)``: the other player's, or the others' majority (C when
    more than half of them played C). It is none when some player has no move yet (``missing="any"``: such a round
    is no history, as for ``rounds.History``) or some other player (``"others"``: as ``RoundOutcome`` reads it)."""
    if state.shape[1] == 2:
        return state[:, 1 - player]
    others = np.delete(state, player, axis=1)
    majority = np.where(2 * (others == _C).sum(axis=1) > others.shape[1], _C, _D).astype(np.int8)
    unknown = (state if missing == "any" else others) == NO_MOVE
    return np.where(unknown.any(axis=1), NO_MOVE, majority).astype(np.int8)


class VectorStrategy:
    """A strategy playing ``player`` in every game of a ``VectorGame``."""

    name = ""

    def __init__(self, player: int) -> None:
        self.player = player

    def start(self, game: VectorGame, mask: np.ndarray | None) -> None:
        """New episodes begin in the games of ``mask`` (all when None), from ``game.state``."""

    def act(self, game: VectorGame) -> np.ndarray:
        raise NotImplementedError

    def observe(self, game: VectorGame, played: VectorRound) -> None:
        """The round ``played`` has been played (``game.state`` is the state after it)."""


class MemoryOne(VectorStrategy):
    """Cooperate with probability ``first`` in a first round, then ``p[own * 2 + opponent]`` (CC, CD, DC, DD)."""

    def __init__(self, player: int, name: str, first: float, p: tuple[float, float, float, float]) -> None:
        super().__init__(player)
        self.name = name
        table = np.full(16, first, dtype=np.float64)  # index own_code * 4 + opponent_code; codes 3 = none
        for own in (0, 1):
            for other in (0, 1):
                table[own * 4 + other] = p[own * 2 + other]
        self.deterministic = bool(np.isin(table, (0.0, 1.0)).all())
        self.table = table
        self.moves = (table < 0.5).astype(np.int8)  # the move when deterministic: D where p(C) = 0

    def act(self, game: VectorGame) -> np.ndarray:
        state = game.state
        index = state[:, self.player].astype(np.intp) * 4 + opponent_view(state, self.player)
        if self.deterministic:
            return self.moves[index]
        draws = game.draw(STRATEGY_STREAM + self.player)
        return (draws >= self.table[index]).astype(np.int8)


def memory_one_of(strategy: Strategy, player: int) -> MemoryOne | None:
    """The memory-one form of a strategy (``Strategy.memory_one``), or None if it has none."""
    form = memory_one_form(strategy)
    if form is None:
        return None
    first, p = form
    return MemoryOne(player, strategy.name, float(first), tuple(float(x) for x in p))  # type: ignore[arg-type]


class ShortMemory(VectorStrategy):
    """The strategies that read the opponent's last two moves, whether it ever defected, or the others' count."""

    RULES = ("grim_trigger", "tit_for_two_tats", "two_tits_for_tat", "conditional_cooperator", "group_grim_trigger")

    def __init__(self, player: int, strategy: Strategy) -> None:
        super().__init__(player)
        self.name = strategy.name
        self.k = getattr(strategy, "k", None)
        self.before_last = self.last = self.defected = None

    def start(self, game: VectorGame, mask: np.ndarray | None) -> None:
        if self.last is None:
            shape = game.num_games
            self.before_last, self.last = np.full(shape, NO_MOVE, np.int8), np.full(shape, NO_MOVE, np.int8)
            self.defected = np.zeros(shape, dtype=bool)
        games = slice(None) if mask is None else mask
        self.before_last[games] = NO_MOVE
        self.last[games] = NO_MOVE
        self.defected[games] = False
        self._remember(game, games)

    def observe(self, game: VectorGame, played: VectorRound) -> None:
        self._remember(game, slice(None))

    def _remember(self, game: VectorGame, games) -> None:
        state = game.state[games]
        seen = ~(state == NO_MOVE).any(axis=1)  # a round some player has no move in is not history (as History)
        opponent = opponent_view(state, self.player)
        others_defected = (np.delete(state, self.player, axis=1) == _D).any(axis=1)
        rule_defected = others_defected if self.name == "group_grim_trigger" else opponent == _D
        self.before_last[games] = np.where(seen, self.last[games], self.before_last[games])
        self.last[games] = np.where(seen, opponent, self.last[games])
        self.defected[games] |= seen & rule_defected

    def act(self, game: VectorGame) -> np.ndarray:
        if self.name in ("grim_trigger", "group_grim_trigger"):
            return self.defected.astype(np.int8)
        if self.name == "tit_for_two_tats":
            return ((self.last == _D) & (self.before_last == _D)).astype(np.int8)
        if self.name == "two_tits_for_tat":
            return ((self.last == _D) | (self.before_last == _D)).astype(np.int8)
        state = game.state  # conditional_cooperator: at least k of the others contributed last round
        others = np.delete(state, self.player, axis=1)
        needed = others.shape[1] // 2 + 1 if self.k is None else self.k
        first = (state == NO_MOVE).any(axis=1)
        return np.where(first | ((others == _C).sum(axis=1) >= needed), _C, _D).astype(np.int8)


class PerGameStrategy(VectorStrategy):
    """The fallback: one copy of ``strategy`` per game with its own ``History`` and generator, stepped in Python."""

    def __init__(self, player: int, strategy: Strategy) -> None:
        super().__init__(player)
        self.name = strategy.name
        self.prototype = strategy
        self.copies: list[Strategy] = []
        self.histories: list[History] = []
        self.rngs: list[np.random.Generator] = []

    def start(self, game: VectorGame, mask: np.ndarray | None) -> None:
        if not self.copies:
            self.copies = [copy.deepcopy(self.prototype) for _ in range(game.num_games)]
            self.histories = [History() for _ in range(game.num_games)]
            self.rngs = [np.random.default_rng() for _ in range(game.num_games)]
        indices = range(game.num_games) if mask is None else np.flatnonzero(mask)
        for i in indices:
            self.copies[i].reset()
            seed = np.random.SeedSequence([int(game.keys[i]), int(game.counters[i]), self.player])
            self.rngs[i] = np.random.default_rng(seed)
            state = game.state[i]
            rounds = [] if (state == NO_MOVE).any() else [tuple(int(m) for m in state)]
            self.histories[i] = History.of_player(self.player, rounds)

    def act(self, game: VectorGame) -> np.ndarray:
        moves = [s.act(h, r) for s, h, r in zip(self.copies, self.histories, self.rngs, strict=True)]
        return np.array(moves, dtype=np.int8)

    def observe(self, game: VectorGame, played: VectorRound) -> None:
        for i, state in enumerate(game.state.tolist()):
            if NO_MOVE not in state:
                others = tuple(m for j, m in enumerate(state) if j != self.player)
                self.histories[i] = self.histories[i].append_round(state[self.player], others)


def vector_strategy(strategy: str | Strategy, player: int) -> VectorStrategy:
    """The fastest vector form of ``strategy`` (a name or a ``Strategy``) for ``player``; warns on the fallback."""
    built = make_strategy(strategy)
    memory_one = memory_one_of(built, player)
    if memory_one is not None:
        return memory_one
    if built.name in ShortMemory.RULES and type(built).__module__.startswith("matrix_games."):
        return ShortMemory(player, built)
    warnings.warn(
        f"Strategy {built!r} has no vectorised form: the vector env plays it with one Python object per game "
        "(PerGameStrategy), the same moves at Python speed. Vectorised: memory-one strategies "
        f"{sorted(MEMORY_ONE_NAMES)} and {list(ShortMemory.RULES)}.",
        UserWarning,
        stacklevel=3,
    )
    return PerGameStrategy(player, built)


MEMORY_ONE_NAMES = frozenset(name for name, cls in STRATEGIES.items() if cls.memory_one is not Strategy.memory_one)
"""The built-in strategies with a memory-one form (``Strategy.memory_one``)."""
