"""Tabular Q-learning on the vectorised engine: thousands of games per step, each reward learned in about a second.

The same study as ``moral_q_learning.py`` (the learner against tit-for-tat in the Iterated Prisoner's Dilemma, one
Q-table per reward, gamma = 0 as the paper's round-by-round PPO; that example's docstring says why), but the learner
plays ``--games`` games at once through ``gymnasium.make_vec(..., vectorization_mode="vector_entry_point")`` and
updates its table from all of them per step, with ``np.add.at``. Its state is the numeric observation (own previous
move, opponent's previous move); every episode starts from a random previous round, as in the paper.

What it shows: the game payoff learns to defect everywhere; utilitarian to always cooperate; deontological never to
defect right after the opponent cooperated (indifferent after a defection, printed "C/D"); game + deontological
becomes tit-for-tat ("C after C, D after D").

Run: ``python examples/vector_q_learning.py [--games 4096] [--steps 60] [--seed 0]``.
"""

from __future__ import annotations

import argparse
import time

import gymnasium
import numpy as np

import matrix_games  # noqa: F401 - registers the environment ids

REWARDS = ("game", "deontological", "utilitarian", "game_deontological")
STATES = [(own, other) for own in (0, 1) for other in (0, 1)]  # (own previous, opponent previous), C=0, D=1


def learn(reward: str, games: int, steps: int, seed: int, alpha: float = 0.2, epsilon: float = 0.2):
    """Q-values ``(16, 2)`` indexed by ``own * 4 + other``, learned from ``games`` games per step, and the rounds/s."""
    env = gymnasium.make_vec(
        "matrix_games/IPD-v0", num_envs=games, opponent="tit_for_tat", reward=reward, autoreset_mode="same_step"
    )
    rng = np.random.default_rng(seed)
    q = np.zeros((16, 2))
    observations, _ = env.reset(seed=seed)
    start = time.perf_counter()
    for _ in range(steps):
        states = observations[:, 0] * 4 + observations[:, 1]
        greedy = q[states].argmax(axis=1)
        explore = rng.random(games) < epsilon
        actions = np.where(explore, rng.integers(0, 2, size=games), greedy)
        observations, rewards, *_ = env.step(actions)
        # gamma = 0: each round's reward is its own target; one step towards the mean over the games that were in
        # the same state and took the same action
        totals, counts = np.zeros((16, 2)), np.zeros((16, 2))
        np.add.at(totals, (states, actions), rewards)
        np.add.at(counts, (states, actions), 1)
        seen = counts > 0
        q[seen] += alpha * (totals[seen] / counts[seen] - q[seen])
    return q, steps * games / (time.perf_counter() - start)


def policy_label(values: np.ndarray) -> str:
    if abs(values[0] - values[1]) < 1e-2:
        return "C/D"
    return "CD"[int(values.argmax())]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=4096, help="games played at once [4096]")
    parser.add_argument("--steps", type=int, default=60, help="steps (rounds of every game) per reward [60]")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print("policy after (own previous, opponent previous) = CC CD DC DD; Q(C) - Q(D) per state; rounds/s")
    for reward in REWARDS:
        q, speed = learn(reward, args.games, args.steps, args.seed)
        labels = [policy_label(q[own * 4 + other]) for own, other in STATES]
        gaps = " ".join(f"{q[own * 4 + other, 0] - q[own * 4 + other, 1]:+6.2f}" for own, other in STATES)
        print(f"{reward:<20} {' '.join(f'{label:>3}' for label in labels)}   {gaps}   {speed:>12,.0f}")


if __name__ == "__main__":
    main()
