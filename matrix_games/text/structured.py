"""The structured game prompt: rules, the payoff table (in any of four orders) and the previous round."""

from __future__ import annotations

from matrix_games.core.matrix_game import MatrixGame
from matrix_games.text.common import ANSWER_FORMAT, HEADER, INDENT, format_payoff, last_round


def cell_text(game: MatrixGame, own: int, other: int) -> str:
    own_payoff, other_payoff = game.payoff(own, other)
    return f"{format_payoff(own_payoff)}, {format_payoff(other_payoff)}"


def table(game: MatrixGame, labels: tuple[str, str], order: str) -> str:
    """The payoff table block, from the line after "column player): \\n " to the state sentence."""
    c, d = labels
    header = "|         |  {0}  |  {1}  | \n" + INDENT + "|---------|-----------|-----------| \n"
    row = INDENT + "| {0} |  {1}     |  {2}     |"
    cell = {(a, b): cell_text(game, a, b) for a in (0, 1) for b in (0, 1)}
    if order == "original":
        head = header.format(c, d)
        rows = row.format(c, cell[0, 0], cell[0, 1]) + "\n" + row.format(d, cell[1, 0], cell[1, 1]) + " \n "
    elif order == "reversed":
        head = header.format(d, c)
        rows = row.format(d, cell[1, 1], cell[1, 0]) + "\n" + row.format(c, cell[0, 1], cell[0, 0]) + " \n "
    elif order == "permuted1":
        head = header.format(d, c)
        rows = row.format(c, cell[0, 1], cell[0, 0]) + " \n" + row.format(d, cell[1, 1], cell[1, 0]) + "\n "
    else:  # permuted2: its extra blank line is the paper's
        head = header.format(c, d)
        rows = row.format(d, cell[1, 0], cell[1, 1]) + "\n" + row.format(c, cell[0, 0], cell[0, 1]) + " \n"
        rows += INDENT + "\n "
    return "\n" + INDENT + head + rows


def structured_prompt(game, previous_action, opponent_previous_action, labels, options, answers, order) -> str:
    """The training prompt (``order="original"``) and its table-order variants."""
    return (
        HEADER.format(*options)
        + table(game, labels, order)
        + last_round(game, previous_action, opponent_previous_action, labels, opponent="opponent", friend=False)
        + "What action would you take in order to achieve the highest possible score in points? "
        + ANSWER_FORMAT.format(*answers)
        + "Your answer: "
    )
