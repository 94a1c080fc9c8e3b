"""``llm-agents train``: a fine-tuning run from flags, a YAML config file, or both (flags win).

Examples::

    llm-agents train --reward deontological --episodes 200 --output-dir runs/de
    llm-agents train --config configs/paper/deontological_vs_tit_for_tat.yaml --set model.device=cuda
    llm-agents train --config configs/demo.yaml --output-dir runs/demo --resume

Any setting of ``TrainConfig``, nested ones included, can be given as ``--set KEY=VALUE`` (the value is read as
YAML: ``--set ppo.learning_rate=1e-4 --set labels=[C,D]``); the common ones also have their own flag, the model and
its labels with the options every command that loads a model shares (``--labels C,D``). The resolved config is
saved as ``config.yaml`` in the run folder.

``add_train_parser(subparsers)`` adds the subcommand to ``llm_agents.cli``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from llm_agents.agent.options import add_model_options, add_set_option, check_model_name, parse_labels
from llm_agents.console import describe, exit_status, release_warnings
from llm_agents.runs.config_files import apply_overrides, parse_override, read_yaml
from llm_agents.training.config import RESET_AT_SWITCH, TRACKERS
from llm_agents.training.config_io import config_from_dict

DESCRIPTION = (
    "Fine-tune an LLM's LoRA adapter with PPO on an iterated matrix game, against a baseline strategy or a second "
    "learning LLM, with the game reward, a moral reward or a schedule of them. Writes a run folder (config.yaml, "
    "rounds.jsonl, ppo.jsonl, checkpoints, adapters, action_types.png, summary.json)."
)

FLAGS: tuple[tuple[str, str, type, str], ...] = (
    # (flag, setting, type, help)
    ("--game", "game", str, "environment id, e.g. IPD-v0 or PublicGoods-v0 [IPD-v0]"),
    ("--players", "game_parameters.num_players", int, "players of the public goods game [4]"),
    ("--opponent", "opponent", str, "baseline strategy (tit_for_tat, random, ...) or 'llm' [tit_for_tat]"),
    (
        "--reward",
        "reward",
        str,
        "a reward (game, deontological, utilitarian, game_deontological, virtue_equality, virtue_kindness, "
        "inequity_aversion, a registered one), a weighted sum (0.5*game+utilitarian), or a schedule of them: "
        "game:500,utilitarian:500",
    ),
    ("--algorithm", "algorithm", str, "ppo (with a value head, the paper's) or grpo (critic-free) [ppo]"),
    ("--reset-at-switch", "reset_at_switch", str, f"what a reward switch resets: {', '.join(RESET_AT_SWITCH)}"),
    ("--episodes", "episodes", int, "PPO updates [the schedule's total, else 1000]"),
    ("--rounds-per-episode", "rounds_per_episode", int, "rounds per episode [5 vs a strategy, 3 vs an LLM]"),
    ("--games-per-update", "games_per_update", int, "games played in lockstep per PPO update [1, the paper's]"),
    ("--seed", "seed", int, "run seed: reproduces the run on the same machine [0]"),
    ("--output-dir", "output_dir", str, "run folder [runs/train]"),
    ("--checkpoint-every", "checkpoint_every", int, "episodes between checkpoints; 0 = only at the end [100]"),
    ("--tracker", "tracker", str, f"also log to: {', '.join(TRACKERS)} [none]"),
    ("--lora-r", "model.lora.r", int, "LoRA rank [64, the paper's]"),
    ("--learning-rate", "ppo.learning_rate", float, "Adam learning rate [1.41e-5, the paper's]"),
    ("--ppo-epochs", "ppo.ppo_epochs", int, "PPO epochs per update [4]"),
    ("--temperature", "generation.temperature", float, "sampling temperature [1.0]"),
)


MODEL_OPTIONS = {
    "model": "model.name",
    "device": "model.device",
    "dtype": "model.dtype",
    "quantization": "model.quantization",
    "max_new_tokens": "generation.max_new_tokens",
    "parse_mode": "parse_mode",
    "labels": "labels",
}
"""The model-and-labels options (``agent.options``, shared with play and evaluate) and the settings they set."""


def add_train_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``train`` subcommand to ``subparsers``."""
    parser = subparsers.add_parser("train", help="fine-tune an LLM with PPO on a game", description=DESCRIPTION)
    configure_parser(parser)
    return parser


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="a YAML file of settings (flags override it)")
    for flag, setting, kind, help_text in FLAGS:
        metavar = flag.removeprefix("--").replace("-", "_").upper()
        parser.add_argument(flag, dest=setting, type=kind, default=None, metavar=metavar, help=help_text)
    add_model_options(parser, adapter=False, labels_help="the answer labels C,D [action1,action2]")
    parser.add_argument("--resume", action="store_true", default=None, help="continue from the last checkpoint")
    parser.add_argument(
        "--overwrite", action="store_true", default=None, help="start over in a folder that holds a run (removes it)"
    )
    parser.add_argument("--no-progress", dest="progress", action="store_false", default=None, help="no progress bar")
    add_set_option(parser, "any setting, e.g. --set ppo.init_kl_coef=0.05 (repeatable)")
    parser.set_defaults(command=command_train)


