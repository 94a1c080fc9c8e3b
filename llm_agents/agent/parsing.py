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

``answer_outlook`` reads the same rules on an *unfinished* answer: whether every continuation of a text is illegal,
whether every one parses as the same label, or whether it is still open. The exact analysis
(``llm_agents.analysis``) walks only the open answers, so the two functions must change together.
"""

from __future__ import annotations

import re
from typing import Final, Literal, get_args

from matrix_games.core.actions import validate_labels

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
    return parse_checked(text, validate_labels(labels), mode)


def parse_checked(text: str, labels: tuple[str, str], mode: ParseMode) -> int | None:
    """``parse_action`` for arguments already checked (the exact analysis parses millions of texts)."""
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


OPEN: Final = "open"
"""``answer_outlook``'s word for a text some continuations of which parse differently (or as a label and not)."""

Outlook = int | None | str
"""``0`` or ``1``: every continuation parses as that label; ``None``: none is legal; ``OPEN``: it depends."""


def answer_outlook(text: str, labels: tuple[str, str], mode: ParseMode = "strict") -> Outlook:
    """What ``text`` can still become: the parse of every string that starts with it, where known.

    Returns 0 or 1 when every continuation (the empty one included) parses as that label, None when none parses as
    a label, and ``OPEN`` otherwise. It is exact where it says 0, 1 or None (a test checks it against
    ``parse_action`` on random continuations) and may say ``OPEN`` where a finer reading could decide.

    Example:
        >>> answer_outlook(" act", ("action1", "action2")), answer_outlook("yes", ("action1", "action2"))
        ('open', None)
        >>> answer_outlook("action1.", ("action1", "action2"), mode="lenient")
        0
    """
    answer = text.lstrip()
    if not answer:
        return OPEN
    if mode == "strict":
        for label in labels:  # a label still to be completed, or complete with only whitespace after it
            if label.startswith(answer) or (answer.startswith(label) and not answer[len(label) :].strip()):
                return OPEN
        return None
    # lenient: the answer as it stands (nothing or whitespace follows), and what a longer answer can parse as
    results = {parse_checked(answer, labels, "lenient")} | _longer_answers(answer, labels)
    if len(results) == 1:
        return results.pop()
    return OPEN


def _longer_answers(known: str, labels: tuple[str, str]) -> set[int | None]:
    """A superset of the lenient parses of ``known + more``, for every non-empty ``more`` that does not end with
    whitespace (``known`` starts with a non-space character)."""
    first = _first_word_labels(known, labels)
    if None not in first:
        return first
    punctuation = _LEADING_PUNCTUATION.match(known)
    lead = punctuation.group(0) if punctuation else ""
    if lead == known:  # only punctuation so far: without it, the answer could still be anything
        return first | {0, 1}
    rest = _first_word_labels(known[len(lead) :], labels) if lead else first
    return (first - {None}) | rest


def _first_word_labels(known: str, labels: tuple[str, str]) -> set[int | None]:
    """A superset of ``_first_word_label(known + more)`` over non-empty ``more``: the labels tried in the same order,
    each one possible, certain or impossible from what ``known`` shows."""
    possible: set[int | None] = set()
    for index in sorted(range(2), key=lambda i: -len(labels[i])):
        label = labels[index]
        if len(known) < len(label):
            if label.startswith(known):
                possible.add(index)  # ``more`` may complete it (and then end or go on)
            continue
        if not known.startswith(label):
            continue
        if not _is_word_character(label[-1]):
            possible.add(index)
            return possible  # certain: what follows a label ending in punctuation does not matter
        if len(known) > len(label):
            if not _is_word_character(known[len(label)]):
                possible.add(index)
                return possible  # certain
            continue  # impossible: a word character follows
        possible.add(index)  # it depends on the first character of ``more``
    possible.add(None)
    return possible
