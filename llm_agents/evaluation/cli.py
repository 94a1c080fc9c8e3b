"""``llm-agents evaluate``: the test protocol from the command line, for a strategy, a base model or an adapter.

``add_evaluate_parser(subparsers)`` adds the subcommand to ``llm_agents.cli``. Both commands check every argument
(``checked_request``: the protocol, the policy, the model and adapter folders, ``--out``) before torch loads.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from llm_agents.agent.options import add_model_options, check_model_options, parse_labels
from llm_agents.console import release_warnings
from llm_agents.evaluation.folder import check_out_folder
from llm_agents.evaluation.protocol import GAME_IDS, OTHER_PROMPTS, EvaluationConfig
from llm_agents.evaluation.request import PolicySpec, protocol_from
from matrix_games.core.actions import TEST_LABELS
from matrix_games.text import TABLE_ORDERS

DESCRIPTION = (
    "Test an agent with the paper's protocol: E episodes of N rounds against a seeded random opponent on each of the "
    "five games, with the test labels, plus the other prompts. Writes rounds.csv, summary.json and figures to --out."
)


ANALYSE_DESCRIPTION = (
    "Compute what an agent does, exactly, from the model's token probabilities instead of sampling: for every "
    "prompt of each game (state x label order) P(C label), P(D label) and P(illegal) under the sampling settings, "
    "each state's average, and the test protocol's expected results (a Markov chain over states against the random "
    "opponent). Writes analysis.json and analysis.png to --out and prints the table."
)


def add_evaluate_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``evaluate`` subcommand to ``subparsers``; its ``func`` default runs it."""
    parser = subparsers.add_parser("evaluate", help="test an agent with the paper's protocol", description=DESCRIPTION)
    configure_parser(parser)
    parser.add_argument(
        "--exact",
        action="store_true",
        help="compute every result's expectation from the token probabilities instead of sampling (summary.json "
        "marked exact, analysis.json with the policy tables)",
    )
    return parser


