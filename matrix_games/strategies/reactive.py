"""Strategies that react to the opponent's recent moves: the tit-for-tat family, grim trigger and Pavlov.

Every rule reads only the player's own ``History`` (both players' last legal moves, oldest first). With a random
initial state the drawn previous round is the first entry, so, as in the paper (docs/paper.md), tit-for-tat copies it.
"""

from __future__ import annotations

import numpy as np

from matrix_games.core.actions import C, D
from matrix_games.core.rounds import History
from matrix_games.strategies.base import MemoryOneForm, Strategy

AXELROD_GENEROSITY = 1 / 3
"""Generous tit-for-tat's forgiveness on the Axelrod library's default game (R, P, S, T) = (3, 1, 0, 5)."""


def generosity_for_payoffs(reward: float, punishment: float, sucker: float, temptation: float) -> float:
    """Nowak and Sigmund's (1992) forgiveness ``min(1 - (T - R) / (R - S), (R - P) / (T - P))``, as Axelrod's GTFT.

    Example:
        >>> round(generosity_for_payoffs(3, 1, 0, 4), 4)  # the paper's Prisoner's Dilemma
        0.6667
    """
    return min(1 - (temptation - reward) / (reward - sucker), (reward - punishment) / (temptation - punishment))


class TitForTat(Strategy):
    """Cooperate first, then repeat the opponent's previous move.

    Rapoport's entry to Axelrod's first tournament (Axelrod 1980), which it won; Axelrod library class
    ``TitForTat``. The paper's ``TFT`` opponent (docs/paper.md).
    """

    name = "tit_for_tat"

    def act(self, history: History, rng: np.random.Generator) -> int:
        if not history:
            return C
        return history.opponent_actions[-1]

    def memory_one(self) -> MemoryOneForm:
        return 1.0, (1.0, 0.0, 1.0, 0.0)


class SuspiciousTitForTat(Strategy):
    """Defect first, then repeat the opponent's previous move.

    Hilbe et al. (2013), "Mistrust" in Beaufils et al. (1997); Axelrod library class ``SuspiciousTitForTat``.
    """

    name = "suspicious_tit_for_tat"

    def act(self, history: History, rng: np.random.Generator) -> int:
        if not history:
            return D
        return history.opponent_actions[-1]

    def memory_one(self) -> MemoryOneForm:
        return 0.0, (1.0, 0.0, 1.0, 0.0)


class TitForTwoTats(Strategy):
    """Cooperate unless the opponent defected in each of the last two rounds.

    John Maynard Smith's entry to Axelrod's second tournament (Axelrod 1984); Axelrod library class
    ``TitFor2Tats``.
    """

    name = "tit_for_two_tats"

    def act(self, history: History, rng: np.random.Generator) -> int:
        return D if history.opponent_actions[-2:] == (D, D) else C


class TwoTitsForTat(Strategy):
    """Cooperate first, then answer each defection with two defections.

    Plays D if the opponent defected in either of the last two rounds.

    Axelrod (1984); Axelrod library class ``TwoTitsForTat``.
    """

    name = "two_tits_for_tat"

    def act(self, history: History, rng: np.random.Generator) -> int:
        return D if D in history.opponent_actions[-2:] else C


class GenerousTitForTat(Strategy):
    """Tit-for-tat that forgives: after the opponent's C play C; after its D play C with probability ``generosity``.

    Nowak and Sigmund (1992); Axelrod library class ``GTFT`` (a memory-one player with four-vector
    (1, g, 1, g) and first move C). Axelrod computes g by ``generosity_for_payoffs`` from its default game
    (R, P, S, T) = (3, 1, 0, 5), giving 1/3, our default; in Axelrod 4.14 this happens when the player is built, so
    its GTFT plays g = 1/3 even in a match on another game (checked in ``test_axelrod_conformance.py``). For Nowak
    and Sigmund's value on the paper's Prisoner's Dilemma (2/3), pass it explicitly:
    ``make_strategy("generous_tit_for_tat", generosity=generosity_for_payoffs(3, 1, 0, 4))``.

    Args:
        generosity: Probability of cooperating after the opponent defected, in [0, 1]; 0 is tit-for-tat.
    """

    name = "generous_tit_for_tat"

    def __init__(self, generosity: float = AXELROD_GENEROSITY) -> None:
        if isinstance(generosity, bool) or not isinstance(generosity, (int, float)) or not 0 <= generosity <= 1:
            raise ValueError(
                f"generous_tit_for_tat: generosity is a probability in [0, 1], got {generosity!r}; "
                f"Axelrod's default is {AXELROD_GENEROSITY:.4f}."
            )
        self.generosity = float(generosity)

    def act(self, history: History, rng: np.random.Generator) -> int:
        if not history or history.opponent_actions[-1] == C:
            return C
        if self.generosity == 0.0:
            return D
        if self.generosity == 1.0:
            return C
        return C if rng.random() < self.generosity else D

    def memory_one(self) -> MemoryOneForm:
        return 1.0, (1.0, self.generosity, 1.0, self.generosity)

    def __repr__(self) -> str:
        return f"GenerousTitForTat(generosity={self.generosity:.4g})"


class GrimTrigger(Strategy):
    """Cooperate until the opponent defects once, then defect for the rest of the episode.

    Friedman's entry to Axelrod's first tournament (Axelrod 1980), "Grim Trigger" in Banks and Sundaram (1990);
    Axelrod library class ``Grudger``. A D in a drawn initial round counts as a defection.
    """

    name = "grim_trigger"

    def act(self, history: History, rng: np.random.Generator) -> int:
        return D if D in history.opponent_actions else C


class WinStayLoseShift(Strategy):
    """Cooperate first; then repeat its own previous move if the opponent cooperated, switch it if it defected.

    Kraines and Kraines (1989) "Pavlov", Nowak and Sigmund (1993); Axelrod library class ``WinStayLoseShift``
    (memory-one four-vector (1, 0, 0, 1): C after CC or DD, D after CD or DC). Axelrod's rule needs no payoffs, so
    "win" means "the opponent cooperated" in every game, not only the Prisoner's Dilemma.
    """

    name = "win_stay_lose_shift"

    def act(self, history: History, rng: np.random.Generator) -> int:
        if not history:
            return C
        return C if history.own_actions[-1] == history.opponent_actions[-1] else D

    def memory_one(self) -> MemoryOneForm:
        return 1.0, (1.0, 0.0, 0.0, 1.0)
