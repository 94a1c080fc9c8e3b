"""``llm-agents grid GRID.yaml``: every training run of a study (and their evaluations and report) on Ray Tune.

Examples::

    llm-agents grid configs/grids/reproduce_cpu.yaml                  # local Ray with this machine's CPUs
    llm-agents grid configs/grids/paper.yaml --address auto           # the Ray cluster this machine belongs to
    llm-agents grid configs/grids/reproduce_cpu.yaml --resume         # continue a grid that was stopped
    llm-agents grid GRID.yaml --backend local                         # one trial after another, without Ray
    llm-agents grid GRID.yaml --quick --backend local                 # a short try: 2 episodes, in OUTPUT_DIR-quick
    llm-agents grid GRID.yaml --dry-run                               # check the grid and list its trials; run none

The grid file's format is ``llm_agents.grid.spec``'s docstring and docs/grids.md. Exit status: 0 when every trial is
done, 1 when some failed after their retries, 2 for a grid file or command line that cannot run, 130 when Ctrl-C
stopped it (the command that continues it is printed).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from llm_agents.agent.options import add_set_option
from llm_agents.console import release_warnings

EXIT_FAILED = 1
EXIT_INTERRUPTED = 130


def add_grid_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "grid",
        help="run a grid of training runs (Ray Tune)",
        description="Run every trial of a grid file: train, evaluate, report; resumable, retried, on Ray Tune. "
        "Exit status: 0 every trial done, 1 some failed, 2 a grid file that cannot run, 130 stopped by Ctrl-C.",
    )
    parser.add_argument("grid", type=Path, help="the grid file (YAML)")
    parser.add_argument("--backend", choices=("ray", "local"), default="ray", help="where trials run [ray]")
    parser.add_argument("--address", default=None, help="a Ray cluster: auto, or ray://HOST:PORT [a local Ray]")
    parser.add_argument("--resume", action="store_true", help="continue the grid in its output_dir")
    parser.add_argument("--dashboard", action="store_true", help="start Ray's dashboard and print its address")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a short try of the grid: every trial 2 episodes (or --set episodes=N), its reward phases scaled to "
        "them, 1 evaluation episode per game, all in OUTPUT_DIR-quick (the real grid is checked too)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="check the grid file (every trial's training, evaluation and report settings) and list its trials with "
        "their state, then stop without running anything",
    )
    add_set_option(
        parser, "a training setting for every trial, e.g. --set ppo.learning_rate=1e-4 (the axes still win; repeatable)"
    )
    parser.set_defaults(command=command_grid)
    return parser


def describe_trials(spec) -> str:
    """The trials of a checked grid, one line each: name, episodes, reward, state, run folder."""
    from llm_agents.grid.trial import trial_state

    evaluates = any(trial.evaluation is not None for trial in spec.trials)
    lines = [f"{len(spec.trials)} trials, checked; nothing was run (--dry-run):"]
    for trial in spec.trials:
        state = trial_state(trial, evaluates)
        lines.append(
            f"  {trial.name:40} {trial.episodes:>6} episodes  {trial.config.get('reward', '')!s:36} {state:9} "
            f"{trial.train_dir}"
        )
    return "\n".join(lines)


def command_grid(args: argparse.Namespace) -> None:
    from llm_agents.grid.run import STOPPED_STATES, run_grid
    from llm_agents.grid.spec import load_grid
    from llm_agents.runs.config_files import parse_override

    if args.address and args.backend == "local":
        raise ValueError("--address names a Ray cluster; it needs --backend ray.")
    spec = load_grid(args.grid, dict(parse_override(text) for text in args.settings), quick=args.quick)
    release_warnings()  # the grid is checked: now the notes held while the command was set up (llm_agents.console)
    if args.dry_run:
        print(describe_trials(spec))
        return
    rows = run_grid(spec, backend=args.backend, address=args.address, resume=args.resume, dashboard=args.dashboard)
    states = {row["state"] for row in rows}
    if states & set(STOPPED_STATES):
        raise SystemExit(EXIT_INTERRUPTED)
    if states != {"done"}:
        raise SystemExit(EXIT_FAILED)
