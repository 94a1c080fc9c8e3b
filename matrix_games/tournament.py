"""Matches and round-robin tournaments of baseline strategies on any 2x2 game, as pure seeded functions.

A match plays two strategies against each other with ``rounds.play_round``, each seeing only its own ``History``.
A round robin plays every pair (and, as Axelrod's tournaments do, every strategy against a copy of itself) for a
number of repetitions, and ranks strategies by their mean game payoff per round.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from matrix_games.actions import validate_action
from matrix_games.games import MatrixGame, get_game
from matrix_games.metrics import cooperation_rate, mean_deontological_regret, mean_utilitarian_regret
from matrix_games.morality import DEFAULT_ILLEGAL_REWARD
from matrix_games.rounds import History, RoundOutcome, play_round
from matrix_games.settings import INITIAL_STATES, InitialState
from matrix_games.strategies import Strategy, make_strategy
from matrix_games.validation import check_choice, check_int


def check_initial_state(initial_state: object) -> str:
    """Return ``initial_state`` if it is "none" (a classic first round) or "random" (a random previous round for both
    players, as the paper starts every episode), else raise with the closest."""
    return check_choice("initial_state", initial_state, INITIAL_STATES)


def play_match(
    game: MatrixGame | str,
    player_0: Strategy | str,
    player_1: Strategy | str,
    *,
    num_rounds: int,
    seed: int | np.random.SeedSequence | None = 0,
    initial_state: InitialState = "none",
    illegal_reward: float = DEFAULT_ILLEGAL_REWARD,
) -> tuple[tuple[RoundOutcome, ...], tuple[RoundOutcome, ...]]:
    """Play ``num_rounds`` rounds between two strategies and return each player's outcomes, player_0's first
    (``iter_match`` with the same arguments yields them round by round)."""
    rounds = list(
        iter_match(
            game,
            player_0,
            player_1,
            num_rounds=num_rounds,
            seed=seed,
            initial_state=initial_state,
            illegal_reward=illegal_reward,
        )
    )
    return tuple(r[0] for r in rounds), tuple(r[1] for r in rounds)


def iter_match(
    game: MatrixGame | str,
    player_0: Strategy | str,
    player_1: Strategy | str,
    *,
    num_rounds: int,
    seed: int | np.random.SeedSequence | None = 0,
    initial_state: InitialState = "none",
    illegal_reward: float = DEFAULT_ILLEGAL_REWARD,
) -> Iterator[tuple[RoundOutcome, RoundOutcome]]:
    """Play ``num_rounds`` rounds between two strategies, yielding each round's two outcomes as it is played.

    Args:
        game: The stage game (or its name); player_0 is the row player.
        player_0: A strategy or strategy name. Instances are reset first.
        player_1: The same for the column player. Pass distinct instances of stateful strategies.
        num_rounds: Rounds to play, at least 1.
        seed: Seeds the initial round and each player's generator (independent streams).
        initial_state: "none" for a classic first round, or "random" for a uniformly drawn previous round
            (both players' previous moves), which then counts as history for both strategies.
        illegal_reward: Passed to ``play_round`` (strategies never answer illegally).
    """
    game = get_game(game)
    check_initial_state(initial_state)
    check_int("num_rounds", num_rounds, minimum=1, example=10)
    strategies = (make_strategy(player_0), make_strategy(player_1))
    if strategies[0] is strategies[1]:
        strategies = (strategies[0], copy.deepcopy(strategies[1]))
    streams = np.random.SeedSequence(seed) if not isinstance(seed, np.random.SeedSequence) else seed
    initial_rng, *player_rngs = (np.random.default_rng(child) for child in streams.spawn(3))
    for strategy in strategies:
        strategy.reset()

    previous: tuple[int | None, int | None] = (None, None)
    histories = [History(), History()]
    if initial_state == "random":
        drawn = tuple(int(move) for move in initial_rng.integers(0, 2, size=2))
        previous = (drawn[0], drawn[1])
        histories = [History((drawn[0],), (drawn[1],)), History((drawn[1],), (drawn[0],))]

    for _ in range(num_rounds):
        actions = tuple(
            validate_action(strategy.act(history, rng), allow_illegal=False)
            for strategy, history, rng in zip(strategies, histories, player_rngs, strict=True)
        )
        outcome_0, outcome_1 = play_round(game, actions, previous, illegal_reward=illegal_reward)
        yield outcome_0, outcome_1
        own, other = outcome_0.state_after
        previous = (own, other)
        histories = [histories[0].append(own, other), histories[1].append(other, own)]  # type: ignore[arg-type]


@dataclass(frozen=True)
class MatchRecord:
    """One side of one match of a tournament.

    Attributes:
        strategy: The player's strategy name.
        opponent: The opponent's strategy name.
        repetition: Which repetition of the pairing (0-based).
        rounds: Rounds played.
        mean_payoff: The player's mean game payoff per round.
        cooperation_rate: Fraction of rounds the player played C.
        deontological_regret: Mean deontological regret per round (``metrics``, paper's test xi = 4).
        utilitarian_regret: Mean normalised utilitarian regret per round.
    """

    strategy: str
    opponent: str
    repetition: int
    rounds: int
    mean_payoff: float
    cooperation_rate: float
    deontological_regret: float
    utilitarian_regret: float


@dataclass(frozen=True)
class Standing:
    """A strategy's averages over all its sides of all its matches."""

    rank: int
    strategy: str
    mean_payoff: float
    cooperation_rate: float
    deontological_regret: float
    utilitarian_regret: float


@dataclass(frozen=True)
class TournamentResult:
    """Every match record of a round robin, with standings and a printable table."""

    game: MatrixGame
    records: tuple[MatchRecord, ...]

    def standings(self) -> tuple[Standing, ...]:
        """Strategies ranked by mean payoff per round (ties broken by name)."""
        names = list(dict.fromkeys(record.strategy for record in self.records))
        rows = []
        for name in names:
            own = [record for record in self.records if record.strategy == name]
            rows.append(
                (
                    name,
                    float(np.mean([r.mean_payoff for r in own])),
                    float(np.mean([r.cooperation_rate for r in own])),
                    float(np.mean([r.deontological_regret for r in own])),
                    float(np.mean([r.utilitarian_regret for r in own])),
                )
            )
        rows.sort(key=lambda row: (-row[1], row[0]))
        return tuple(Standing(rank, *row) for rank, row in enumerate(rows, start=1))

    def format_table(self) -> str:
        """The standings as a fixed-width text table."""
        standings = self.standings()
        width = max(len("strategy"), *(len(s.strategy) for s in standings))
        header = (
            f"{'rank':>4}  {'strategy':<{width}}  {'payoff':>7}  {'coop':>5}  {'deon_regret':>11}  {'util_regret':>11}"
        )
        lines = [header, "-" * len(header)]
        for s in standings:
            lines.append(
                f"{s.rank:>4}  {s.strategy:<{width}}  {s.mean_payoff:>7.3f}  {s.cooperation_rate:>5.2f}  "
                f"{s.deontological_regret:>11.3f}  {s.utilitarian_regret:>11.3f}"
            )
        return "\n".join(lines)


def round_robin(
    game: MatrixGame | str,
    strategies: Sequence[str | Strategy],
    *,
    num_rounds: int = 10,
    repetitions: int = 1,
    seed: int | None = 0,
    initial_state: InitialState = "none",
    self_play: bool = True,
    illegal_reward: float = DEFAULT_ILLEGAL_REWARD,
) -> TournamentResult:
    """Play every pair of ``strategies`` (and each against a copy of itself if ``self_play``) ``repetitions`` times.

    Each match gets its own seed, spawned from ``seed`` in a fixed order, so results are reproducible. Strategies
    given as names are built fresh for every match; instances are deep-copied, so stateful ones never share state.

    Example:
        >>> result = round_robin("prisoners_dilemma", ["tit_for_tat", "always_defect"], num_rounds=5)
        >>> [(s.strategy, round(s.mean_payoff, 3)) for s in result.standings()]  # self-play helps tit-for-tat
        [('tit_for_tat', 2.267), ('always_defect', 1.2)]
    """
    game = get_game(game)
    if len(strategies) < 1 or isinstance(strategies, str):
        raise ValueError(f"round_robin needs a list of strategies, got {strategies!r}.")
    check_int("repetitions", repetitions, minimum=1)
    names = [strategy if isinstance(strategy, str) else strategy.name for strategy in strategies]
    for strategy in strategies:
        make_strategy(strategy)  # fail early on an unknown name
    if len(set(names)) != len(names):
        raise ValueError(f"round_robin needs distinct strategy names, got {names}.")
    pairs = [
        (i, j) for i in range(len(names)) for j in range(i if self_play else i + 1, len(names)) if i != j or self_play
    ]
    seeds = iter(np.random.SeedSequence(seed).spawn(len(pairs) * repetitions))
    records = []
    for repetition in range(repetitions):
        for i, j in pairs:
            fresh = [
                copy.deepcopy(strategies[k]) if isinstance(strategies[k], Strategy) else strategies[k] for k in (i, j)
            ]
            sides = play_match(
                game,
                fresh[0],
                fresh[1],
                num_rounds=num_rounds,
                seed=next(seeds),
                initial_state=initial_state,
                illegal_reward=illegal_reward,
            )
            for (own, other), outcomes in zip(((i, j), (j, i)), sides, strict=True):
                records.append(match_record(game, names[own], names[other], repetition, outcomes, illegal_reward))
    return TournamentResult(game=game, records=tuple(records))


def match_record(
    game: MatrixGame,
    strategy: str,
    opponent: str,
    repetition: int,
    outcomes: Sequence[RoundOutcome],
    illegal_reward: float,
) -> MatchRecord:
    """One side of one match, summarised (``matrix_games.metrics``, the paper's test-time regrets)."""
    return MatchRecord(
        strategy=strategy,
        opponent=opponent,
        repetition=repetition,
        rounds=len(outcomes),
        mean_payoff=float(np.mean([outcome.game_reward for outcome in outcomes])),
        cooperation_rate=cooperation_rate(outcomes),
        deontological_regret=mean_deontological_regret(outcomes),
        utilitarian_regret=mean_utilitarian_regret(outcomes, game, illegal_reward=illegal_reward),
    )
