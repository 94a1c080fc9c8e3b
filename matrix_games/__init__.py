"""Iterated 2x2 matrix games (the paper's five) as PettingZoo and Gymnasium environments, with moral rewards."""

from matrix_games.actions import ILLEGAL, Action, C, D
from matrix_games.games import GAMES, MatrixGame, get_game

__all__ = ["GAMES", "ILLEGAL", "Action", "C", "D", "MatrixGame", "get_game"]
