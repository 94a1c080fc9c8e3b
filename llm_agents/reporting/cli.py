"""``llm-agents report RUN_OR_EVAL_DIRS... --out DIR``: the paper's figures and tables across runs, in report.md.

``add_report_parser(subparsers)`` adds the subcommand to ``llm_agents.cli``. The folders are checked before matplotlib
loads. ``DESCRIPTION`` is printed as written (argparse %-formats only ``help=`` texts, where a percent sign is written
``%%``; writing it so here printed "95%%").
"""

from __future__ import annotations

import argparse
from pathlib import Path

DESCRIPTION = (
    "Aggregate evaluation folders (llm-agents evaluate) and training run folders (llm-agents train) into the paper's "
    "figures with means and 95% intervals across runs: regret bars per game and model, action types during "
    "training, reciprocity and other-prompt tables; writes report.md, report.json and PNGs to --out. Folders with "
    "the same model label are runs (seeds) of one model; a parent folder is searched."
)


def add_report_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``report`` subcommand to ``subparsers``; its ``func`` default runs it."""
    parser = subparsers.add_parser("report", help="aggregate runs into the paper's figures", description=DESCRIPTION)
    configure_parser(parser)
    return parser


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", type=Path, metavar="RUN_OR_EVAL_DIR", help="folders (or their parents)")
    parser.add_argument("--out", type=Path, required=True, help="output folder for report.md and the figures")
    parser.add_argument("--strict", action="store_true", help="stop at a folder that cannot be read (default: skip it)")
    parser.set_defaults(func=command_report, command=command_report)


def command_report(args: argparse.Namespace) -> int:
    """Run the ``report`` subcommand and print where the report is."""
    for folder in args.paths:
        if not folder.exists():
            raise FileNotFoundError(
                f"{folder} does not exist; give evaluation folders, training run folders or a parent."
            )
    from llm_agents.reporting.report import ReportConfig, write_report

    path = write_report(ReportConfig(tuple(args.paths), args.out, strict=args.strict))
    print(f"wrote {path}")
    return 0
