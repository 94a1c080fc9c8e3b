"""The values a ``TrainConfig`` derives from what it was asked for (the PPO settings of each learner), and the checks
that span several of its fields (episodes and schedule, GRPO's groups)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from llm_agents.ppo.config import PPOConfig
from matrix_games.core.games import PUBLIC_GOODS, Game, get_game
from matrix_games.core.public_goods import PublicGoodsGame
from matrix_games.core.seeding import spawn_rngs
from matrix_games.core.validation import check_int
from matrix_games.envs.registration import game_of
from matrix_games.envs.settings import GAME_PARAMETERS
from matrix_games.rewards import RewardSchedule


def derived_ppo(ppo: PPOConfig, samples: int, minibatches: int, run_seed: int, index: int) -> PPOConfig:
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
    return dataclasses.replace(ppo, batch_size=samples, mini_batch_size=mini_batch_size, seed=seed + index)


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


def check_groups(algorithm: str, generations: int, samples: int) -> None:
    """``num_generations`` is GRPO's, and GRPO needs at least two answers per update to form a group."""
    if algorithm != "grpo" and generations != 1:
        raise ValueError(
            f"grpo.num_generations is {generations} but algorithm is {algorithm!r}: several answers per state are "
            "GRPO's groups; set algorithm: grpo, or remove grpo.num_generations."
        )
    if algorithm == "grpo" and generations == 1 and samples == 1:
        raise ValueError(
            "GRPO with grpo.num_generations 1 and one answer per update (games_per_update 1, rounds_per_episode 1) "
            "has no group to compare an answer with: every advantage would be 0. Set grpo.num_generations: 4 "
            "(several answers per state), or play more rounds or games per update."
        )


def stage_game_of(game: str, parameters: Mapping[str, float]) -> Game:
    """The stage game of environment id or game name ``game`` (the public goods game built from ``parameters``)."""
    name = game_of(game)
    if name != PUBLIC_GOODS:
        if parameters:
            raise ValueError(
                f"game_parameters {dict(parameters)} belong to the public goods game, not to {game!r}; remove "
                "them, or use game: PublicGoods-v0 (--game PublicGoods-v0 --players N)."
            )
        return get_game(name)
    unknown = sorted(set(parameters) - set(GAME_PARAMETERS))
    if unknown:
        raise ValueError(f"Unknown game_parameters {unknown}: the public goods game takes {list(GAME_PARAMETERS)}.")
    return PublicGoodsGame(**parameters)
