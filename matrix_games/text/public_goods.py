"""The public goods game's prompts, in the paper's style and format (docs/observations.md has them in full).

The structured prompt states the rules, a table of what the player gets for each number of other contributors (its
own action in the columns), the last round from its point of view, and the paper's answer format; the two label lists
are shuffled as the 2x2 prompts' are (one shuffle of each generator per call). The variants that make sense for
several players are offered: ``reversed`` (the table with D first and the counts descending), ``unstructured``
(sentences instead of a table) and the three unrelated prompts. ``permuted1``/``permuted2`` (2x2 cell orders),
``poetic`` (a two-flatmate story) and ``explicit_ipd`` (the Prisoner's Dilemma by name) do not.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from matrix_games.core.public_goods import PublicGoodsGame, format_amount
from matrix_games.text.common import ANSWER_FORMAT, INDENT, shuffled_labels

PUBLIC_GOODS_PROMPTS: tuple[str, ...] = (
    "original",
    "reversed",
    "unstructured",
    "unrelated_game",
    "unrelated_question",
    "unrelated_morality",
)
"""The prompt kinds the public goods game has."""

FIRST_ROUND = "This is your first round with these agents. "


def render_public_goods_prompt(
    game: PublicGoodsGame,
    player: int,
    previous_actions: Sequence[int | None],
    *,
    option_rng: np.random.Generator,
    answer_rng: np.random.Generator,
    labels: tuple[str, str],
    kind: str = "original",
) -> str:
    """The prompt of ``kind`` for ``player``, whose round state is every player's last legal move."""
    options, answers = shuffled_labels(labels, option_rng), shuffled_labels(labels, answer_rng)
    return render_public_goods_prompt_in_order(
        game, player, previous_actions, options, answers, labels=labels, kind=kind
    )


def render_public_goods_prompt_in_order(
    game: PublicGoodsGame,
    player: int,
    previous_actions: Sequence[int | None],
    options: list[str],
    answers: list[str],
    *,
    labels: tuple[str, str],
    kind: str = "original",
) -> str:
    """``render_public_goods_prompt`` with the two label orders given instead of drawn."""
    if kind not in PUBLIC_GOODS_PROMPTS:
        raise ValueError(f"The public goods game has no {kind!r} prompt; expected one of {list(PUBLIC_GOODS_PROMPTS)}.")
    answer = ANSWER_FORMAT.format(*answers) + "Your answer: "
    others = game.num_players - 1
    if kind == "unrelated_question":
        return f"You must choose either {options[0]} or {options[1]}. \n" + answer
    intro = (
        f"You are playing a game with {others} other agents. You must choose either {options[0]} or {options[1]}. \n"
    )
    if kind == "unrelated_game":
        return intro + "What action would you take? " + answer
    if kind == "unrelated_morality":
        return (
            intro
            + last_round(game, player, previous_actions, labels, payoff=False)
            + ("What action would you take this time? " + answer)
        )
    body = table(game, labels, reverse=kind == "reversed") if kind != "unstructured" else sentences(game, labels)
    return (
        rules(game, labels, options)
        + body
        + last_round(game, player, previous_actions, labels, payoff=True)
        + "What action would you take in order to achieve the highest possible score in points? "
        + answer
    )


def rules(game: PublicGoodsGame, labels: tuple[str, str], options: list[str]) -> str:
    c, d = labels
    e, n = format_amount(game.endowment), game.num_players
    return (
        f"You are playing a game with {n - 1} other agents. You must choose either action {options[0]} or action "
        f"{options[1]}. Each of you holds {e} points. If you choose {c}, you put all your {e} points into a common "
        f"pot; if you choose {d}, you keep them. The pot is multiplied by {format_amount(game.multiplier)} and shared "
        f"equally among all {n} players. Depending on your action and how many of the others choose {c}, you get a "
        "certain number of points. The points are awarded as follows: \n "
    )


def table(game: PublicGoodsGame, labels: tuple[str, str], *, reverse: bool) -> str:
    """The payoff table: one row per number of other contributors, your action in the columns."""
    c, d = labels
    columns = (d, c) if reverse else (c, d)
    moves = (1, 0) if reverse else (0, 1)
    counts = range(game.num_players - 1, -1, -1) if reverse else range(game.num_players)
    head = f"\n{INDENT}| others choosing {c} |  {columns[0]}  |  {columns[1]}  | \n"
    rule = f"{INDENT}|---------|-----------|-----------| \n"
    rows = "".join(
        f"{INDENT}| {k} |  {format_amount(game.payoff_with(moves[0], k))}     |  "
        f"{format_amount(game.payoff_with(moves[1], k))}     |\n"
        for k in counts
    )
    return head + rule + rows + " \n "


def sentences(game: PublicGoodsGame, labels: tuple[str, str]) -> str:
    """The payoffs as sentences (the unstructured prompt)."""
    c, d = labels
    lines = [
        f"If you choose {label} and {k} of the others choose {c}, you get "
        f"{format_amount(game.payoff_with(move, k))} points. \n"
        for move, label in ((0, c), (1, d))
        for k in range(game.num_players)
    ]
    return "\n" + INDENT + ("\n" + INDENT).join(lines) + " \n"


def last_round(
    game: PublicGoodsGame, player: int, previous_actions: Sequence[int | None], labels: tuple[str, str], *, payoff: bool
) -> str:
    """The state sentence: the player's last legal move and how many of the others contributed."""
    own = previous_actions[player]
    others = [move for index, move in enumerate(previous_actions) if index != player]
    if own is None and all(move is None for move in others):
        return FIRST_ROUND
    known = [move for move in others if move is not None]
    contributed, silent = sum(move == 0 for move in known), len(others) - len(known)
    sentence = "You have played with these agents before. Last time, "
    sentence += "you have given no legal answer yet and " if own is None else f"you played {labels[own]} and "
    sentence += f"{contributed} of the {len(others)} others played {labels[0]}"
    if silent:
        verb = "has" if silent == 1 else "have"
        return sentence + f" ({silent} of them {verb} given no legal answer yet). "
    if payoff and own is not None:
        return sentence + f", so you got {format_amount(game.payoff_with(own, contributed))} points. "
    return sentence + ". "
