"""Action indices shared by every game, and the text labels that name them.

Index 0 is the "cooperative" action C and index 1 the "defecting" action D in every game of the suite: the moral
rewards (``morality.py``) rely on it. Index 2 exists only in environments built with ``allow_illegal=True``: it means
"the player gave no legal answer" (an LLM that answered neither label).

Labels are kept apart from meaning, so that ``("action1", "action2")`` can become ``("action3", "action4")`` or be
swapped (the paper's token experiments) without touching a game.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence


class Action(enum.IntEnum):
    """What a player did in a round."""

    COOPERATE = 0
    DEFECT = 1
    ILLEGAL = 2


C = Action.COOPERATE
D = Action.DEFECT
ILLEGAL = Action.ILLEGAL

DEFAULT_LABELS: tuple[str, str] = ("action1", "action2")
"""The paper's training labels: ``action1`` means C, ``action2`` means D."""

TEST_LABELS: tuple[str, str] = ("action3", "action4")
"""The paper's test-time labels."""


def validate_labels(labels: Sequence[str]) -> tuple[str, str]:
    """Return ``labels`` as a tuple of two distinct, non-empty strings, or raise a ValueError that says why.

    Example:
        >>> validate_labels(["action1", "action2"])
        ('action1', 'action2')
    """
    if isinstance(labels, str) or not isinstance(labels, Sequence):
        raise ValueError(
            f"action_labels must be a pair of strings (C label, D label), got {labels!r}; "
            "pass e.g. action_labels=('action1', 'action2')."
        )
    pair = tuple(labels)
    if len(pair) != 2 or not all(isinstance(label, str) for label in pair):
        raise ValueError(
            f"action_labels must be exactly two strings (C label, D label), got {labels!r}; "
            "pass e.g. action_labels=('action1', 'action2')."
        )
    if any(not label.strip() for label in pair) or pair[0].strip() == pair[1].strip():
        raise ValueError(
            f"action_labels must be two distinct, non-blank strings, got {labels!r}; "
            "pass e.g. action_labels=('action1', 'action2')."
        )
    return pair[0], pair[1]


def validate_action(action: object, *, allow_illegal: bool) -> int:
    """Return ``action`` as an int in the action space, or raise a ValueError that names it."""
    valid = (0, 1, 2) if allow_illegal else (0, 1)
    try:
        value = int(action)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        value = None
    if value is None or value not in valid or (hasattr(action, "__float__") and float(action) != value):  # type: ignore[arg-type]
        hint = (
            "0 (C), 1 (D) or 2 (no legal answer)"
            if allow_illegal
            else "0 (C) or 1 (D); build the env with allow_illegal=True to also accept 2 (no legal answer)"
        )
        raise ValueError(f"Invalid action {action!r}: expected {hint}.")
    return value
