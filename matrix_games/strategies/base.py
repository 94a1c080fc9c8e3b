"""The interface every baseline strategy implements."""

from __future__ import annotations

import abc

import numpy as np

from matrix_games.core.rounds import History


class Strategy(abc.ABC):
    """A fixed (non-learning) player of an iterated 2x2 game.

    A strategy sees only its own ``History`` (both players' effective moves, oldest first; with a random initial
    state, the drawn previous round is the first entry) and a seeded generator for any randomness. It never sees the
    opponent object, so it cannot cheat. Subclasses set ``name`` and implement ``act``; stateful ones also ``reset``.
    """

    name: str = ""

    def reset(self) -> None:  # noqa: B027 - stateless strategies need no reset
        """Forget anything kept between rounds; called at the start of every episode."""

    @abc.abstractmethod
    def act(self, history: History, rng: np.random.Generator) -> int:
        """Return 0 (C) or 1 (D) given the history so far."""

    def memory_one(self) -> MemoryOneForm | None:
        """The strategy as a memory-one player, when it is one: its probability of C in a first round (no previous
        move) and after each (own, opponent) previous move CC, CD, DC, DD. None for strategies that remember more.
        The vector engine and the exact Markov chains (``markov.py``) play a strategy through this form."""
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


MemoryOneForm = tuple[float, tuple[float, float, float, float]]
"""(P(C) in a first round, (P(C) after CC, CD, DC, DD)): Press & Dyson's four-vector and a first move, as Axelrod's
``MemoryOnePlayer``."""


def memory_one_form(strategy: Strategy) -> MemoryOneForm | None:
    """``strategy.memory_one()``, trusted only when the class that plays (defines ``act``) also declares the form: a
    subclass that changes ``act`` but inherits ``memory_one`` gets None, not its parent's table."""

    def owner(name: str) -> type:
        return next(cls for cls in type(strategy).__mro__ if name in cls.__dict__)

    return strategy.memory_one() if owner("memory_one") is owner("act") else None
