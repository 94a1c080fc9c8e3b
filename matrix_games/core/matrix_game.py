"""``MatrixGame``: a two-player normal-form game with two actions per player, as a frozen payoff table.

``payoffs[row][column] == (row_payoff, column_payoff)``, with action 0 = C and 1 = D for both players (see
``actions.py``); player_0 is the row player, and ``for_player(1)`` is the game as the column player sees it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

Payoff = tuple[float, float]
PayoffTable = tuple[tuple[Payoff, Payoff], tuple[Payoff, Payoff]]


@dataclass(frozen=True)
class MatrixGame:
    """A two-player normal-form game with two actions per player.

    Attributes:
        name: Short identifier, e.g. ``"prisoners_dilemma"``.
        title: Human-readable name, e.g. ``"Iterated Prisoner's Dilemma"``.
        payoffs: ``payoffs[row_action][column_action] == (row_payoff, column_payoff)``; player_0 is the row player.
    """

    name: str
    title: str
    payoffs: PayoffTable

    def __post_init__(self) -> None:
        object.__setattr__(self, "payoffs", _validate_table(self.payoffs, self.name))

    @property
    def num_players(self) -> int:
        return 2

    def round_payoffs(self, actions: Sequence[int]) -> tuple[float, float]:
        """Both players' payoffs for one round of legal actions ``(row action, column action)``."""
        return self.payoffs[actions[0]][actions[1]]

    def payoff(self, row_action: int, column_action: int) -> Payoff:
        """The pair ``(row_payoff, column_payoff)`` for one round of legal actions."""
        return self.payoffs[row_action][column_action]

    def payoff_for(self, player: int, own_action: int, opponent_action: int) -> Payoff:
        """``(own_payoff, opponent_payoff)`` from ``player``'s point of view (0 = row, 1 = column)."""
        if player == 0:
            return self.payoffs[own_action][opponent_action]
        column_payoff, row_payoff = self.payoffs[opponent_action][own_action][::-1]
        return column_payoff, row_payoff

    def for_player(self, player: int) -> MatrixGame:
        """This game as seen by ``player``, who becomes the row player (transposed for player 1)."""
        if player == 0:
            return self
        if player != 1:
            raise ValueError(f"player must be 0 or 1, got {player!r}.")
        table = tuple(tuple(self.payoff_for(1, own, other) for other in (0, 1)) for own in (0, 1))
        return MatrixGame(name=self.name, title=self.title, payoffs=table)  # type: ignore[arg-type]

    @property
    def best_joint_payoff(self) -> float:
        """U_max: the highest sum of both players' payoffs in any cell (used by utilitarian regret)."""
        return max(sum(cell) for row in self.payoffs for cell in row)

    @property
    def is_symmetric(self) -> bool:
        """True when both players face the same payoffs (all but Bach-or-Stravinsky in the suite)."""
        return self.for_player(1).payoffs == self.payoffs

    @classmethod
    def from_table(cls, name: str, table: Sequence[Sequence[Sequence[float]]], title: str | None = None) -> MatrixGame:
        """Build a game from a nested 2x2 table of payoff pairs, e.g. ``[[(3, 3), (0, 5)], [(5, 0), (1, 1)]]``."""
        return cls(name=name, title=title or name.replace("_", " ").title(), payoffs=table)  # type: ignore[arg-type]


def _validate_table(table: object, name: str) -> PayoffTable:
    expected = "a 2x2 table of (row_payoff, column_payoff) pairs, e.g. [[(3, 3), (0, 4)], [(4, 0), (1, 1)]]"
    try:
        rows = [list(row) for row in table]  # type: ignore[union-attr]
        ok = len(rows) == 2 and all(len(row) == 2 and all(len(cell) == 2 for cell in row) for row in rows)
    except TypeError:
        ok = False
    if not ok:
        raise ValueError(f"Game {name!r}: payoffs must be {expected}; got {table!r}.")
    try:
        cells = tuple(tuple((float(cell[0]), float(cell[1])) for cell in row) for row in rows)
    except (TypeError, ValueError):
        raise ValueError(f"Game {name!r}: every payoff must be a number; got {table!r}.") from None
    if not all(math.isfinite(value) for row in cells for cell in row for value in cell):
        raise ValueError(f"Game {name!r}: every payoff must be a finite number (no NaN or infinity); got {table!r}.")
    return cells  # type: ignore[return-value]
