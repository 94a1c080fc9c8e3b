"""Tabular Q-learning against tit-for-tat under each reward: the paper's core claim in seconds, with no LLM.

The learner plays the Iterated Prisoner's Dilemma against tit-for-tat through the Gymnasium view
(``gymnasium.make("matrix_games/IPD-v0", opponent="tit_for_tat", reward=...)``). Its state is the last round, the
numeric observation (own previous move, opponent's previous move), and every episode starts from a random previous
round, as in the paper. It learns one Q-table per reward: game payoff, deontological, utilitarian and
game + deontological (xi = 3, the paper's training value).

Why gamma = 0 by default: the paper's PPO treats every round as an independent bandit sample, "no return is
propagated across rounds" (docs/paper.md), so each reward is judged round by round. Against tit-for-tat the opponent's
move this round is the learner's previous move, already fixed by the state, so defecting is then strictly better for
the game payoff, and the moral rewards are what make cooperation pay. With gamma > 0 (``--gamma 0.9``) even the game
payoff can learn to cooperate against tit-for-tat (today's C buys tomorrow's C); that is the shadow of the future,
not morality, and not the paper's setting.

What it shows (gamma = 0): the game payoff learns to defect everywhere; utilitarian learns to always cooperate;
deontological learns never to defect right after the opponent cooperated, and is indifferent after a defection
(both actions earn 0, printed as "C/D"; greedy play breaks such ties at random); game + deontological learns
"cooperate after C, defect after D", a tit-for-tat, so its cooperation depends on the drawn first round. This is
the paper's Fig 2 ordering (Game ~0% cooperation; Utilitarian the most; Deontological mostly C, never D|C; Game+De
mixed).

Run: ``python examples/moral_q_learning.py [--episodes 500] [--seed 0] [--gamma 0.0]``.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import gymnasium
import numpy as np

import matrix_games  # noqa: F401 - registers the environment ids
from matrix_games.metrics import action_type_fractions, cooperation_rate

REWARDS = ("game", "deontological", "utilitarian", "game_deontological")
MOVE = "CD"
STATES = [(own, other) for own in (0, 1) for other in (0, 1)]  # (own previous, opponent previous), C=0, D=1


@dataclass(frozen=True)
class Args:
    episodes: int = 500
    """Training episodes of 5 rounds per reward."""
    eval_episodes: int = 200
    """Greedy evaluation episodes per reward."""
    seed: int = 0
    gamma: float = 0.0
    """Discount across rounds; 0 is the paper's per-round bandit setting."""
    learning_rate: float = 0.5
    """Step size; large is safe: against tit-for-tat the reward is a deterministic function of (state, action)."""
    epsilon: float = 0.1
    """Exploration rate of the epsilon-greedy behaviour policy."""


def make_env(reward: str):
    return gymnasium.make("matrix_games/IPD-v0", opponent="tit_for_tat", reward=reward, observation_type="numeric")


def greedy(q_values: np.ndarray, rng: np.random.Generator) -> int:
    """The best action, ties broken at random (an indifferent learner has no preferred move)."""
    best = np.flatnonzero(q_values == q_values.max())
    return int(rng.choice(best))


def train(reward: str, args: Args) -> np.ndarray:
    """Epsilon-greedy tabular Q-learning; returns Q[own previous, opponent previous, action]."""
    env = make_env(reward)
    rng = np.random.default_rng(args.seed)
    q = np.zeros((4, 4, 2))  # numeric observation values 0..3 (C, D, illegal, none)
    env.action_space.seed(args.seed)
    for episode in range(args.episodes):
        state, _ = env.reset(seed=args.seed * 100_003 + episode)
        done = False
        while not done:
            own, other = state
            action = int(env.action_space.sample()) if rng.random() < args.epsilon else greedy(q[own, other], rng)
            next_state, r, terminated, truncated, _ = env.step(action)
            done = terminated or truncated
            future = 0.0 if terminated else args.gamma * q[next_state[0], next_state[1]].max()
            q[own, other, action] += args.learning_rate * (r + future - q[own, other, action])
            state = next_state
    env.close()
    return q


def evaluate(reward: str, q: np.ndarray, args: Args) -> list:
    """Greedy play for ``eval_episodes`` episodes; returns the learner's recorded rounds."""
    env = make_env(reward)
    rng = np.random.default_rng(args.seed + 1)
    rounds = []
    for episode in range(args.eval_episodes):
        state, _ = env.reset(seed=10**6 + episode)
        done = False
        while not done:
            state, _, terminated, truncated, info = env.step(greedy(q[state[0], state[1]], rng))
            rounds.append(info["outcome"])
            done = terminated or truncated
    env.close()
    return rounds


def policy_label(q_values: np.ndarray, tolerance: float = 1e-6) -> str:
    if abs(q_values[0] - q_values[1]) <= tolerance:
        return "C/D"
    return MOVE[int(np.argmax(q_values))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=Args.episodes, help="training episodes per reward")
    parser.add_argument("--eval-episodes", type=int, default=Args.eval_episodes, help="greedy evaluation episodes")
    parser.add_argument("--seed", type=int, default=Args.seed)
    parser.add_argument("--gamma", type=float, default=Args.gamma, help="0 = the paper's per-round setting")
    parser.add_argument("--learning-rate", type=float, default=Args.learning_rate)
    parser.add_argument("--epsilon", type=float, default=Args.epsilon)
    parsed = parser.parse_args(argv)
    args = Args(parsed.episodes, parsed.eval_episodes, parsed.seed, parsed.gamma, parsed.learning_rate, parsed.epsilon)

    print(
        f"Tabular Q-learning vs tit_for_tat, Iterated Prisoner's Dilemma: {args.episodes} episodes x 5 rounds, "
        f"gamma={args.gamma}, seed={args.seed}"
    )
    print("Greedy action after each last round (me, them); cooperation and D|C measured over greedy play.")
    header = f"{'reward':<20}" + "".join(f"{'after ' + MOVE[o] + MOVE[t]:>10}" for o, t in STATES)
    header += f"{'cooperation':>13}{'D|C':>7}"
    print(header)
    print("-" * len(header))
    for reward in REWARDS:
        q = train(reward, args)
        rounds = evaluate(reward, q, args)
        row = f"{reward:<20}" + "".join(f"{policy_label(q[o, t]):>10}" for o, t in STATES)
        betrayal = action_type_fractions(rounds)["D|C"]
        print(row + f"{cooperation_rate(rounds):>13.2f}{betrayal:>7.2f}")


if __name__ == "__main__":
    main()
