"""Batched numeric and one-hot observations, encoded exactly as the single env's (``matrix_games.envs.observations``).

``numeric``: ``(B, 2)`` int64, own last move and the other's (two players) or the number of other contributors
(``N`` meaning none); ``one_hot``: ``(B, 4 + 4)`` or ``(B, 4 + N + 1)`` float32. Text has no batched form: a text
observation is a prompt per game, which is the single env's job (``vectorization_mode="sync"``).
"""

from __future__ import annotations

import numpy as np

from matrix_games.core.actions import NO_MOVE

VECTOR_OBSERVATION_TYPES = ("numeric", "one_hot")


def check_vector_observation_type(observation_type: str) -> str:
    if observation_type not in VECTOR_OBSERVATION_TYPES:
        raise ValueError(
            f"Invalid observation_type {observation_type!r} for the vectorised engine: expected one of "
            f"{list(VECTOR_OBSERVATION_TYPES)}. Text and dict observations are prompts, one per game: build those "
            "with gymnasium.make_vec(..., vectorization_mode='sync') or the single env."
        )
    return observation_type


def numeric_observations(last: np.ndarray, player: int) -> np.ndarray:
    """``(B, 2)`` int64: ``player``'s numeric observation in every game, from the moves ``last`` ``(B, N)``."""
    num_players = last.shape[1]
    if num_players == 2:
        return (last if player == 0 else last[:, ::-1]).astype(np.int64)
    out = np.empty((last.shape[0], 2), dtype=np.int64)
    own = last[:, player]
    out[:, 0] = own
    others = (np.delete(last, player, axis=1) == 0).sum(axis=1)
    out[:, 1] = np.where(own == NO_MOVE, num_players, others)
    return out


def one_hot_observations(last: np.ndarray, player: int) -> np.ndarray:
    """``(B, d)`` float32: the numeric observation one-hot encoded (``d = 8``, or ``4 + N + 1`` for N players)."""
    numeric = numeric_observations(last, player)
    second = 4 if last.shape[1] == 2 else last.shape[1] + 1
    out = np.zeros((last.shape[0], 4 + second), dtype=np.float32)
    rows = np.arange(last.shape[0])
    out[rows, numeric[:, 0]] = 1.0
    out[rows, 4 + numeric[:, 1]] = 1.0
    return out


def observations(last: np.ndarray, player: int, observation_type: str) -> np.ndarray:
    if observation_type == "numeric":
        return numeric_observations(last, player)
    return one_hot_observations(last, player)
