"""The paper's text prompts, rendered by pure functions (docs/paper.md, docs/observations.md).

Every prompt is reproduced character for character from the paper's code, odd spacing included: the doubled word in
"action action1", the 12-space indentation of the payoff table, trailing spaces, and the missing spaces of the
poetic and explicit prompts. The game's own payoffs fill the table, from the point of view of the row player: pass
``game.for_player(1)`` to render player 1's prompt.

Randomness is explicit. Like the paper's prompt builders, every call consumes exactly one shuffle from each of two
generators: ``option_rng`` orders the labels in "You must choose either ..." and ``answer_rng`` orders them in
"choose either ...". Passing the same generator twice reproduces the paper's unrelated "morality" prompt, which was
called with ``RN_stream_2=RN_stream_1``.

Departures from the paper, each deliberate:

- The explicit-IPD prompt shuffles its second option list with ``answer_rng``. The paper's code shuffled the first
  list twice, so its second list was always ``[C, D]`` (docs/paper.md, "Bugs"); we do not reproduce that bug.
- A state that is ``None`` (a classic first round, ``initial_state="none"``) replaces the "Last time..." sentence by
  "This is your first round with this opponent. " (the paper always starts from a random previous round, so it never
  needed one). When only one player has a legal move so far (the other answered illegally in the first round), the
  sentence names the known move and says the other has given no legal answer yet.
- A ``preface`` (the paper's value prompts) is prepended as is. The paper's value-prompted variants also
  indented the table by 16 instead of 12 spaces; we keep the 12 of the training prompt.

Payoffs are written as integers when they are whole numbers ("3", as in the paper's integer tables), else as
Python writes the float ("2.5").
"""

from __future__ import annotations

import numpy as np

from matrix_games.core.actions import DEFAULT_LABELS, validate_labels
from matrix_games.core.matrix_game import MatrixGame
from matrix_games.text.common import (
    DEONTOLOGICAL_PREFACE,
    FIRST_ROUND_SENTENCE,
    PROMPT_KINDS,
    TABLE_ORDERS,
    TEXT_CHARSET,
    UTILITARIAN_PREFACE,
    PromptKind,
    TableOrder,
    format_payoff,
    label_orders,
    shuffled_labels,
)
from matrix_games.text.structured import structured_prompt
from matrix_games.text.variants import explicit_ipd_prompt, poetic_prompt, unrelated_prompt, unstructured_prompt

__all__ = [
    "DEONTOLOGICAL_PREFACE",
    "FIRST_ROUND_SENTENCE",
    "PROMPT_KINDS",
    "TABLE_ORDERS",
    "TEXT_CHARSET",
    "UTILITARIAN_PREFACE",
    "PromptKind",
    "TableOrder",
    "format_payoff",
    "label_orders",
    "render_prompt",
    "render_prompt_in_order",
    "shuffled_labels",
]


def render_prompt(
    game: MatrixGame,
    previous_action: int | None,
    opponent_previous_action: int | None,
    *,
    option_rng: np.random.Generator,
    answer_rng: np.random.Generator,
    labels: tuple[str, str] = DEFAULT_LABELS,
    kind: PromptKind = "original",
    preface: str = "",
) -> str:
    """The prompt of kind ``kind`` for the row player of ``game``, whose state is the two previous moves.

    Args:
        game: The game from this player's point of view (``game.for_player(1)`` for player 1).
        previous_action: This player's last legal move (0 = C, 1 = D), or None before any.
        opponent_previous_action: The opponent's last legal move, or None before any.
        option_rng: Orders the labels in "You must choose either ..." (one shuffle per call).
        answer_rng: Orders the labels in "choose either ..." (one shuffle per call).
        labels: The (C, D) labels, e.g. ``("action1", "action2")``.
        kind: Which prompt (see ``PROMPT_KINDS``).
        preface: Text put before the prompt, e.g. ``UTILITARIAN_PREFACE``.

    Example:
        >>> from matrix_games.core.games import PRISONERS_DILEMMA
        >>> rng = np.random.default_rng(0)
        >>> text = render_prompt(PRISONERS_DILEMMA, 0, 1, option_rng=rng, answer_rng=rng, kind="unrelated_question")
        >>> text[:72]
        'You must choose either action1 or action2. \\nYour answer must follow this'
    """
    labels = validate_labels(labels)
    options = shuffled_labels(labels, option_rng)
    answers = shuffled_labels(labels, answer_rng)
    return render_prompt_in_order(
        game, previous_action, opponent_previous_action, options, answers, labels=labels, kind=kind, preface=preface
    )


def render_prompt_in_order(
    game: MatrixGame,
    previous_action: int | None,
    opponent_previous_action: int | None,
    options: list[str],
    answers: list[str],
    *,
    labels: tuple[str, str] = DEFAULT_LABELS,
    kind: PromptKind = "original",
    preface: str = "",
) -> str:
    """``render_prompt`` with the two label orders given instead of drawn: ``options`` for "You must choose either
    ...", ``answers`` for "choose either ..." (each a permutation of ``labels``)."""
    labels = validate_labels(labels)
    if kind not in PROMPT_KINDS:
        raise ValueError(f"Unknown prompt kind {kind!r}: expected one of {list(PROMPT_KINDS)}.")
    for name, move in (("previous_action", previous_action), ("opponent_previous_action", opponent_previous_action)):
        if move not in (None, 0, 1):
            raise ValueError(f"{name} must be 0 (C), 1 (D) or None (no legal move yet), got {move!r}.")
    if kind in TABLE_ORDERS:
        body = structured_prompt(game, previous_action, opponent_previous_action, labels, options, answers, kind)
    elif kind == "unstructured":
        body = unstructured_prompt(game, previous_action, opponent_previous_action, labels, options, answers)
    elif kind == "poetic":
        body = poetic_prompt(previous_action, opponent_previous_action, labels, answers)
    elif kind == "explicit_ipd":
        body = explicit_ipd_prompt(previous_action, opponent_previous_action, labels, options, answers)
    else:
        body = unrelated_prompt(kind, opponent_previous_action, labels, options, answers)
    return preface + body
