"""The values a ``TrainConfig`` derives from what it was asked for: the PPO settings of each learner, and the check
that the episodes fit the reward schedule."""

from __future__ import annotations

import dataclasses

from llm_agents.ppo.config import PPOConfig
from llm_agents.sequences import Batching
from matrix_games.rewards import RewardSchedule
from matrix_games.seeding import spawn_rngs
from matrix_games.validation import check_int


def derived_ppo(
    ppo: PPOConfig, samples: int, minibatches: int, run_seed: int, index: int, batching: Batching
) -> PPOConfig:
    """``ppo`` with the batch of one update (``samples`` answers), its minibatch size and learner ``index``'s seed
    (derived from ``run_seed`` unless ``ppo.seed`` is set)."""
    mini_batch_size, remainder = divmod(samples, minibatches)
    accumulation = ppo.gradient_accumulation_steps
    if remainder or samples % (mini_batch_size * accumulation):
        raise ValueError(
            f"A PPO update holds rounds_per_episode * games_per_update = {samples} answers, which cannot be split "
            f"into ppo_minibatches={minibatches} equal minibatches accumulated {accumulation} at a time; choose "
            f"ppo_minibatches (and ppo.gradient_accumulation_steps) dividing {samples}."
        )
    for name, value in (("batch_size", samples), ("mini_batch_size", mini_batch_size)):
        given = getattr(ppo, name)
        if given is not None and given != value:
            raise ValueError(
                f"ppo.{name} is derived from the run ({value} here: rounds_per_episode, games_per_update and "
                f"ppo_minibatches), but the config sets it to {given}; leave ppo.{name} unset."
            )
    seed = ppo.seed if ppo.seed is not None else int(spawn_rngs(run_seed, "ppo")["ppo"].integers(2**31 - 1))
    return dataclasses.replace(
        ppo, batch_size=samples, mini_batch_size=mini_batch_size, seed=seed + index, batching=batching
    )


def check_episodes(episodes: int | None, schedule: RewardSchedule) -> None:
    if episodes is None:
        return
    check_int("episodes", episodes, minimum=1)
    counts = [count for _, count in schedule.phases]
    finite_total = schedule.total_episodes
    if finite_total is not None and len(counts) > 1 and finite_total != episodes:
        raise ValueError(
            f"The reward schedule {str(schedule)!r} covers {finite_total} episodes but episodes={episodes}; "
            f"set episodes={finite_total}, leave it unset, or leave the last phase open (e.g. '...,deontological')."
        )
    covered = sum(count for count in counts[:-1] if count is not None)
    if len(counts) > 1 and covered >= episodes:
        raise ValueError(
            f"The reward schedule {str(schedule)!r} switches after episode {covered}, but the run has only "
            f"{episodes} episodes; its last phase would never run. Raise episodes or shorten the phases."
        )
