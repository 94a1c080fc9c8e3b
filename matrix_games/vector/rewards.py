"""The moral rewards of ``matrix_games.rewards`` on whole batches: ``(B, N)`` rewards from a ``VectorRound``.

The same formulas as ``rewards.frameworks`` (their docstrings say what each means), in array form, and the same
names: a framework, a weighted sum (``"game+deontological"``), and the same rule for illegal answers
(``illegal_reward`` under every reward). A reward registered by the user (``register_reward``) is a Python function
of one ``RoundOutcome``: it runs per game and player (correct, slow), with a warning.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from matrix_games.core.actions import ILLEGAL, NO_MOVE
from matrix_games.core.rounds import RoundOutcome
from matrix_games.rewards.registry import BUILTIN, RewardParameters, parse_reward, registered_reward
from matrix_games.vector.engine import VectorRound
from matrix_games.vector.strategies import opponent_view

VectorRewardFn = Callable[[VectorRound], np.ndarray]


def _others_previous(played: VectorRound) -> np.ndarray:
    """``(B, N)``: each player's opponent state before the round (the other's, or the others' majority)."""
    previous = played.previous
    if previous.shape[1] == 2:
        return previous[:, ::-1]
    return np.stack([opponent_view(previous, p, missing="others") for p in range(previous.shape[1])], axis=1)


def _pairwise(payoffs: np.ndarray) -> np.ndarray:
    return payoffs[:, :, None] - payoffs[:, None, :]  # [b, i, j] = x_i - x_j


def _virtue_equality(played: VectorRound, p: RewardParameters) -> np.ndarray:
    x = played.payoffs
    total = x.sum(axis=1)
    if (total <= 0).any() and not (x[total <= 0] == 0).all():
        raise ValueError("virtue_equality needs payoffs with a positive sum in every game.")
    spread = np.abs(_pairwise(x)).sum(axis=(1, 2))
    safe = np.where(total > 0, total, 1.0)
    value = np.where(total > 0, 1.0 - spread / (2 * (x.shape[1] - 1) * safe), 1.0)
    return np.broadcast_to(value[:, None], x.shape)


def _inequity_aversion(played: VectorRound, p: RewardParameters) -> np.ndarray:
    x = played.payoffs
    difference = _pairwise(x)  # x_i - x_j
    envy = np.maximum(-difference, 0.0).sum(axis=2)
    guilt = np.maximum(difference, 0.0).sum(axis=2)
    others = x.shape[1] - 1
    return x - p.inequity_alpha / others * envy - p.inequity_beta / others * guilt


def _betrayal(played: VectorRound) -> np.ndarray:
    return (played.actions == 1) & (_others_previous(played) == 0)


FRAMEWORKS: dict[str, Callable[[VectorRound, RewardParameters], np.ndarray]] = {
    "game": lambda r, p: r.payoffs,
    "deontological": lambda r, p: -p.deontological_penalty * _betrayal(r),
    "utilitarian": lambda r, p: np.broadcast_to(r.payoffs.sum(axis=1, keepdims=True), r.payoffs.shape),
    "game_deontological": lambda r, p: r.payoffs - p.deontological_penalty * _betrayal(r),
    "virtue_equality": _virtue_equality,
    "virtue_kindness": lambda r, p: p.kindness * (r.actions == 0),
    "inequity_aversion": _inequity_aversion,
}
"""Every built-in framework in array form (``tests/matrix_games/test_vector.py`` checks each against the scalar)."""
assert set(FRAMEWORKS) == set(BUILTIN), "every framework needs its array form"


def _per_outcome(fn: Callable[[RoundOutcome], float]) -> Callable[[VectorRound, RewardParameters], np.ndarray]:
    def rewards(played: VectorRound, parameters: RewardParameters) -> np.ndarray:
        out = np.empty(played.actions.shape, dtype=np.float64)
        for b in range(out.shape[0]):
            previous = tuple(None if m == NO_MOVE else int(m) for m in played.previous[b])
            actions = tuple(int(m) for m in played.actions[b])
            rewards_b, payoffs_b = tuple(played.game_rewards[b].tolist()), tuple(played.payoffs[b].tolist())
            for i in range(out.shape[1]):
                out[b, i] = fn(RoundOutcome(i, actions, previous, rewards_b, payoffs_b))
        return out

    return rewards


def vector_reward_fn(name: str, *, illegal_reward: float, parameters: RewardParameters | None = None) -> VectorRewardFn:
    """The reward ``name`` (a framework or a weighted sum) on a whole ``VectorRound``: ``(B, N)`` floats."""
    parameters = parameters or RewardParameters()
    parts = []
    for weight, term in parse_reward(name):
        if term in FRAMEWORKS:
            parts.append((weight, FRAMEWORKS[term]))
        else:
            warnings.warn(
                f"Reward {term!r} is a Python function of one RoundOutcome: the vector env calls it once per game "
                "and player (correct, slow). Write it with numpy on a VectorRound for speed.",
                UserWarning,
                stacklevel=2,
            )
            parts.append((weight, _per_outcome(registered_reward(term))))

    def reward(played: VectorRound) -> np.ndarray:
        total = sum(weight * part(played, parameters) for weight, part in parts)
        total = np.asarray(total, dtype=np.float64)
        if played.any_illegal:
            total = np.where(played.actions == ILLEGAL, illegal_reward, total)
        return total

    reward.__name__ = name
    return reward
