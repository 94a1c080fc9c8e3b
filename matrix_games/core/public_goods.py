"""The n-player public goods game: each player contributes its whole endowment (C) or keeps it (D).

The pot of contributions is multiplied by ``multiplier`` and shared equally among all ``num_players``, so player i
gets ``endowment * (1 - c_i) + multiplier * endowment * sum(c) / num_players``. With ``1 < multiplier <
num_players`` it is a social dilemma: everyone contributing is best for the group, keeping is best for each. With the
defaults (4 players, endowment 10, multiplier 1.6): C, C, C, D pays 12, 12, 12 and 22; all C 16 each; all D 10 each.

It implements the same ``Game`` interface as the 2x2 games (``round_payoffs``, ``best_joint_payoff``), so rounds,
rewards, regrets and metrics need nothing of their own; with two players it is the 2x2 game of ``as_matrix_game``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from matrix_games.core.actions import C
from matrix_games.core.matrix_game import MatrixGame
from matrix_games.core.validation import check_finite, is_number

MAX_PLAYERS = 1000
"""The most players a public goods game may have (its prompt holds a table row per count of contributors)."""
MAX_AMOUNT = 1e6
"""The largest endowment: payoffs stay exact in float64 and short in the prompt (observations stay in their space)."""
MAX_MULTIPLIER = 1e3
"""The largest pot multiplier, for the same reason."""


@dataclass(frozen=True)
class PublicGoodsGame:
    """The public goods game of ``num_players`` players.

    Attributes:
        num_players: How many play, at least 2.
        endowment: What each player holds before it contributes or keeps, > 0.
        multiplier: What the pot is multiplied by before it is shared (a dilemma when 1 < multiplier < num_players).
    """

    num_players: int = 4
    endowment: float = 10.0
    multiplier: float = 1.6

    name = "public_goods"

    def __post_init__(self) -> None:
        players = self.num_players
        if (
            isinstance(players, bool)
            or not is_number(players)
            or not math.isfinite(players)
            or int(players) != players
            or not 2 <= players <= MAX_PLAYERS
        ):
            raise ValueError(
                f"num_players must be a whole number from 2 to {MAX_PLAYERS}, got {players!r}; e.g. num_players=4."
            )
        object.__setattr__(self, "num_players", int(players))
        endowment = _positive_up_to("endowment", self.endowment, MAX_AMOUNT, "endowment=10", "larger amounts overflow")
        object.__setattr__(self, "endowment", endowment)
        multiplier = _positive_up_to(
            "multiplier",
            self.multiplier,
            MAX_MULTIPLIER,
            "multiplier=1.6",
            "a dilemma needs 1 < multiplier < num_players",
        )
        object.__setattr__(self, "multiplier", multiplier)
        if not 1.0 < multiplier < self.num_players:
            warnings.warn(
                f"multiplier {multiplier:g} is not strictly between 1 and num_players={self.num_players}: the public "
                "goods game is then no social dilemma (contributing is "
                + ("always worse for everyone)." if multiplier <= 1 else "best for each player too)."),
                UserWarning,
                stacklevel=3,
            )

    @property
    def title(self) -> str:
        return f"Iterated Public Goods Game ({self.num_players} players)"

    def round_payoffs(self, actions: Sequence[int]) -> tuple[float, ...]:
        """Every player's payoff for one round of legal actions (0 = contribute, 1 = keep)."""
        if len(actions) != self.num_players:
            raise ValueError(f"{self.title} needs {self.num_players} actions, got {len(actions)}.")
        contributors = sum(action == C for action in actions)
        share = self.multiplier * self.endowment * contributors / self.num_players
        return tuple(share + (0.0 if action == C else self.endowment) for action in actions)

    def payoff_with(self, own_action: int, others_contributing: int) -> float:
        """The payoff of a player who plays ``own_action`` while ``others_contributing`` of the others contribute."""
        contributors = others_contributing + (own_action == C)
        return self.multiplier * self.endowment * contributors / self.num_players + (
            0.0 if own_action == C else self.endowment
        )

    @property
    def best_joint_payoff(self) -> float:
        """U_max: the group's payoff when everyone contributes, ``num_players * multiplier * endowment``."""
        return self.num_players * self.multiplier * self.endowment

    def as_matrix_game(self) -> MatrixGame:
        """With two players, the same game as a 2x2 table (``MatrixGame``); else a ValueError."""
        if self.num_players != 2:
            raise ValueError(f"Only a 2-player public goods game is a 2x2 game; this one has {self.num_players}.")
        table = [[self.round_payoffs((a, b)) for b in (0, 1)] for a in (0, 1)]
        return MatrixGame.from_table(self.name, table, title=self.title)


def _positive_up_to(name: str, value: object, maximum: float, example: str, why: str) -> float:
    """``value`` as a finite float in (0, maximum], or a ValueError naming it."""
    number = check_finite(name, value, example=example.split("=")[1])
    if not 0 < number <= maximum:
        raise ValueError(
            f"{name} must be a positive number of at most {maximum:g}, got {value!r}; e.g. {example} ({why})."
        )
    return number


def format_amount(value: float) -> str:
    """A payoff as the prompts write it: whole numbers without decimals, others with up to two."""
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}".rstrip("0").rstrip(".")
