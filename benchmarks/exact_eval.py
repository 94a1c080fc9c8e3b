"""Time the exact evaluation of the five games against one sampled run of the test protocol, with one model load.

usage: python benchmarks/exact_eval.py [--adapter RUN_OR_ADAPTER] [--labels action3,action4] [--episodes 10]
                                      [--dtype float32]

Loads the embedded SmolLM2 (and an adapter, if given) once, then times ``evaluate`` on the protocol's five games
(no other prompts) twice: sampled (``episodes`` episodes of 5 rounds per game, the paper's 10 by default) and exact
(``exact=True``: the policy tables and the Markov chain). It prints both times, then the sampling effort that would
match the exact numbers' precision: a 95% half-width of 0.01 on each game's cooperation rate needs 9,604 rounds per
game when the rate is not known in advance (1.96 * 0.5 / sqrt(n) <= 0.01), and that sampling's time, from a second
sampled run eight times as long (the cost of a further sampled round is the slope between the two runs: the prompts'
shared work is paid once either way), after a warm-up evaluation that neither timing includes. Its last line reads
``exact speedup: X`` (sampled seconds over exact seconds).
Timings move with the machine and its load: quote them with the machine, as ratios of one run.
"""

from __future__ import annotations

import argparse
import math
import time

from llm_agents.evaluation import EvaluationConfig, evaluate
from llm_agents.evaluation.llm_policy import load_llm_policy

HALF_WIDTH = 0.01


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--adapter", default=None, help="an adapter or training run folder [the base model]")
    parser.add_argument("--labels", default="action3,action4", help="the test labels [action3,action4]")
    parser.add_argument("--episodes", type=int, default=10, help="episodes per game of the sampled run [10]")
    parser.add_argument("--dtype", default="float32", help="the model's dtype, for both runs [float32]")
    args = parser.parse_args()
    started = time.perf_counter()
    policy = load_llm_policy(adapter=args.adapter, seed=0, dtype=args.dtype)
    print(f"model loaded in {time.perf_counter() - started:.1f} s ({policy.describe()['label']})")
    config = EvaluationConfig(episodes=args.episodes, labels=tuple(args.labels.split(",")), other_prompts=())
    warm_up = EvaluationConfig(games=("IPD-v0",), episodes=1, rounds=1, labels=config.labels, other_prompts=())
    evaluate(policy, warm_up)  # the first forward passes allocate and pick kernels: not part of either timing

    started = time.perf_counter()
    sampled = evaluate(policy, config)
    sampled_seconds = time.perf_counter() - started
    started = time.perf_counter()
    exact = evaluate(policy, config, exact=True)
    exact_seconds = time.perf_counter() - started
    longer = EvaluationConfig(episodes=8 * args.episodes, labels=config.labels, other_prompts=())
    started = time.perf_counter()
    evaluate(policy, longer)
    longer_seconds = time.perf_counter() - started

    games = len(config.games)
    rounds = config.episodes * config.rounds * games
    per_round = max(longer_seconds - sampled_seconds, 0.0) / (7 * rounds)
    needed = math.ceil((1.96 * 0.5 / HALF_WIDTH) ** 2) * games
    precise_seconds = sampled_seconds + per_round * (needed - rounds)
    print(f"{'game':<26}{'sampled coop':>14}{'exact coop':>12}{'exact illegal':>15}")
    for game in config.games:
        print(
            f"{game:<26}{sampled['games'][game]['cooperation_rate']:>14.3f}"
            f"{exact['games'][game]['cooperation_rate']:>12.4f}{exact['games'][game]['illegal_rate']:>15.4f}"
        )
    print(f"sampled protocol ({config.episodes} x {config.rounds} rounds per game): {sampled_seconds:.2f} s")
    print(f"sampled protocol ({longer.episodes} x {config.rounds} rounds per game): {longer_seconds:.2f} s")
    print(f"exact evaluation of the five games: {exact_seconds:.2f} s")
    print(
        f"sampling to a 95% half-width of {HALF_WIDTH} on every game's cooperation: {needed:,} rounds, about "
        f"{precise_seconds:.0f} s ({per_round * 1000:.2f} ms a further round); speedup at equal precision: "
        f"{precise_seconds / exact_seconds:.0f}"
    )
    print(f"exact speedup: {sampled_seconds / exact_seconds:.2f}")


if __name__ == "__main__":
    main()
