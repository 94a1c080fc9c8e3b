"""``Game``: what rounds, rewards and metrics need of a stage game, whatever its number of players.

Two kinds implement it: the two-player 2x2 ``MatrixGame`` (``matrix_game.py``) and the n-player ``PublicGoodsGame``
(``public_goods.py``); ``games.py`` names the suite's games.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable


@runtime_checkable
class Game(Protocol):
    """What rounds, rewards and metrics need of a stage game, whatever its number of players."""

    name: str
    title: str

    @property
    def num_players(self) -> int: ...

    @property
    def best_joint_payoff(self) -> float: ...

    def round_payoffs(self, actions: Sequence[int]) -> tuple[float, ...]: ...
