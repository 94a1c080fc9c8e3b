"""Steps per second of the environments, in one process: the 2x2 games and the public goods game.

Usage::

    python benchmarks/env_throughput.py [--seconds 2] [--players 8]

Each line is one environment playing 5-round episodes with uniformly random actions, resets included (one reset per
five steps), for about ``--seconds`` seconds: the parallel env with numeric and text observations for the IPD and for
the public goods game of ``--players`` players, and the Gymnasium single-agent view against tit-for-tat and against
conditional cooperators. Steps per second count joint steps (one call of ``step``), whatever the number of players.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import gymnasium
import numpy as np

import matrix_games  # noqa: F401 - registers the ids
from matrix_games.parallel_env import IteratedMatrixGameEnv


def parallel_stepper(game: str, observation_type: str, **kwargs) -> Callable[[np.random.Generator], None]:
    env = IteratedMatrixGameEnv(game, num_rounds=5, observation_type=observation_type, **kwargs)

    def episode(rng: np.random.Generator) -> None:
        env.reset(seed=int(rng.integers(2**31)))
        for _ in range(5):
            env.step({agent: int(rng.integers(2)) for agent in env.possible_agents})

    return episode


def single_stepper(env_id: str, **kwargs) -> Callable[[np.random.Generator], None]:
    env = gymnasium.make(env_id, num_rounds=5, observation_type="numeric", **kwargs)

    def episode(rng: np.random.Generator) -> None:
        env.reset(seed=int(rng.integers(2**31)))
        for _ in range(5):
            env.step(int(rng.integers(2)))

    return episode


def steps_per_second(episode: Callable[[np.random.Generator], None], seconds: float) -> float:
    rng = np.random.default_rng(0)
    episode(rng)  # warm-up
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        episode(rng)
        steps += 5
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per line [2]")
    parser.add_argument("--players", type=int, default=8, help="players of the public goods game [8]")
    args = parser.parse_args()
    pgg = {"num_players": args.players}
    cases = {
        "parallel/ipd numeric": parallel_stepper("prisoners_dilemma", "numeric"),
        "parallel/ipd text": parallel_stepper("prisoners_dilemma", "text"),
        f"parallel/public_goods_{args.players} numeric": parallel_stepper("public_goods", "numeric", **pgg),
        f"parallel/public_goods_{args.players} text": parallel_stepper("public_goods", "text", **pgg),
        "gymnasium/ipd vs tit_for_tat": single_stepper("matrix_games/IPD-v0", opponent="tit_for_tat"),
        f"gymnasium/public_goods_{args.players} vs conditional_cooperator": single_stepper(
            "matrix_games/PublicGoods-v0", opponent="conditional_cooperator", **pgg
        ),
    }
    for name, episode in cases.items():
        print(f"{name:<55} {steps_per_second(episode, args.seconds):>10,.0f} steps/s", flush=True)


if __name__ == "__main__":
    main()
