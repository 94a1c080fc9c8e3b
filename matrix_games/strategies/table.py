"""A policy given as a table of move probabilities per state, as a strategy: an analysed LLM policy (its exact
P(C), P(D), P(illegal) at each previous-round state) in tournaments, as an opponent, and in the vector engine.

A strategy always moves, so an illegal answer is played as the environment counts it for everyone else: the
player repeats its last legal move. The table's P(C | state) as a strategy is therefore P(C) + P(illegal) after its
own C, and P(C) after its own D (``effective_four_vector``); its own score for such a round is then the game's payoff,
not the illegal reward (the Markov chains of ``markov.py`` keep the illegal answers, through ``TablePlayer``).
With no previous round the first move is C with probability ``first``: by default the table's ``"none"`` state
(an illegal first answer has no legal move to repeat and counts as D), else the mean over the four states, which is
where the protocol's episodes start from, each equally likely.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from matrix_games.core.actions import C, D
from matrix_games.core.rounds import History
from matrix_games.strategies.base import MemoryOneForm, Strategy

TWO_PLAYER_STATES = ("CC", "CD", "DC", "DD")


def effective_four_vector(moves_by_state: Mapping[str, tuple[float, float, float]]) -> tuple[float, ...]:
    """P(C) after CC, CD, DC, DD (own, opponent) with illegal answers played as the repeated own last move."""
    missing = [state for state in TWO_PLAYER_STATES if state not in moves_by_state]
    if missing:
        raise ValueError(f"A two-player table needs the states {list(TWO_PLAYER_STATES)}; {missing} are missing.")
    return tuple(
        float(moves_by_state[state][0] + (moves_by_state[state][2] if state[0] == "C" else 0.0))
        for state in TWO_PLAYER_STATES
    )


class TabledStrategy(Strategy):
    """A memory-one table (``{state: (P(C), P(D), P(illegal))}``, two players) played as a strategy.

    Args:
        moves_by_state: The table, e.g. ``PolicyTable.states()`` of the exact analysis.
        first: P(C) with no previous round; by default the ``"none"`` state's P(C), else the mean over the states.
        label: Its name in results.

    Example:
        >>> tft = TabledStrategy({"CC": (1, 0, 0), "CD": (0, 1, 0), "DC": (1, 0, 0), "DD": (0, 1, 0)}, first=1.0)
        >>> tft.memory_one()
        (1.0, (1.0, 0.0, 1.0, 0.0))
    """

    name = "tabled"

    def __init__(
        self, moves_by_state: Mapping[str, tuple[float, float, float]], *, first: float | None = None, label: str = ""
    ) -> None:
        self.four_vector = effective_four_vector(moves_by_state)
        if first is None:
            first = float(moves_by_state["none"][0]) if "none" in moves_by_state else float(np.mean(self.four_vector))
        if not 0.0 <= first <= 1.0:
            raise ValueError(f"first must be a probability of C in [0, 1], got {first!r}.")
        self.first = float(first)
        self.label = label or self.name

    def act(self, history: History, rng: np.random.Generator) -> int:
        p = self.first
        if history:
            p = self.four_vector[2 * history.own_actions[-1] + history.opponent_actions[-1]]
        if p in (0.0, 1.0):
            return C if p == 1.0 else D
        return C if rng.random() < p else D

    def memory_one(self) -> MemoryOneForm:
        return self.first, self.four_vector  # type: ignore[return-value]

    def __repr__(self) -> str:
        vector = ", ".join(f"{p:.3g}" for p in self.four_vector)
        return f"TabledStrategy({self.label!r}, first={self.first:.3g}, four_vector=({vector}))"