def add_analyse_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``analyse`` subcommand: the exact policy tables and expected protocol results of an agent."""
    parser = subparsers.add_parser(
        "analyse",
        help="exact P(C), P(D), P(illegal) per state, and exact test results",
        description=ANALYSE_DESCRIPTION,
    )
    configure_parser(parser)
    parser.set_defaults(func=command_analyse, command=command_analyse, exact=True)
    return parser


def configure_parser(parser: argparse.ArgumentParser) -> None:
    agent = parser.add_argument_group("agent (a strategy, or a model with an optional adapter and preface)")
    agent.add_argument("--policy", help="a baseline strategy, e.g. always_defect, tit_for_tat, random")
    agent.add_argument("--policy-p", type=float, default=None, help="p (probability of C) for --policy random")
    agent.add_argument("--preface", help="value preface for the model: deontological, utilitarian, or any text")
    agent.add_argument("--label", help="the model's name in reports (evaluations with one label are its seeds)")
    agent.add_argument("--policy-seed", type=int, default=0, help="seed of the agent's own sampling [0]")
    agent.add_argument("--batch-size", type=int, default=64, help="prompts per generation call [64]")
    agent.add_argument(
        "--force",
        action="store_true",
        help="load --adapter even onto a base model other than the one it was trained on (a warning, not a refusal)",
    )
    add_model_options(parser, labels_help="the test labels C,D [action3,action4]")
    protocol = parser.add_argument_group("protocol (defaults: the paper's)")
    protocol.add_argument(
        "--games", default=",".join(GAME_IDS), help="comma-separated game ids [the paper's five; PublicGoods-v0 too]"
    )
    protocol.add_argument("--episodes", type=int, default=10, help="episodes per game [10]")
    protocol.add_argument("--rounds", type=int, default=5, help="rounds per episode [5]")
    protocol.add_argument("--table-order", choices=TABLE_ORDERS, default="original", help="payoff table order")
    protocol.add_argument(
        "--other-prompts", default=",".join(OTHER_PROMPTS), help="comma-separated other prompts, or 'none' [all six]"
    )
    protocol.add_argument("--opponent-p", type=float, default=0.5, help="the random opponent's P(C) [0.5]")
    protocol.add_argument("--seed", type=int, default=100, help="seed of the opponent and states [100, the paper's]")
    protocol.add_argument(
        "--deontological-penalty", type=float, default=4.0, help="xi of deontological regret [4, as the paper tested]"
    )
    protocol.add_argument("--illegal-reward", type=float, default=-6.0, help="R_illegal [-6]")
    protocol.add_argument(
        "--public-goods-players", type=int, default=4, help="players of PublicGoods-v0, when --games has it [4]"
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--no-figures", action="store_true", help="skip the figures")
    parser.add_argument("--json", action="store_true", help="print summary.json's games on the last line")
    parser.set_defaults(func=command_evaluate, command=command_evaluate)


def config_from_args(args: argparse.Namespace) -> EvaluationConfig:
    """The ``EvaluationConfig`` the flags describe."""
    return protocol_from(
        {
            "games": args.games,
            "episodes": args.episodes,
            "rounds": args.rounds,
            "labels": parse_labels(args.labels) or TEST_LABELS,
            "table_order": args.table_order,
            "other_prompts": args.other_prompts,
            "opponent_cooperation_probability": args.opponent_p,
            "seed": args.seed,
            "deontological_penalty": args.deontological_penalty,
            "illegal_reward": args.illegal_reward,
            "public_goods_players": args.public_goods_players,
        }
    )


def spec_from_args(args: argparse.Namespace) -> PolicySpec:
    """The ``PolicySpec`` the flags name: a strategy (``--policy``) or an LLM (``--model``, ``--adapter``,
    ``--preface``)."""
    return PolicySpec(
        strategy=args.policy,
        strategy_p=args.policy_p,
        model=args.model,
        adapter=None if args.adapter is None else Path(args.adapter),
        preface=args.preface,
        label=args.label,
        seed=args.policy_seed,
        device=args.device or "auto",
        dtype=args.dtype or "auto",
        quantization=args.quantization or "none",
        batch_size=args.batch_size,
        max_new_tokens=args.max_new_tokens,
        parse_mode=args.parse_mode or "strict",
        force=args.force,
    )


def checked_request(args: argparse.Namespace) -> tuple[EvaluationConfig, PolicySpec]:
    """The protocol and the policy the flags describe, every flag checked (names, numbers, the model and adapter
    folders, ``--out``) so that a mistake is reported before torch loads."""
    if args.policy is None:
        check_model_options(args)
    config, spec = config_from_args(args), spec_from_args(args)
    check_out_folder(args.out)
    release_warnings()
    return config, spec


def command_evaluate(args: argparse.Namespace) -> int:
    """Run the ``evaluate`` subcommand; print a table per game (and the JSON summary with ``--json``)."""
    config, spec = checked_request(args)
    from llm_agents.evaluation.evaluate import evaluate_run

    summary = evaluate_run(spec, config, args.out, exact=args.exact, figures=not args.no_figures)
    print(format_summary(summary))
    written = "summary.json, analysis.json" if args.exact else "rounds.csv, summary.json"
    print(f"wrote {args.out}/{written}" + ("" if args.no_figures else " and figures"))
    if args.json:
        print(json.dumps({"policy": summary["policy"]["label"], "games": _headline(summary)}))
    return 0


def command_analyse(args: argparse.Namespace) -> int:
    """Run the ``analyse`` subcommand: write ``analysis.json`` and ``analysis.png``, print the states and results."""
    config, spec = checked_request(args)
    from llm_agents.evaluation.exact import analyse
    from llm_agents.evaluation.request import make_policy

    policy = make_policy(spec, exact=True)
    analysis, path = analyse(policy, config, args.out, label=args.label, figures=not args.no_figures)
    print(format_analysis(analysis))
    print(f"wrote {path}" + ("" if args.no_figures else f" and {path.with_suffix('.png').name}"))
    return 0


def format_analysis(analysis: dict) -> str:
    """One block per game: each state's P(C), P(D), P(illegal), then the expected protocol results."""
    policy, protocol = analysis["policy"], analysis["protocol"]
    lines = [
        f"{policy['label']}: exact, vs {protocol['opponent']} (p={protocol['opponent_cooperation_probability']:g}), "
        f"{protocol['rounds']} rounds from a random state, labels {'/'.join(protocol['labels'])}"
    ]
    for section in ("games", "other_prompts"):
        for name, table in analysis[section].items():
            lines.append(f"{name}")
            if "states" in table:
                lines.append(f"  {'state':<8}{'P(C)':>9}{'P(D)':>9}{'P(illegal)':>12}")
                for state, p in table["states"].items():
                    lines.append(f"  {state:<8}{p['p_c']:>9.4f}{p['p_d']:>9.4f}{p['p_illegal']:>12.4f}")
            exact = table["exact"]
            if section == "games":
                lines.append(
                    f"  expected: cooperation {exact['cooperation_rate']:.4f}, illegal {exact['illegal_rate']:.4f}, "
                    f"De regret {exact['deontological_regret']:.4f}, Ut regret {exact['utilitarian_regret']:.4f}, "
                    f"game reward {exact['mean_game_reward']:.4f}"
                )
            else:
                lines.append(
                    f"  expected answers: C label {exact['C label']:.4f}, D label {exact['D label']:.4f}, "
                    f"other {exact['other']:.4f}"
                )
    return "\n".join(lines)


def format_summary(summary: dict) -> str:
    """A plain-text table: one line per game, then the answer shares of the other prompts."""
    protocol = summary["protocol"]
    lines = [
        f"{summary['policy']['label']} vs {protocol['opponent']} (p={protocol['opponent_cooperation_probability']:g}), "
        f"{protocol['episodes']} x {protocol['rounds']} rounds, labels {'/'.join(protocol['labels'])}, "
        f"order {protocol['table_order']}, seed {protocol['seed']}, xi {protocol['deontological_penalty']:g}",
        f"{'game':<26}{'coop':>7}{'illegal':>9}{'De regret':>11}{'Ut regret':>11}{'rounds':>8}",
    ]
    for game, metrics in summary["games"].items():
        lines.append(
            f"{game:<26}{metrics['cooperation_rate']:>7.3f}{metrics['illegal_rate']:>9.3f}"
            f"{metrics['deontological_regret']:>11.3f}{metrics['utilitarian_regret']:>11.3f}{metrics['rounds']:>8d}"
        )
    if summary["other_prompts"]:
        lines.append(f"{'other prompt':<26}{'C label':>9}{'D label':>9}{'other':>9}{'asked':>8}")
        for kind, shares in summary["other_prompts"].items():
            lines.append(
                f"{kind:<26}{shares['C label']:>9.3f}{shares['D label']:>9.3f}{shares['other']:>9.3f}"
                f"{shares['questions']:>8d}"
            )
    return "\n".join(lines)


def _headline(summary: dict) -> dict:
    keys = ("cooperation_rate", "illegal_rate", "deontological_regret", "utilitarian_regret", "rounds")
    return {game: {key: metrics[key] for key in keys} for game, metrics in summary["games"].items()}
