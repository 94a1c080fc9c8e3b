"""Round-robin tournaments of baseline strategies on any game, as pure seeded functions.

A round robin plays every group of strategies the game seats (every pair in a 2x2 game; every group of n in the
n-player public goods game), each strategy also against copies of itself as Axelrod's tournaments do, for a number
of repetitions (``matches.py`` plays each match), and ranks strategies by their mean game payoff per round.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from matrix_games.core.games import Game, get_game
from matrix_games.core.rounds import RoundOutcome
from matrix_games.core.validation import check_int
from matrix_games.envs.settings import InitialState
from matrix_games.metrics import cooperation_rate, mean_deontological_regret, mean_utilitarian_regret
from matrix_games.play.matches import play_group
from matrix_games.rewards import DEFAULT_ILLEGAL_REWARD
from matrix_games.strategies import Strategy, make_strategy


@dataclass(frozen=True)
class MatchRecord:
    """One side of one match of a tournament.

    Attributes:
        strategy: The player's strategy name.
        opponent: The opponent's strategy name (the others', joined by "+", in a game of more players).
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

    game: Game
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
    game: Game | str,
    strategies: Sequence[str | Strategy],
    *,
    num_rounds: int = 10,
    repetitions: int = 1,
    seed: int | None = 0,
    initial_state: InitialState = "none",
    self_play: bool = True,
    illegal_reward: float = DEFAULT_ILLEGAL_REWARD,
) -> TournamentResult:
    """Play every group of ``strategies`` the game seats (with repeats if ``self_play``) ``repetitions`` times.

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
    seats = game.num_players
    choose = itertools.combinations_with_replacement if self_play else itertools.combinations
    groups = list(choose(range(len(names)), seats))
    if not groups:
        raise ValueError(f"{len(names)} strategies cannot fill the {seats} seats of {game.title} without self-play.")
    seeds = iter(np.random.SeedSequence(seed).spawn(len(groups) * repetitions))
    records = []
    for repetition in range(repetitions):
        for group in groups:
            fresh = [copy.deepcopy(s) if isinstance(s, Strategy) else s for s in (strategies[k] for k in group)]
            sides = play_group(
                game,
                fresh,
                num_rounds=num_rounds,
                seed=next(seeds),
                initial_state=initial_state,
                illegal_reward=illegal_reward,
            )
            for seat, outcomes in enumerate(sides):
                others = "+".join(names[k] for index, k in enumerate(group) if index != seat)
                records.append(match_record(game, names[group[seat]], others, repetition, outcomes, illegal_reward))
    return TournamentResult(game=game, records=tuple(records))


def match_record(
    game: Game,
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
