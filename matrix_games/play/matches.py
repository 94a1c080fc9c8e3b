"""Matches between strategies on any game, as pure seeded generators: every round yielded as it is played.

A match gives each player a strategy and its own ``History`` (its moves and the others', the last legal ones, from
its own point of view), and plays ``rounds.play_round`` round after round. Long matches stream: nothing is held but
the histories.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence

import numpy as np

from matrix_games.core.actions import validate_action
from matrix_games.core.games import Game, get_game
from matrix_games.core.rounds import History, RoundOutcome, play_round
from matrix_games.core.validation import check_choice, check_int
from matrix_games.envs.settings import INITIAL_STATES, InitialState
from matrix_games.rewards import DEFAULT_ILLEGAL_REWARD
from matrix_games.strategies import Strategy, make_strategy


def check_initial_state(initial_state: object) -> str:
    """Return ``initial_state`` if it is "none" (a classic first round) or "random" (a random previous round for every
    player, as the paper starts every episode), else raise with the closest."""
    return check_choice("initial_state", initial_state, INITIAL_STATES)


def iter_rounds(
    game: Game | str,
    strategies: Sequence[Strategy | str],
    *,
    num_rounds: int,
    seed: int | np.random.SeedSequence | None = 0,
    initial_state: InitialState = "none",
    illegal_reward: float = DEFAULT_ILLEGAL_REWARD,
) -> Iterator[tuple[RoundOutcome, ...]]:
    """Play ``num_rounds`` rounds between ``strategies`` (one per player), yielding each round's outcomes.

    Args:
        game: The stage game (or its name); the first strategy is player_0 (the row player of a 2x2 game).
        strategies: A strategy or strategy name per player. Instances are reset first; one instance given twice is
            copied, so stateful strategies never share state.
        num_rounds: Rounds to play, at least 1.
        seed: Seeds the initial round and each player's generator (independent streams).
        initial_state: "none" for a classic first round, or "random" for a uniformly drawn previous round (every
            player's previous move), which then counts as history for every strategy.
        illegal_reward: Passed to ``play_round`` (strategies never answer illegally).
    """
    game = get_game(game)
    check_initial_state(initial_state)
    check_int("num_rounds", num_rounds, minimum=1, example=10)
    players = game.num_players
    if len(strategies) != players:
        raise ValueError(f"{game.title} has {players} players, got {len(strategies)} strategies.")
    built: list[Strategy] = []
    for strategy in strategies:
        made = make_strategy(strategy)
        built.append(copy.deepcopy(made) if any(made is other for other in built) else made)
    streams = np.random.SeedSequence(seed) if not isinstance(seed, np.random.SeedSequence) else seed
    initial_rng, *player_rngs = (np.random.default_rng(child) for child in streams.spawn(players + 1))
    for strategy in built:
        strategy.reset()
    previous: tuple[int | None, ...] = (None,) * players
    histories = [History() for _ in range(players)]
    if initial_state == "random":
        previous = tuple(int(move) for move in initial_rng.integers(0, 2, size=players))
        histories = [History.of_player(player, [previous]) for player in range(players)]  # type: ignore[list-item]
    for _ in range(num_rounds):
        actions = [
            validate_action(strategy.act(history, rng), allow_illegal=False)
            for strategy, history, rng in zip(built, histories, player_rngs, strict=True)
        ]
        outcomes = play_round(game, actions, previous, illegal_reward=illegal_reward)
        yield outcomes
        previous = outcomes[0].state_after
        histories = [
            history.append_round(previous[p], tuple(m for i, m in enumerate(previous) if i != p))  # type: ignore[arg-type]
            for p, history in enumerate(histories)
        ]


def iter_match(
    game: Game | str,
    player_0: Strategy | str,
    player_1: Strategy | str,
    **options,
) -> Iterator[tuple[RoundOutcome, ...]]:
    """``iter_rounds`` of two strategies (the options are ``iter_rounds``')."""
    return iter_rounds(game, (player_0, player_1), **options)


def play_match(
    game: Game | str,
    player_0: Strategy | str,
    player_1: Strategy | str,
    **options,
) -> tuple[tuple[RoundOutcome, ...], ...]:
    """Play two strategies against each other and return each player's outcomes, player_0's first."""
    return play_group(game, (player_0, player_1), **options)


def play_group(
    game: Game | str, strategies: Sequence[Strategy | str], **options
) -> tuple[tuple[RoundOutcome, ...], ...]:
    """Play ``strategies`` (one per player) and return each player's outcomes, in player order."""
    rounds = list(iter_rounds(game, strategies, **options))
    return tuple(tuple(r[player] for r in rounds) for player in range(len(strategies)))
