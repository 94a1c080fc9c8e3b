"""The ``llm-agents`` console script.

Examples::

    llm-agents play --game IPD-v0 --opponent tit_for_tat --rounds 20 --model smollm2-135m-instruct --seed 0
    llm-agents play --game StagHunt-v0 --labels action3 action4 --adapter runs/ipd/adapter --json

Each subcommand is one ``add_<name>_parser`` function (its arguments) and one ``command_<name>`` function (what it
does), so more subcommands (``train``, ``evaluate``, ``report``) are added by registering them in ``SUBCOMMANDS``.
A bad argument value prints the error and exits with status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from llm_agents.config import EMBEDDED_MODEL
from llm_agents.evaluation.cli import add_evaluate_parser
from llm_agents.reporting.cli import add_report_parser
from llm_agents.training.cli import add_train_parser


def add_play_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "play",
        help="an LLM plays one iterated game against a baseline strategy",
        description="An LLM plays one iterated game against a baseline strategy; prints every round and a summary.",
    )
    parser.add_argument("--game", default="IPD-v0", help="environment id, e.g. IPD-v0, StagHunt-v0 (default IPD-v0)")
    parser.add_argument("--opponent", default="tit_for_tat", help="baseline strategy name (default tit_for_tat)")
    parser.add_argument("--rounds", type=int, default=20, help="rounds to play (default 20)")
    parser.add_argument("--model", default=EMBEDDED_MODEL, help=f"hub id, local folder or {EMBEDDED_MODEL} (default)")
    parser.add_argument("--adapter", type=Path, default=None, help="folder of a saved LoRA adapter")
    parser.add_argument("--seed", type=int, default=0, help="seeds the environment and the sampling (default 0)")
    parser.add_argument("--labels", nargs=2, default=["action1", "action2"], metavar=("C", "D"), help="action labels")
    parser.add_argument("--parse-mode", choices=["strict", "lenient"], default="strict", help="answer parsing rule")
    parser.add_argument("--max-new-tokens", type=int, default=None, help="answer length (default: the labels' length)")
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda or cuda:N")
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object on the last line")
    parser.set_defaults(command=command_play)


def command_play(args: argparse.Namespace) -> None:
    from llm_agents.play import PlayOptions, play  # torch and transformers load only when a command needs them

    if args.rounds < 1:
        raise ValueError(f"--rounds must be at least 1, got {args.rounds}.")
    options = PlayOptions(
        game=args.game,
        opponent=args.opponent,
        rounds=args.rounds,
        model=args.model,
        adapter=args.adapter,
        seed=args.seed,
        labels=tuple(args.labels),
        parse_mode=args.parse_mode,
        max_new_tokens=args.max_new_tokens,
        device=args.device,
    )
    play(options, as_json=args.json)


SUBCOMMANDS: list[Callable[[argparse._SubParsersAction], object]] = [
    add_play_parser,
    add_train_parser,
    add_evaluate_parser,
    add_report_parser,
]
"""One function per subcommand, each adding its parser; append to add a subcommand."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="llm-agents", description="LLM agents that play, learn and are evaluated in iterated matrix games."
    )
    subparsers = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")
    for add_parser in SUBCOMMANDS:
        add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.command(args)
    except (ValueError, FileNotFoundError, ImportError) as error:
        parser.exit(2, f"llm-agents {args.command.__name__.removeprefix('command_')}: error: {error}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
