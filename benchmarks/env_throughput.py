"""Steps per second of our environments beside PettingZoo's ``rps_v2`` and Axelrod's ``Match``, in one process.

Usage::

    python benchmarks/env_throughput.py [--seconds 2] [--players 8] [--sizes 1,64,4096,65536]

Single envs play 5-round episodes with uniformly random actions, resets included (one seeded reset per five steps),
as PettingZoo's ``rps_v2`` (``max_cycles=5``) does beside them; each line is the best of five slices of
``--seconds`` (the least disturbed by other processes); a step is one call of ``step`` whatever the number of
players. Axelrod's ``Match`` (tit-for-tat against a random player, 1000 turns per match) counts rounds. The
vectorised engine (``gymnasium.make_vec(..., vectorization_mode="vector_entry_point")``) plays the IPD against
tit-for-tat with B games at once, with the game reward and with the deontological one, and counts rounds (B per
step, Gymnasium's next-step autoreset steps excluded); its memory is the peak of what numpy allocates during a step
plus the engine's arrays (tracemalloc). The last two lines are the targets' ratios: our parallel IPD with numeric
observations over ``rps_v2``, and the vector engine at the largest B with the deontological reward over Axelrod.
Needs the ``rl`` extra (PettingZoo's classic envs need pygame) and the ``axelrod`` extra.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from collections.abc import Callable

import gymnasium
import numpy as np

import matrix_games  # noqa: F401 - registers the ids
from matrix_games.envs.parallel_env import IteratedMatrixGameEnv


def parallel_episode(env) -> Callable[[np.random.Generator], int]:
    """One 5-round episode of a PettingZoo parallel env with random actions (drawn beforehand, so the time is the
    env's); returns the steps played."""
    draws = np.random.default_rng(1)
    episodes = [
        [{agent: int(draws.integers(env.action_space(agent).n)) for agent in env.possible_agents} for _ in range(5)]
        for _ in range(256)
    ]
    counter = iter(range(2**62))

    def episode(rng: np.random.Generator) -> int:
        env.reset(seed=int(rng.integers(2**31)))
        for actions in episodes[next(counter) % 256]:
            env.step(actions)
        return 5

    return episode


def single_episode(env_id: str, **kwargs) -> Callable[[np.random.Generator], int]:
    env = gymnasium.make(env_id, num_rounds=5, observation_type="numeric", **kwargs)

    def episode(rng: np.random.Generator) -> int:
        env.reset(seed=int(rng.integers(2**31)))
        for _ in range(5):
            env.step(int(rng.integers(2)))
        return 5

    return episode


def axelrod_match() -> Callable[[np.random.Generator], int]:
    import axelrod

    def match(rng: np.random.Generator) -> int:
        players = (axelrod.TitForTat(), axelrod.Random())
        axelrod.Match(players, turns=1000, seed=int(rng.integers(2**31))).play()
        return 1000

    return match


def vector_steps(num_envs: int, reward: str) -> tuple[Callable[[np.random.Generator], int], object]:
    env = gymnasium.make_vec(
        "matrix_games/IPD-v0", num_envs=num_envs, opponent="tit_for_tat", reward=reward, autoreset_mode="same_step"
    )
    env.reset(seed=0)
    actions = [np.random.default_rng(i).integers(0, 2, size=num_envs) for i in range(8)]

    def steps(rng: np.random.Generator) -> int:
        for step in actions:
            env.step(step)
        return num_envs * len(actions)

    return steps, env


def rate(work: Callable[[np.random.Generator], int], seconds: float, repeats: int = 5) -> float:
    """The best of ``repeats`` measurements of ``seconds / repeats`` each (work per second): the best is the least
    disturbed by other processes, as ``timeit`` advises."""
    rng = np.random.default_rng(0)
    work(rng)  # warm-up
    best = 0.0
    for _ in range(repeats):
        done, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds / repeats:
            done += work(rng)
        best = max(best, done / (time.perf_counter() - start))
    return best


def step_memory(env) -> float:
    """MiB: the engine's arrays and the peak numpy allocates during one step."""
    engine = env.unwrapped.engine
    arrays = sum(a.nbytes for a in (engine.state, engine.last, engine.rounds, engine.counters, engine.keys))
    tracemalloc.start()
    env.step(np.zeros(engine.num_games, dtype=np.int64))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return (arrays + peak) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per line [2]")
    parser.add_argument("--players", type=int, default=8, help="players of the public goods game [8]")
    parser.add_argument("--sizes", default="1,64,4096,65536", help="batch sizes of the vector engine")
    args = parser.parse_args()
    from pettingzoo.classic import rps_v2

    def show(name: str, value: float, unit: str = "steps/s", extra: str = "") -> float:
        print(f"{name:<52} {value:>14,.0f} {unit}{extra}", flush=True)
        return value

    rps = show("pettingzoo/rps_v2 parallel", rate(parallel_episode(rps_v2.parallel_env(max_cycles=5)), args.seconds))
    axelrod = show("axelrod/Match tit_for_tat vs random", rate(axelrod_match(), args.seconds), "rounds/s")
    ours = 0.0
    for kind in ("numeric", "one_hot", "text", "dict"):
        env = IteratedMatrixGameEnv("prisoners_dilemma", num_rounds=5, observation_type=kind)
        value = show(f"single/parallel ipd {kind}", rate(parallel_episode(env), args.seconds))
        ours = value if kind == "numeric" else ours
    pgg = IteratedMatrixGameEnv("public_goods", num_players=args.players, num_rounds=5, observation_type="numeric")
    show(f"single/parallel public_goods_{args.players} numeric", rate(parallel_episode(pgg), args.seconds))
    show("single/gymnasium ipd vs tit_for_tat", rate(single_episode("matrix_games/IPD-v0"), args.seconds))
    vector = 0.0
    for size in (int(s) for s in args.sizes.split(",")):
        for reward in ("game", "deontological"):
            steps, env = vector_steps(size, reward)
            value = rate(steps, args.seconds)
            show(f"vector/ipd vs tit_for_tat B={size} {reward}", value, "rounds/s", f"  {step_memory(env):8.1f} MiB")
            vector = value if reward == "deontological" else vector
    print(f"single/rps_v2: {ours / rps:.2f}")
    print(f"vector/axelrod: {vector / axelrod:.1f}")


if __name__ == "__main__":
    main()
