"""The suite's stage games by name: the paper's five 2x2 games and the n-player public goods game.

The five games' payoffs are exactly as the paper's code has them (docs/paper.md, "The games"); the public goods game
is sized by its parameters (``public_goods.py``). ``get_game`` turns a name into a game, with a suggestion for a typo.
The kinds of game are defined beside it: the interface ``Game`` (``game.py``) and the 2x2 ``MatrixGame``
(``matrix_game.py``), both importable from here as well.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from types import MappingProxyType

from matrix_games.core.game import Game
from matrix_games.core.matrix_game import MatrixGame, Payoff, PayoffTable
from matrix_games.core.public_goods import PublicGoodsGame

__all__ = [
    "BACH_OR_STRAVINSKY",
    "CHICKEN",
    "DEFECTIVE_COORDINATION",
    "GAMES",
    "PRISONERS_DILEMMA",
    "PUBLIC_GOODS",
    "STAG_HUNT",
    "Game",
    "MatrixGame",
    "Payoff",
    "PayoffTable",
    "get_game",
]

PRISONERS_DILEMMA = MatrixGame("prisoners_dilemma", "Iterated Prisoner's Dilemma", (((3, 3), (0, 4)), ((4, 0), (1, 1))))
STAG_HUNT = MatrixGame("stag_hunt", "Iterated Stag Hunt", (((4, 4), (0, 3)), ((3, 0), (1, 1))))
CHICKEN = MatrixGame("chicken", "Iterated Chicken", (((2, 2), (1, 4)), ((4, 1), (0, 0))))
BACH_OR_STRAVINSKY = MatrixGame(
    "bach_or_stravinsky", "Iterated Bach-or-Stravinsky", (((3, 2), (0, 0)), ((0, 0), (2, 3)))
)
DEFECTIVE_COORDINATION = MatrixGame(
    "defective_coordination", "Iterated Defective Coordination", (((1, 1), (0, 0)), ((0, 0), (4, 4)))
)

PUBLIC_GOODS = "public_goods"
"""The name of the n-player public goods game (``public_goods.PublicGoodsGame``; its size is a parameter)."""

GAMES: Mapping[str, MatrixGame] = MappingProxyType(
    {game.name: game for game in (PRISONERS_DILEMMA, STAG_HUNT, CHICKEN, BACH_OR_STRAVINSKY, DEFECTIVE_COORDINATION)}
)
"""The paper's five games by name."""


def get_game(game: str | Game) -> Game:
    """Return ``game`` itself, or the suite's game of that name (``"public_goods"``: the default 4-player public
    goods game); an unknown name raises with a suggestion."""
    if isinstance(game, Game) and not isinstance(game, str):
        return game
    if isinstance(game, str) and game in GAMES:
        return GAMES[game]
    if game == PUBLIC_GOODS:
        return PublicGoodsGame()
    close = difflib.get_close_matches(str(game), [*GAMES, PUBLIC_GOODS], n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(
        f"Unknown game {game!r}.{hint} Known games: {sorted(GAMES)} and {PUBLIC_GOODS!r}; "
        "or pass a MatrixGame, e.g. MatrixGame.from_table('my_game', [[(3, 3), (0, 5)], [(5, 0), (1, 1)]])."
    )
