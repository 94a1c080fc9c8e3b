"""Checks of what users hand the vectorised engine, with the single env's messages (``actions.validate_action``)."""

from __future__ import annotations

import numpy as np

from matrix_games.core.actions import action_hint


def check_actions(actions: object, shape: tuple[int, ...], allow_illegal: bool) -> np.ndarray:
    """``actions`` as an integer array of ``shape`` with values in the action space, else a ValueError naming the
    first bad value, where it is, what was expected and the fix."""
    array = np.asarray(actions)
    if array.shape != shape:
        raise ValueError(
            f"Invalid actions of shape {array.shape}: expected {shape} (one action per game"
            + (", per player)" if len(shape) == 2 else ")")
            + "; e.g. env.action_space.sample()."
        )
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(
            f"Invalid actions of dtype {array.dtype}: expected an integer dtype; cast with actions.astype(np.int64)."
        )
    high = 2 if allow_illegal else 1
    bad = (array < 0) | (array > high)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        place = f"game {where[0]}" + (f", player {where[1]}" if len(where) == 2 else "")
        raise ValueError(
            f"Invalid action {array[where].item()!r} at {place}: expected an integer, {action_hint(allow_illegal)}."
        )
    return array
