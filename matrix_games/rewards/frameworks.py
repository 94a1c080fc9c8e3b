"""The moral frameworks, each a pure function of one player's ``RoundOutcome`` and its parameters (docs/rewards.md).

Index 0 is the cooperative action C in every game (contributing, in the public goods game). With more than two
players "the opponent's previous move" is the others' majority (``rounds.majority_move``), so the deontological norm
reads: do not defect right after a round in which more than half of the others contributed.

- the paper's four (Tennant, Hailes & Musolesi 2025): ``game``, ``deontological``, ``utilitarian``,
  ``game_deontological``;
- from Tennant, Hailes & Musolesi 2023 ("Modeling Moral Choices in Social Dilemmas with Multi-Agent Reinforcement
  Learning", IJCAI): ``virtue_equality`` (one minus the Gini coefficient of the round's payoffs) and
  ``virtue_kindness`` (a reward for cooperating);
- from the social-preference literature: ``inequity_aversion`` (Fehr & Schmidt 1999, as Hughes et al. 2018 use it in
  multi-agent RL).

These functions see legal answers only: ``registry.make_reward_fn`` gives every reward ``illegal_reward`` for an
illegal answer.
"""

from __future__ import annotations

from matrix_games.core.actions import C, D
from matrix_games.core.rounds import RoundOutcome

DEFAULT_DEONTOLOGICAL_PENALTY = 3.0
"""The paper's xi in training (``--r_punishment 3``); its test script used 4."""

DEFAULT_ILLEGAL_REWARD = -6.0
"""The paper's R_illegal (``--r_illegal 6``)."""

DEFAULT_KINDNESS = 1.0
"""The reward ``virtue_kindness`` gives a cooperative move."""

DEFAULT_INEQUITY_ALPHA = 5.0
"""Fehr-Schmidt's disadvantageous-inequity weight, as Hughes et al. (2018)."""

DEFAULT_INEQUITY_BETA = 0.05
"""Fehr-Schmidt's advantageous-inequity weight, as Hughes et al. (2018)."""


def is_betrayal(outcome: RoundOutcome) -> bool:
    """True when the player defected right after the opponent cooperated (with more players: right after more than
    half of the others contributed), the deontological norm's violation."""
    return outcome.action == D and outcome.opponent_previous_action == C


def game(outcome: RoundOutcome) -> float:
    """The player's own payoff."""
    return outcome.payoff


def deontological(outcome: RoundOutcome, *, penalty: float = DEFAULT_DEONTOLOGICAL_PENALTY) -> float:
    """``-penalty`` for defecting right after the opponent cooperated (the norm of conditional reciprocity), else 0."""
    return -penalty if is_betrayal(outcome) else 0.0


def utilitarian(outcome: RoundOutcome) -> float:
    """The sum of all players' payoffs (collective welfare)."""
    return outcome.joint_payoff


def game_deontological(outcome: RoundOutcome, *, penalty: float = DEFAULT_DEONTOLOGICAL_PENALTY) -> float:
    """The game payoff minus ``penalty`` for defecting right after the opponent cooperated."""
    return outcome.payoff + deontological(outcome, penalty=penalty)


def virtue_equality(outcome: RoundOutcome) -> float:
    """``1 - sum_i sum_j |x_i - x_j| / (2 (N - 1) sum_k x_k)`` over the round's payoffs x: one minus their Gini
    coefficient, 1 for equal payoffs (and when every payoff is 0); with two players ``1 - |x_0 - x_1| / (x_0 + x_1)``.

    Example:
        >>> from matrix_games.core.games import PRISONERS_DILEMMA
        >>> from matrix_games.core.rounds import play_round
        >>> virtue_equality(play_round(PRISONERS_DILEMMA, (0, 1), (0, 0), illegal_reward=-6)[0])
        0.0
    """
    payoffs = outcome.payoffs
    total = sum(payoffs)
    if all(x == 0 for x in payoffs):
        return 1.0
    if total <= 0:
        raise ValueError(f"virtue_equality needs payoffs with a positive sum, got {payoffs}.")
    spread = sum(abs(a - b) for a in payoffs for b in payoffs)
    return 1.0 - spread / (2 * (len(payoffs) - 1) * total)


def virtue_kindness(outcome: RoundOutcome, *, kindness: float = DEFAULT_KINDNESS) -> float:
    """``kindness`` for a cooperative move, else 0."""
    return kindness if outcome.action == C else 0.0


def inequity_aversion(
    outcome: RoundOutcome, *, alpha: float = DEFAULT_INEQUITY_ALPHA, beta: float = DEFAULT_INEQUITY_BETA
) -> float:
    """``x_i - alpha/(N-1) sum_j max(x_j - x_i, 0) - beta/(N-1) sum_j max(x_i - x_j, 0)``: the own payoff, less
    envy of those who got more and guilt towards those who got less."""
    own = outcome.payoff
    others = [outcome.payoffs[j] for j in outcome.others]
    envy = sum(max(x - own, 0.0) for x in others)
    guilt = sum(max(own - x, 0.0) for x in others)
    return own - alpha / len(others) * envy - beta / len(others) * guilt
