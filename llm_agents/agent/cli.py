"""``llm-agents play``: its arguments (``add_play_parser``) and what it does (``command_play``).

The parser imports nothing heavy; the command checks every argument (the game, the opponent, the model and adapter
folders...) before torch and transformers load.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from llm_agents.agent.options import add_model_options, check_model_options, parse_labels
from llm_agents.console import release_warnings
from matrix_games.core.validation import check_int
from matrix_games.envs.registration import env_id
from matrix_games.strategies import make_strategy


def add_play_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``play`` subcommand to ``subparsers``."""
    parser = subparsers.add_parser(
        "play",
        help="an LLM plays one iterated game against a baseline strategy",
        description="An LLM plays one iterated game against a baseline strategy; prints every round and a summary.",
    )
    parser.add_argument("--game", default="IPD-v0", help="environment id, e.g. IPD-v0, StagHunt-v0 (default IPD-v0)")
    parser.add_argument("--opponent", default="tit_for_tat", help="baseline strategy name (default tit_for_tat)")
    parser.add_argument("--rounds", type=int, default=20, help="rounds to play (default 20)")
    parser.add_argument("--seed", type=int, default=0, help="seeds the environment and the sampling (default 0)")
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object on the last line")
    parser.add_argument(
        "--force",
        action="store_true",
        help="load the adapter even onto a base model other than its own (a warning instead of the refusal)",
    )
    add_model_options(parser, labels_help="the action labels C,D [a training run's, else action1,action2]")
    parser.set_defaults(command=command_play)
    return parser


def command_play(args: argparse.Namespace) -> None:
    if args.rounds < 1:
        raise ValueError(f"--rounds must be at least 1, got {args.rounds}.")
    check_int("--seed", args.seed, minimum=0)
    env_id(args.game)  # an unknown game, opponent or folder is refused before torch loads
    make_strategy(args.opponent)
    check_model_options(args)
    release_warnings()
    from llm_agents.agent.play import PlayOptions, play

    options = PlayOptions(
        game=args.game,
        opponent=args.opponent,
        rounds=args.rounds,
        model=args.model,
        adapter=None if args.adapter is None else Path(args.adapter),
        seed=args.seed,
        labels=parse_labels(args.labels),
        parse_mode=args.parse_mode or "strict",
        max_new_tokens=args.max_new_tokens,
        device=args.device or "auto",
        dtype=args.dtype or "auto",
        quantization=args.quantization or "none",
        force=args.force,
    )
    play(options, as_json=args.json)
