"""Action indices shared by every game, their names in logs, and the text labels that name them in prompts.

Index 0 is the "cooperative" action C and index 1 the "defecting" action D in every game of the suite (in the public
goods game, C contributes and D keeps): the moral rewards rely on it. Index 2 exists only in environments built with
``allow_illegal=True``: it means "the player gave no legal answer" (an LLM that answered neither label).

Labels are kept apart from meaning, so that ``("action1", "action2")`` can become ``("action3", "action4")`` or be
swapped (the paper's token experiments) without touching a game.

Logs and tables write moves by name, one codec for all of them: ``"C"``, ``"D"``, ``"illegal"``, and ``None`` for
"no previous move" (``move_name`` / ``move_code``).
"""

from __future__ import annotations

import enum
import operator
import re
from collections.abc import Mapping, Sequence
from types import MappingProxyType


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

NO_MOVE = 3
"""The number coding "no move" (no previous round) where moves are numbers: numeric observations and infos, the
vectorised engine's arrays. Python code elsewhere says None."""

MOVE_NAMES: Mapping[int, str] = MappingProxyType({C: "C", D: "D", ILLEGAL: "illegal"})
"""The name of each move in logs, tables and plots."""

_MOVE_CODES = {name: code for code, name in MOVE_NAMES.items()}


def move_name(move: int | None) -> str | None:
    """``"C"``, ``"D"``, ``"illegal"``, or None for no move.

    Example:
        >>> move_name(1), move_name(None)
        ('D', None)
    """
    return None if move is None else MOVE_NAMES[int(move)]


def move_code(name: str | None) -> int | None:
    """The inverse of ``move_name`` (``"none"`` and ``""`` also mean no move, as tables write it)."""
    if name is None or name in ("none", ""):
        return None
    if name not in _MOVE_CODES:
        raise ValueError(f"Unknown move {name!r}: expected one of {sorted(_MOVE_CODES)} or none.")
    return int(_MOVE_CODES[name])


def validate_labels(labels: Sequence[str]) -> tuple[str, str]:
    """Return ``labels`` as a (C label, D label) tuple that answers can always be told apart by, or raise.

    Refused: anything but two strings; empty labels; leading or trailing whitespace (an answer is stripped before it
    is compared, so such a label could never match); equal labels; and a label that is the other followed by
    punctuation or a space (``("C", "C.")``: "C. I cooperate" could then mean either).

    Example:
        >>> validate_labels(["action1", "action2"])
        ('action1', 'action2')
    """
    example = "pass e.g. action_labels=('action1', 'action2')"
    if isinstance(labels, str) or not isinstance(labels, Sequence):
        raise ValueError(f"action_labels must be a pair of strings (C label, D label), got {labels!r}; {example}.")
    pair = tuple(labels)
    if len(pair) != 2 or not all(isinstance(label, str) for label in pair):
        raise ValueError(f"action_labels must be exactly two strings (C label, D label), got {labels!r}; {example}.")
    for label in pair:
        if not label.strip():
            raise ValueError(f"action_labels must not be empty or blank, got {labels!r}; {example}.")
        if label != label.strip():
            raise ValueError(
                f"Label {label!r} has surrounding whitespace: answers are stripped before they are compared, so it "
                f"could never match; use {label.strip()!r}."
            )
    if pair[0] == pair[1]:
        raise ValueError(f"action_labels must be two different labels, got {labels!r}; {example}.")
    short, long = sorted(pair, key=len)
    if long.startswith(short) and re.match(r"[^\w]", long[len(short)]):
        raise ValueError(
            f"Labels {pair!r} cannot be told apart: {long!r} is {short!r} followed by {long[len(short)]!r}, so an "
            f"answer such as {long + ' ...'!r} could mean either; choose labels where neither extends the other."
        )
    return pair[0], pair[1]


def validate_action(action: object, *, allow_illegal: bool, agent: str | None = None) -> int:
    """Return ``action`` as an int in the action space, or raise a ValueError that names it (and the agent).

    Integers and numpy integers are accepted (and integral numpy arrays of one element, as Gymnasium samples them);
    strings, booleans and non-integral numbers are not.
    """
    if type(action) is int and 0 <= action <= 1 + allow_illegal:  # the common case, without the checks below
        return action
    valid = (0, 1, 2) if allow_illegal else (0, 1)
    value = _as_index(action)
    if value is None or value not in valid:
        who = f" from {agent}" if agent else ""
        raise ValueError(f"Invalid action {action!r}{who}: expected an integer, {action_hint(allow_illegal)}.")
    return value


def action_hint(allow_illegal: bool) -> str:
    """What an action may be, and how to allow the illegal one: the tail of every invalid-action message."""
    if allow_illegal:
        return "0 (C), 1 (D) or 2 (no legal answer)"
    return "0 (C) or 1 (D); build the env with allow_illegal=True to also accept 2 (no legal answer)"


def _as_index(action: object) -> int | None:
    """``action`` as an int if it is an integer of any kind (numpy, a one-element array or tensor), else None."""
    if isinstance(action, (bool, str, bytes)) or type(action).__name__ == "bool_":
        return None
    if hasattr(action, "shape") and hasattr(action, "item") and getattr(action, "ndim", 0) <= 1:
        try:
            if len(action.shape) and action.shape[0] != 1:  # type: ignore[union-attr]
                return None
            action = action.item()  # type: ignore[union-attr]
        except (TypeError, ValueError):
            return None
        if isinstance(action, bool):
            return None
    try:
        return operator.index(action)  # type: ignore[arg-type]
    except TypeError:
        return None
