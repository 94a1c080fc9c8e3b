"""Strategies that ignore the opponent: unconditional, random and periodic play."""

from __future__ import annotations

import numpy as np

from matrix_games.core.actions import C, D
from matrix_games.core.rounds import History
from matrix_games.strategies.base import MemoryOneForm, Strategy


class AlwaysCooperate(Strategy):
    """Always play C.

    The unconditional cooperator of Axelrod (1984); Axelrod library class ``Cooperator`` ("ALLC"). The paper's
    ``AC`` opponent (docs/paper.md).
    """

    name = "always_cooperate"

    def act(self, history: History, rng: np.random.Generator) -> int:
        return C

    def memory_one(self) -> MemoryOneForm:
        return 1.0, (1.0, 1.0, 1.0, 1.0)


class AlwaysDefect(Strategy):
    """Always play D.

    The unconditional defector of Axelrod (1984); Axelrod library class ``Defector`` ("ALLD"). The paper's ``AD``
    opponent (docs/paper.md).
    """

    name = "always_defect"

    def act(self, history: History, rng: np.random.Generator) -> int:
        return D

    def memory_one(self) -> MemoryOneForm:
        return 0.0, (0.0, 0.0, 0.0, 0.0)


class RandomStrategy(Strategy):
    """Play C with probability ``p``, independently of everything (Axelrod 1980, 15th in the first tournament).

    Axelrod library class ``Random`` (``p`` is its probability of cooperating, default 0.5, and ``p`` of 0 or 1
    draws nothing). The paper's ``Random`` opponent, which trains against it and tests every model against it with
    p = 0.5 (docs/paper.md).

    Args:
        p: Probability of playing C, in [0, 1].
    """

    name = "random"

    def __init__(self, p: float = 0.5) -> None:
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= float(p) <= 1.0:
            raise ValueError(f"random: p is the probability of playing C and must be in [0, 1], got {p!r}.")
        self.p = float(p)

    def act(self, history: History, rng: np.random.Generator) -> int:
        if self.p == 0.0:
            return D
        if self.p == 1.0:
            return C
        return C if rng.random() < self.p else D

    def memory_one(self) -> MemoryOneForm:
        return self.p, (self.p, self.p, self.p, self.p)

    def __repr__(self) -> str:
        return f"RandomStrategy(p={self.p})"


class Alternator(Strategy):
    """Play C first, then the opposite of its own previous move: C, D, C, D, ...

    Axelrod (1984); Axelrod library class ``Alternator``. With a random initial state the drawn previous round
    counts as its own previous move, so it starts with the opposite of the drawn move.
    """

    name = "alternator"

    def act(self, history: History, rng: np.random.Generator) -> int:
        if not history:
            return C
        return D if history.own_actions[-1] == C else C

    def memory_one(self) -> MemoryOneForm:
        return 1.0, (0.0, 0.0, 1.0, 1.0)
