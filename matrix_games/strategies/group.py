"""Strategies for games of any number of players, reacting to what the others did last round.

Every two-player strategy also plays a game of more players: its ``History`` shows the others' majority move as "the
opponent's" (C when more than half of them contributed), so tit-for-tat contributes after a round in which most
contributed. The strategies here read every other player's move (``History.others_actions``) instead; with two
players they are classic ones (the conditional cooperator with k = 1 is tit-for-tat, the group grim trigger is grim
trigger).
"""

from __future__ import annotations

import numpy as np

from matrix_games.core.actions import C, D
from matrix_games.core.rounds import History
from matrix_games.core.validation import check_int
from matrix_games.strategies.base import Strategy


class ConditionalCooperator(Strategy):
    """Contribute first, then contribute when at least ``k`` of the others contributed last round.

    The conditional cooperators of public goods experiments (Fischbacher, Gächter & Fehr 2001), who give when enough
    others give. ``k`` None is a majority: more than half of the others (1 of 1, 2 of 3, 4 of 7). With two players
    it is tit-for-tat (Axelrod library class ``TitForTat``); Axelrod has no n-player strategies.

    Args:
        k: How many of the others must have contributed, at least 1; None for a majority.
    """

    name = "conditional_cooperator"

    def __init__(self, k: int | None = None) -> None:
        self.k = None if k is None else check_int("conditional_cooperator: k", k, minimum=1)

    def act(self, history: History, rng: np.random.Generator) -> int:
        if not history:
            return C
        others = history.others_actions[-1]
        needed = len(others) // 2 + 1 if self.k is None else self.k
        return C if sum(move == C for move in others) >= needed else D

    def __repr__(self) -> str:
        return f"ConditionalCooperator(k={self.k})"


class GroupGrimTrigger(Strategy):
    """Contribute until any other player defects once, then keep for the rest of the episode.

    The n-player grim trigger (Friedman 1971); with two players it is grim trigger (Axelrod library class
    ``Grudger``). A D in a drawn initial round counts as a defection.
    """

    name = "group_grim_trigger"

    def act(self, history: History, rng: np.random.Generator) -> int:
        return D if any(D in moves for moves in history.others_actions) else C
