"""The ``matrix-games`` console script: list what the suite has, play one match, run a tournament.

Examples::

    matrix-games list
    matrix-games play --game prisoners_dilemma --player0 tit_for_tat --player1 random --rounds 10 --seed 0
    matrix-games tournament --game stag_hunt --strategies tit_for_tat always_defect grim_trigger --repetitions 5

A bad name (game, strategy, reward) prints the error with the closest known name and exits with status 2; a game is
named as this command line writes it (``--game stag_hunt``), and an environment id (``IPD-v0``) is answered with both
spellings.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from matrix_games.core.actions import MOVE_NAMES
from matrix_games.core.games import GAMES, PUBLIC_GOODS, MatrixGame, get_game
from matrix_games.core.public_goods import PublicGoodsGame
from matrix_games.core.validation import close_match
from matrix_games.envs.settings import INITIAL_STATES
from matrix_games.metrics import deontological_regret, utilitarian_regret
from matrix_games.play.matches import check_initial_state, iter_match
from matrix_games.play.tournament import round_robin
from matrix_games.rewards import (
    DEFAULT_DEONTOLOGICAL_PENALTY,
    DEFAULT_ILLEGAL_REWARD,
    REWARD_NAMES,
    make_reward_fn,
)
from matrix_games.strategies import STRATEGIES

MOVES = MOVE_NAMES


def format_payoff_table(game: MatrixGame) -> str:
    """The game's 2x2 table, rows = player_0's action, cells = (player_0, player_1) payoffs."""
    cell = lambda row, column: "{:g}, {:g}".format(*game.payoff(row, column))  # noqa: E731
    return "\n".join(
        [
            f"        {'C':>8}  {'D':>8}",
            f"    C   {cell(0, 0):>8}  {cell(0, 1):>8}",
            f"    D   {cell(1, 0):>8}  {cell(1, 1):>8}",
        ]
    )


def cli_game(name: str) -> MatrixGame | PublicGoodsGame:
    """The game ``--game NAME`` names; an unknown name raises a ValueError with the fix in this command line's words
    (``get_game``'s own error suggests passing a ``MatrixGame``, which only Python can)."""
    from matrix_games.envs.registration import NAMESPACE, env_id, game_of

    if name in GAMES or name == PUBLIC_GOODS:
        return get_game(name)
    known = [*sorted(GAMES), PUBLIC_GOODS]
    try:  # an environment id, with or without its namespace
        game, short = game_of(name), env_id(name)
    except ValueError:
        hint = close_match(name, known)
    else:
        full = f"{NAMESPACE}/{short}"
        written = "" if name == full else f", written with its namespace: {full!r}"
        hint = f" {name!r} is an environment id (for gymnasium.make and pettingzoo{written}); here write --game {game}."
    raise ValueError(f"Unknown game {name!r}.{hint} --game takes one of {known} (matrix-games list shows them).")


def command_list(args: argparse.Namespace) -> None:
    from matrix_games.envs.registration import ENV_IDS

    print("Games (row = player_0's action, cells = player_0, player_1 payoffs):")
    for name, game in GAMES.items():
        print(f"\n  {name}: {game.title}, U_max = {game.best_joint_payoff:g}")
        print(format_payoff_table(game))
    print("\nStrategies:")
    width = max(len(name) for name in STRATEGIES)
    for name, cls in STRATEGIES.items():
        summary = (cls.__doc__ or "").strip().splitlines()[0].replace("``", "")
        print(f"  {name:<{width}}  {summary}")
    print("  axelrod:<name>  any Axelrod library strategy (pip install moral-matrix-games[axelrod])")
    print("\nRewards:", ", ".join(REWARD_NAMES))
    print("\nEnvironment ids (gymnasium.make / pettingzoo.make):")
    for env_id, game_name in ENV_IDS.items():
        print(f"  {env_id:<40} {game_name}")


def command_play(args: argparse.Namespace) -> None:
    game = cli_game(args.game)
    parameters = {"deontological_penalty": args.deontological_penalty}
    reward_fn = make_reward_fn(args.reward, parameters=parameters, illegal_reward=args.illegal_reward)
    rounds = iter_match(
        game,
        args.player0,
        args.player1,
        num_rounds=args.rounds,
        seed=args.seed,
        initial_state=args.initial_state,
        illegal_reward=args.illegal_reward,
    )
    print(
        f"{game.title}: {args.player0} (player_0) vs {args.player1} (player_1), {args.rounds} rounds, "
        f"initial state {args.initial_state}, reward {args.reward}, seed {args.seed}",
        flush=True,
    )
    totals = [RunningTotals(), RunningTotals()]
    for index, sides in enumerate(rounds, start=1):
        if index == 1:
            _print_header(sides[0])
        print(
            f"{index:>5}  {MOVES[sides[0].action]:>6}  {MOVES[sides[1].action]:>6}  {sides[0].game_reward:>8g}  "
            f"{sides[1].game_reward:>8g}  {reward_fn(sides[0]):>8g}  {reward_fn(sides[1]):>8g}",
            flush=index % 1000 == 0,  # stream long matches without flushing every line
        )
        for total, outcome in zip(totals, sides, strict=True):
            total.add(outcome, reward_fn(outcome), game, args.illegal_reward)
    _print_summary(args, totals)


def _print_header(first) -> None:
    if first.previous_action is not None:
        drawn = (MOVES[first.previous_action], MOVES[first.opponent_previous_action])  # type: ignore[index]
        print(f"drawn previous round: player_0 {drawn[0]}, player_1 {drawn[1]}")
    columns = ("payoff_0", "payoff_1", "reward_0", "reward_1")
    print(f"{'round':>5}  {'move_0':>6}  {'move_1':>6}  " + "  ".join(f"{column:>8}" for column in columns))


class RunningTotals:
    """One player's sums over a match, kept as it streams (a long match is never held in memory)."""

    def __init__(self) -> None:
        self.rounds = 0
        self.payoff = self.reward = self.cooperated = self.deontological = self.utilitarian = 0.0

    def add(self, outcome, reward: float, game, illegal_reward: float) -> None:
        self.rounds += 1
        self.payoff += outcome.game_reward
        self.reward += reward
        self.cooperated += outcome.action == 0
        self.deontological += deontological_regret(outcome)
        self.utilitarian += utilitarian_regret(outcome, game, illegal_reward=illegal_reward)


def _print_summary(args: argparse.Namespace, totals: list[RunningTotals]) -> None:
    print("\nsummary")
    labels = [f"player_0 {args.player0}", f"player_1 {args.player1}"]
    width = max(len(label) for label in labels)
    print(f"  {'':<{width}}  {'payoff':>7}  {'reward':>7}  {'coop':>5}  {'deon_regret':>11}  {'util_regret':>11}")
    for label, total in zip(labels, totals, strict=True):
        n = total.rounds
        print(
            f"  {label:<{width}}  {total.payoff:>7g}  {total.reward:>7g}  {total.cooperated / n:>5.2f}  "
            f"{total.deontological / n:>11.3f}  {total.utilitarian / n:>11.3f}"
        )
    print("  (payoff and reward are totals; regrets are per-round means with the paper's test settings)")


def command_tournament(args: argparse.Namespace) -> None:
    strategies = [name for item in args.strategies for name in item.split(",") if name]
    game = cli_game(args.game)
    if args.players is not None:
        if game.name != PUBLIC_GOODS:
            raise ValueError(f"--players sets the size of the public goods game; {game.title} has {game.num_players}.")
        game = PublicGoodsGame(num_players=args.players)
    result = round_robin(
        game,
        strategies,
        num_rounds=args.rounds,
        repetitions=args.repetitions,
        seed=args.seed,
        initial_state=args.initial_state,
        self_play=not args.no_self_play,
    )
    print(
        f"Round robin on {result.game.title}: {len(strategies)} strategies, {args.rounds} rounds, "
        f"{args.repetitions} repetition{'s' if args.repetitions != 1 else ''}, "
        f"initial state {args.initial_state}, seed {args.seed}" + ("" if args.no_self_play else ", self-play included")
    )
    print(result.format_table())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="matrix-games", description="Iterated 2x2 matrix games with moral rewards.")
    commands = parser.add_subparsers(dest="command", required=True)

    listing = commands.add_parser("list", help="games with payoffs and U_max, strategies, rewards, env ids")
    listing.set_defaults(run=command_list)

    def add_common(sub: argparse.ArgumentParser, rounds: int) -> None:
        sub.add_argument("--game", default="prisoners_dilemma", help=f"one of {[*sorted(GAMES), PUBLIC_GOODS]}")
        sub.add_argument("--rounds", type=int, default=rounds, help="rounds per match")
        sub.add_argument("--seed", type=int, default=0)
        sub.add_argument("--initial-state", default="none", help=f"one of {list(INITIAL_STATES)}")

    play = commands.add_parser("play", help="play one match and print every round")
    add_common(play, rounds=10)
    play.add_argument("--player0", default="tit_for_tat", help="strategy of player_0 (the row player)")
    play.add_argument("--player1", default="random", help="strategy of player_1")
    play.add_argument("--reward", default="game", help=f"reward shown per round: one of {list(REWARD_NAMES)}")
    play.add_argument("--deontological-penalty", type=float, default=DEFAULT_DEONTOLOGICAL_PENALTY)
    play.add_argument("--illegal-reward", type=float, default=DEFAULT_ILLEGAL_REWARD)
    play.set_defaults(run=command_play)

    tournament = commands.add_parser("tournament", help="round robin of strategies, ranked by mean payoff")
    add_common(tournament, rounds=10)
    tournament.add_argument(
        "--strategies", nargs="+", default=sorted(STRATEGIES), help="names, space- or comma-separated (default: all)"
    )
    tournament.add_argument("--repetitions", type=int, default=1)
    tournament.add_argument("--players", type=int, default=None, help="players of the public goods game [4]")
    tournament.add_argument("--no-self-play", action="store_true", help="skip each strategy against itself")
    tournament.set_defaults(run=command_tournament)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns 0, or exits with status 2 and a one-line message on bad input."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if hasattr(args, "initial_state"):
            check_initial_state(args.initial_state)
        args.run(args)
    except (ValueError, TypeError, ImportError) as error:
        parser.exit(2, f"matrix-games {args.command}: error: {error}\n")
    except BrokenPipeError:  # the reader left (e.g. `| head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main())
