"""``llm-agents grid GRID.yaml``: every training run of a study (and their evaluations and report) on Ray Tune.

Examples::

    llm-agents grid configs/grids/reproduce_cpu.yaml                  # local Ray with this machine's CPUs
    llm-agents grid configs/grids/paper.yaml --address auto           # the Ray cluster this machine belongs to
    llm-agents grid configs/grids/reproduce_cpu.yaml --resume         # continue a grid that was stopped
    llm-agents grid GRID.yaml --backend local                         # one trial after another, without Ray

The grid file's format is ``llm_agents.grid.spec``'s docstring and docs/grids.md. Exit status: 0 when every trial is
done, 1 when some failed after their retries, 2 for a grid file or command line that cannot run.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from llm_agents.agent.options import add_set_option


def add_grid_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "grid",
        help="run a grid of training runs (Ray Tune)",
        description="Run every trial of a grid file: train, evaluate, report; resumable, retried, on Ray Tune.",
    )
    parser.add_argument("grid", type=Path, help="the grid file (YAML)")
    parser.add_argument("--backend", choices=("ray", "local"), default="ray", help="where trials run [ray]")
    parser.add_argument("--address", default=None, help="a Ray cluster: auto, or ray://HOST:PORT [a local Ray]")
    parser.add_argument("--resume", action="store_true", help="continue the grid in its output_dir")
    parser.add_argument("--dashboard", action="store_true", help="start Ray's dashboard and print its address")
    add_set_option(parser, "a training setting for every trial, e.g. --set episodes=2 (the axes still win; repeatable)")
    parser.set_defaults(command=command_grid)
    return parser


def command_grid(args: argparse.Namespace) -> None:
    from llm_agents.grid.run import run_grid
    from llm_agents.grid.spec import load_grid
    from llm_agents.runs.config_files import parse_override

    if args.address and args.backend == "local":
        raise ValueError("--address names a Ray cluster; it needs --backend ray.")
    spec = load_grid(args.grid, dict(parse_override(text) for text in args.settings))
    rows = run_grid(spec, backend=args.backend, address=args.address, resume=args.resume, dashboard=args.dashboard)
    if any(row.get("wall_time_s") is None for row in rows):
        raise SystemExit(1)
