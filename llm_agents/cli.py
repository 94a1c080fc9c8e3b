"""The ``llm-agents`` console script: one subcommand per layer, each added by its layer's ``cli`` module.

Examples::

    llm-agents play --game IPD-v0 --opponent tit_for_tat --rounds 20 --model smollm2-135m-instruct --seed 0
    llm-agents train --config configs/demo.yaml
    llm-agents --threads 1 evaluate --adapter runs/demo --out runs/eval_demo
    llm-agents analyse --adapter runs/demo --labels C,D --out runs/analysis_demo
    llm-agents report runs/eval_* --out runs/report
    llm-agents grid configs/grids/reproduce_cpu.yaml --verbose

Building the parser imports no torch, so ``llm-agents --help`` answers at once, and every command checks its
arguments (names, numbers, files and folders) before it loads torch: a mistake is one line on stderr and exit status
2, at once. ``--threads N`` and ``--verbose`` go before or after the command. Ctrl-C stops with one line and status
130, SIGTERM the same way with status 143 (``llm_agents.console``); training says where to resume.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence

from llm_agents.agent.cli import add_play_parser
from llm_agents.console import (
    describe,
    drop_held_warnings,
    exit_status,
    held_warnings,
    one_line_warnings,
    quiet_libraries,
    sigterm_as_interrupt,
)
from llm_agents.evaluation.cli import add_analyse_parser, add_evaluate_parser
from llm_agents.grid.cli import add_grid_parser
from llm_agents.reporting.cli import add_report_parser
from llm_agents.threads import configure_threads, parse_threads
from llm_agents.training.cli import add_train_parser

SUBCOMMANDS: list[Callable[[argparse._SubParsersAction], argparse.ArgumentParser]] = [
    add_play_parser,
    add_train_parser,
    add_evaluate_parser,
    add_analyse_parser,
    add_report_parser,
    add_grid_parser,
]
"""One function per subcommand, each adding its parser; append to add a subcommand."""


def threads_option(text: str) -> int:
    """``--threads N`` as an int (``llm_agents.threads.parse_threads``), its error as argparse's one-line message."""
    try:
        return parse_threads(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_common_options(parser: argparse.ArgumentParser, *, in_command: bool = False) -> None:
    """``--threads`` and ``--verbose``, on the top-level parser and again on each command's, so both
    ``llm-agents --threads 2 train`` and ``llm-agents train --threads 2`` work (a command's copy sets nothing
    unless given, so it never undoes the top-level one)."""
    unset = {"default": argparse.SUPPRESS} if in_command else {}
    group = parser.add_argument_group("every command")
    group.add_argument(
        "--threads",
        type=threads_option,
        metavar="N",
        help="CPU threads for torch (also train's threads setting) [the free cores of this machine; "
        "LLM_AGENTS_THREADS]",
        **({"default": None} | unset),
    )
    group.add_argument(
        "--verbose",
        action="store_true",
        help="show third-party logs, warnings and progress bars (transformers, peft, trl, Ray) [quiet]",
        **({"default": False} | unset),
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="llm-agents", description="LLM agents that play, learn and are evaluated in iterated matrix games."
    )
    add_common_options(parser)
    subparsers = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")
    for add_parser in SUBCOMMANDS:
        add_common_options(add_parser(subparsers), in_command=True)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line: 0 on success; 2 with a one-line message for a bad argument; 130 after Ctrl-C and 143
    after SIGTERM, with one line each."""
    command = "llm-agents"
    try:
        with sigterm_as_interrupt():
            parser = build_parser()
            args = parser.parse_args(argv)
            command = f"llm-agents {args.command.__name__.removeprefix('command_')}"
            with one_line_warnings(), quiet_libraries(not args.verbose), _threads(args.threads):
                args.command(args)
    except KeyboardInterrupt as stop:
        print(f"{command}: {describe(stop)}", file=sys.stderr)
        return exit_status(stop)
    except (ValueError, FileNotFoundError, ImportError) as error:
        parser.exit(2, f"{command}: error: {error}\n")
    return 0


@contextlib.contextmanager
def _threads(requested: int | None) -> Iterator[None]:
    """``configure_threads(requested)`` before the command's heavy imports; on exit the thread settings are put back,
    so a command run inside another program (a test) leaves its threads as they were. Its note about a busy machine
    waits until the command's arguments passed their checks (``console.release_warnings``)."""
    saved = {name: os.environ.get(name) for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    torch = sys.modules.get("torch")
    torch_threads = torch.get_num_threads() if torch is not None else None
    with held_warnings():
        configure_threads(requested)
    try:
        yield
    finally:
        drop_held_warnings()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        if torch is not None:
            torch.set_num_threads(torch_threads)


if __name__ == "__main__":
    sys.exit(main())
