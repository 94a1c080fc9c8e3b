"""The interface every baseline strategy implements."""

from __future__ import annotations

import abc

import numpy as np

from matrix_games.rounds import History


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

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