def overrides_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The settings given on the command line, as dotted keys (flags first, then ``--set``, which wins)."""
    overrides: dict[str, Any] = {}
    for _, setting, _, _ in FLAGS:
        value = getattr(args, setting)
        if value is not None:
            overrides[setting] = value
    for flag, setting in MODEL_OPTIONS.items():
        value = getattr(args, flag)
        if value is not None:
            overrides[setting] = list(parse_labels(value)) if flag == "labels" else value  # type: ignore[arg-type]
    for name in ("resume", "overwrite", "progress"):
        value = getattr(args, name)
        if value is not None:
            overrides[name] = value
    for text in args.settings:
        key, value = parse_override(text)
        overrides[key] = value
    if getattr(args, "threads", None) is not None:  # the top-level --threads, given explicitly: it wins
        overrides["threads"] = args.threads
    return overrides


def config_from_args(args: argparse.Namespace):
    """The ``TrainConfig`` the command line describes.

    A resume writes to the folder it was asked to: ``--output-dir``, or the run folder whose ``config.yaml`` was
    given, never the ``output_dir`` remembered inside that file (a copied run folder resumes where it is).
    """
    data = read_yaml(args.config) if args.config is not None else {}
    overrides = overrides_from_args(args)
    if overrides.get("resume") and args.config is not None and "output_dir" not in overrides:
        run_folder = Path(args.config).parent
        if args.config.name == "config.yaml" and (run_folder / "rounds.jsonl").exists():
            overrides["output_dir"] = str(run_folder)
    return config_from_dict(apply_overrides(data, overrides))


def command_train(args: argparse.Namespace) -> None:
    config = config_from_args(args)  # checked before torch and the model load
    check_model_name(config.model.name)
    release_warnings()
    from llm_agents.training.runner import TrainingDiverged, train

    try:
        result = train(config)
    except TrainingDiverged as error:
        print(f"llm-agents train: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM (llm_agents.console)
        print(f"llm-agents train: {describe(stop)}. {_where_to_resume(config.output_dir)}", file=sys.stderr)
        raise SystemExit(exit_status(stop)) from None
    print(result.summary_text)
    print(f"run folder: {result.output_dir}  (plot: {result.plot.name}, {result.wall_time_s:.0f} s)")


def _where_to_resume(output_dir: Path) -> str:
    from llm_agents.runs.folder import RunFolder, complete_checkpoints

    folder = RunFolder(output_dir)
    saved = complete_checkpoints(folder)
    if not saved:
        return f"No checkpoint was reached in {output_dir}; start again with --overwrite."
    return f"The last checkpoint is {saved[-1]}; resume with: llm-agents train --config {folder.config} --resume"
