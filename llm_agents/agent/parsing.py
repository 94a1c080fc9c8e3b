"""From a completion's text to an action index: 0 (the C label), 1 (the D label) or None (illegal).

Two rules, both case-sensitive:

- ``"strict"``, the paper's (docs/paper.md): the whole text, stripped of surrounding whitespace, equals a label.
  ``" action1 "`` is legal; ``"action1."``, ``"Action1"`` and ``"action1 because"`` are not.
- ``"lenient"``: also accepted is a completion whose *first word is a label*: after leading whitespace and leading
  punctuation (any of ``"'*`([{<`` and the like: characters that are neither word characters nor whitespace), the
  text starts with a label that is followed by the end of the text or by a character that is not a word character
  (a letter, digit or underscore). So ``"action1."``, ``"**action2**"`` and ``"action1 because..."`` are legal,
  while ``"action12"``, ``"action1_x"``, ``"I choose action1"`` and ``"Action1"`` are not. Leading punctuation is
  tried both kept and removed, so labels that themselves start with punctuation still match.

Parsing is total: any string gives an int or None, never an exception.
"""

from __future__ import annotations

import re
from typing import Literal, get_args

from matrix_games.actions import validate_labels

ParseMode = Literal["strict", "lenient"]
PARSE_MODES: tuple[str, ...] = get_args(ParseMode)

_LEADING_PUNCTUATION = re.compile(r"^[^\w\s]+")


def parse_action(text: str, labels: tuple[str, str], mode: ParseMode = "strict") -> int | None:
    """The index of the label ``text`` answers with, or None when the answer is illegal.

    Args:
        text: The decoded completion (special tokens already skipped).
        labels: The (C label, D label) pair, e.g. ``("action1", "action2")``.
        mode: ``"strict"`` (the paper's rule) or ``"lenient"`` (the first word may be the label); see the module doc.

    Example:
        >>> parse_action(" action2 ", ("action1", "action2"))
        1
        >>> parse_action("action1.", ("action1", "action2")) is None
        True
        >>> parse_action("action1.", ("action1", "action2"), mode="lenient")
        0
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_action needs the completion's text (a str), got {type(text).__name__}.")
    if mode not in PARSE_MODES:
        raise ValueError(f"Unknown parse mode {mode!r}: expected one of {PARSE_MODES}.")
    labels = validate_labels(labels)
    answer = text.strip()
    if answer in labels:
        return labels.index(answer)
    if mode == "strict":
        return None
    for candidate in (answer, _LEADING_PUNCTUATION.sub("", answer)):
        index = _first_word_label(candidate, labels)
        if index is not None:
            return index
    return None


def _first_word_label(text: str, labels: tuple[str, str]) -> int | None:
    """The index of the label ``text`` starts with as a whole word, preferring the longer label; else None."""
    for index in sorted(range(2), key=lambda i: -len(labels[i])):
        label = labels[index]
        if text.startswith(label):
            rest = text[len(label) :]
            if not rest or not _is_word_character(rest[0]) or not _is_word_character(label[-1]):
                return index
    return None


def _is_word_character(character: str) -> bool:
    return re.match(r"\w", character) is not None
