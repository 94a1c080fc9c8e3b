"""The ``llm-agents`` console script: one subcommand per layer, each added by its layer's ``cli`` module.

Examples::

    llm-agents play --game IPD-v0 --opponent tit_for_tat --rounds 20 --model smollm2-135m-instruct --seed 0
    llm-agents train --config configs/demo.yaml
    llm-agents evaluate --adapter runs/demo --out runs/eval_demo
    llm-agents analyse --adapter runs/demo --labels C,D --out runs/analysis_demo
    llm-agents report runs/eval_* --out runs/report
    llm-agents grid configs/grids/reproduce_cpu.yaml

Building the parser imports no torch, so ``llm-agents --help`` answers at once; a command loads what it needs when
it runs. A bad argument value prints the error and exits with status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from llm_agents.agent.cli import add_play_parser
from llm_agents.evaluation.cli import add_analyse_parser, add_evaluate_parser
from llm_agents.grid.cli import add_grid_parser
from llm_agents.reporting.cli import add_report_parser
from llm_agents.training.cli import add_train_parser

SUBCOMMANDS: list[Callable[[argparse._SubParsersAction], object]] = [
    add_play_parser,
    add_train_parser,
    add_evaluate_parser,
    add_analyse_parser,
    add_report_parser,
    add_grid_parser,
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
