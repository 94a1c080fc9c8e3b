"""Moral rewards as pure functions of one round (the paper's Table 1; docs/rewards.md).

Each function maps a player's ``RoundOutcome`` to a float. Index 0 is the cooperative action C in every game, so
"defecting against a cooperator" means playing 1 right after the opponent's state was 0.

- ``game``: the player's own game payoff.
- ``deontological``: ``-penalty`` when the player defects right after the opponent cooperated, else 0
  (the norm of conditional reciprocity; the paper's xi = 3 in training).
- ``utilitarian``: the sum of all players' game payoffs.
- ``game_deontological``: the game payoff minus ``penalty`` in the same case.

An illegal answer earns ``illegal_reward`` under every reward. An illegal *opponent* counts as having repeated its
last legal move (``rounds.py`` says why); the paper's code treated it differently per reward (docs/paper.md).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Literal, get_args

from matrix_games.actions import C, D
from matrix_games.rounds import RoundOutcome
from matrix_games.validation import check_finite

RewardName = Literal["game", "deontological", "utilitarian", "game_deontological"]
REWARD_NAMES: tuple[str, ...] = get_args(RewardName)

RewardFn = Callable[[RoundOutcome], float]

DEFAULT_DEONTOLOGICAL_PENALTY = 3.0
"""The paper's xi in training (``--r_punishment 3``); its test script used 4."""

DEFAULT_ILLEGAL_REWARD = -6.0
"""The paper's R_illegal (``--r_illegal 6``)."""


def is_betrayal(outcome: RoundOutcome) -> bool:
    """True when the player defected right after the opponent cooperated (the deontological norm's violation)."""
    return outcome.action == D and outcome.opponent_previous_action == C


def game_reward(outcome: RoundOutcome, *, illegal_reward: float = DEFAULT_ILLEGAL_REWARD) -> float:
    """The player's own game payoff; ``illegal_reward`` for an illegal answer."""
    return illegal_reward if outcome.is_illegal else outcome.payoff


def deontological_reward(
    outcome: RoundOutcome,
    *,
    penalty: float = DEFAULT_DEONTOLOGICAL_PENALTY,
    illegal_reward: float = DEFAULT_ILLEGAL_REWARD,
) -> float:
    """``-penalty`` for defecting right after the opponent cooperated, 0 for any other legal answer."""
    if outcome.is_illegal:
        return illegal_reward
    return -penalty if is_betrayal(outcome) else 0.0


def utilitarian_reward(outcome: RoundOutcome, *, illegal_reward: float = DEFAULT_ILLEGAL_REWARD) -> float:
    """The sum of all players' game payoffs (collective welfare); ``illegal_reward`` for an illegal answer."""
    if outcome.is_illegal:
        return illegal_reward
    return outcome.joint_payoff


def game_deontological_reward(
    outcome: RoundOutcome,
    *,
    penalty: float = DEFAULT_DEONTOLOGICAL_PENALTY,
    illegal_reward: float = DEFAULT_ILLEGAL_REWARD,
) -> float:
    """The game payoff minus ``penalty`` for defecting right after the opponent cooperated."""
    if outcome.is_illegal:
        return illegal_reward
    return outcome.payoff - (penalty if is_betrayal(outcome) else 0.0)


def make_reward_fn(
    name: str,
    *,
    penalty: float = DEFAULT_DEONTOLOGICAL_PENALTY,
    illegal_reward: float = DEFAULT_ILLEGAL_REWARD,
) -> RewardFn:
    """The reward function called ``name``, with its parameters bound (checked: finite, the penalty not negative)."""
    check_reward_name(name)
    penalty = check_finite("deontological_penalty", penalty, example="3", minimum=0.0)
    illegal_reward = check_finite("illegal_reward", illegal_reward, example="-6")
    if name == "game":
        return lambda outcome: game_reward(outcome, illegal_reward=illegal_reward)
    if name == "utilitarian":
        return lambda outcome: utilitarian_reward(outcome, illegal_reward=illegal_reward)
    if name == "deontological":
        return lambda outcome: deontological_reward(outcome, penalty=penalty, illegal_reward=illegal_reward)
    return lambda outcome: game_deontological_reward(outcome, penalty=penalty, illegal_reward=illegal_reward)


def check_reward_name(name: object) -> str:
    """Return ``name`` if it is a known reward, else raise a ValueError with the closest known name."""
    if name in REWARD_NAMES:
        return name  # type: ignore[return-value]
    close = difflib.get_close_matches(str(name), REWARD_NAMES, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"Unknown reward {name!r}.{hint} Known rewards: {list(REWARD_NAMES)}.")
