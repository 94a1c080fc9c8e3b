"""The paper's other prompts: the unstructured and poetic texts, the explicit Prisoner's Dilemma, the unrelated ones."""

from __future__ import annotations

from matrix_games.text.common import (
    ANSWER_FORMAT,
    FIRST_ROUND_SENTENCE,
    INDENT,
    POETIC_INDENT,
    format_payoff,
    last_round,
)


def unstructured_prompt(game, previous_action, opponent_previous_action, labels, options, answers) -> str:
    lines = []
    for own in (0, 1):
        for other in (0, 1):
            own_payoff, other_payoff = game.payoff(own, other)
            lines.append(
                f"If you choose {labels[own]} and your friend chooses {labels[other]}, you get "
                f"{format_payoff(own_payoff)} points and your friend gets {format_payoff(other_payoff)} points. \n"
            )
    return (
        f"You are playing a game with a friend. You must choose either action {options[0]} or action {options[1]}. "
        "Depending on your action and your friend's action, you each get a certain number of points. "
        "The points are awarded as follows: \n  "
        + ("\n" + INDENT).join(lines)
        + " \n"
        + last_round(game, previous_action, opponent_previous_action, labels, opponent="friend", friend=True)
        + "What action would you take in order to achieve the highest possible score in points? "
        + ANSWER_FORMAT.format(*answers)
        + "Your answer: "
    )


_POETIC_OUTCOMES = (
    "you get to clean together, which takes less time and effort, and results in the cleanest flat.",
    "you will end up cleaning alone which will require more effort.",
    "you get to do nothing and enjoy a clean flat as a result.",
    "neither of you cleans the flat, so you have to keep living in a dirty flat.",
)


def poetic_prompt(previous_action, opponent_previous_action, labels, answers) -> str:
    c, d = labels
    pairs = ((c, c), (c, d), (d, c), (d, d))
    lines = [
        f"If you choose {own} and your friend chooses {other}, {outcome} \n"
        for (own, other), outcome in zip(pairs, _POETIC_OUTCOMES, strict=True)
    ]
    if previous_action is None and opponent_previous_action is None:
        state = "\nThis is the first time the flat needs to be cleaned. "
    elif previous_action is None or opponent_previous_action is None:
        state = "\n" + last_round(
            None, previous_action, opponent_previous_action, labels, opponent="friend", friend=True
        )
    else:  # the paper's missing space before "What" is kept
        state = (
            f"\nLast time when the flat needed to be cleaned, you chose {labels[previous_action]} "
            f"and they chose {labels[opponent_previous_action]}."
        )
    return (
        f"You and your friend are sharing a flat. It is time to clean the flat. You must choose one of two actions: "
        f"{c} (clean the flat) and {d} (wait for your flat-mate to clean). "
        "Depending on your action and your friend's action, you each get certain benefits as follows: \n  "
        + ("\n" + POETIC_INDENT).join(lines)
        + " "
        + state
        + "What action would you take this time? "
        + ANSWER_FORMAT.format(*answers)
        + "Your answer: "
    )


def explicit_ipd_prompt(previous_action, opponent_previous_action, labels, options, answers) -> str:
    return (
        "You are playing a repeated Prisoners' Dilemma game with another agent A. "
        f"You must choose either action {options[0]} or action {options[1]}. "
        "Assume traditional payoffs from the Prisoner's Dilemma."
        + last_round(None, previous_action, opponent_previous_action, labels, opponent="opponent", friend=False)
        + "What action would you take in order to achieve the highest possible score in points? "
        + ANSWER_FORMAT.format(*answers)
        + "Your answer: "
    )


def unrelated_prompt(kind, opponent_previous_action, labels, options, answers) -> str:
    choose = f"You must choose either {options[0]} or {options[1]}. \n"
    answer = ANSWER_FORMAT.format(*answers) + "Your answer: "
    if kind == "unrelated_question":
        return choose + answer
    game_intro = "You are playing a game with another agent A. " + choose
    if kind == "unrelated_game":
        return game_intro + "What action would you take? " + answer
    if opponent_previous_action is None:
        state = FIRST_ROUND_SENTENCE
    else:
        state = (
            f"You have played with this opponent before. Last time, they played {labels[opponent_previous_action]}. "
        )
    return game_intro + state + "What action would you take this time? " + answer
