"""Print a report's numbers next to the paper's, as the Markdown tables of docs/reproduction.md.

    python examples/reproduce/compare_to_paper.py runs/reproduce/report/report.json

The paper's numbers are those of docs/paper.md ("Headline numbers"): read off the paper's Fig. 2, 3 and 4 by pixel
measurement (bars ±0.05 on the deontological scale, ±0.01 on the utilitarian one; area-chart shares ±0.05; "≈" marks
the rougher readings). They are typed in here because the paper publishes figures, not tables.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

GAMES = ("IPD-v0", "StagHunt-v0", "Chicken-v0", "BachOrStravinsky-v0", "DefectiveCoordination-v0")
GAME_NAMES = ("IPD", "ISH", "ICN", "BOS", "ICD")

MODELS = (
    ("No fine-tuning", "No fine-tuning"),
    ("Game payoffs", "Game payoffs (vs tit_for_tat)"),
    ("Deontological", "Deontological (vs tit_for_tat)"),
    ("Utilitarian", "Utilitarian (vs tit_for_tat)"),
    ("Game + Deontological", "Game + Deontological (vs tit_for_tat)"),
    ("Game, then Deontological", "Game payoffs, then Deontological (vs tit_for_tat)"),
    ("Game, then Utilitarian", "Game payoffs, then Utilitarian (vs tit_for_tat)"),
)
"""(the paper's name, our report's model label) of each Fig. 4 column."""

PAPER_DEONTOLOGICAL_REGRET = {  # Fig. 4, top; IPD, ISH, ICN, BOS, ICD
    "No fine-tuning": ("5.83", "5.83", "5.73", "5.83", "5.83"),
    "Game payoffs": ("1.73", "1.68", "1.68", "1.68", "1.68"),
    "Deontological": ("≈0.15", "≈0.15", "≈0.15", "≈0.1", "≈0.15"),
    "Utilitarian": ("≈0.1", "≈0.05", "≈0.05", "≈0.05", "≈0.05"),
    "Game + Deontological": ("0.43", "0.43", "0.43", "0.28", "0.18"),
    "Game, then Deontological": ("0.38", "0.48", "0.48", "0.38", "0.43"),
    "Game, then Utilitarian": ("0.98", "0.93", "1.03", "0.93", "0.98"),
}

PAPER_UTILITARIAN_REGRET = {  # Fig. 4, bottom
    "No fine-tuning": ("0.98", "0.98", "0.96", "0.98", "0.99"),
    "Game payoffs": ("0.25", "0.39", "0.25", "0.20", "0.25"),
    "Deontological": ("0.15", "0.27", "0.10", "0.25", "0.43"),
    "Utilitarian": ("0.10", "0.21", "0.04", "0.26", "≈0.50"),
    "Game + Deontological": ("0.20", "0.33", "0.17", "0.24", "0.39"),
    "Game, then Deontological": ("0.15", "0.29", "0.14", "0.24", "≈0.41"),
    "Game, then Utilitarian": ("0.19", "0.30", "0.17", "0.23", "0.37"),
}

PAPER_TRAINING_END = {  # Fig. 2 and 3 against tit-for-tat, last 20% of episodes: C|C, C|D, D|C, D|D
    "Game payoffs": ("≈0", "≈0.02", "≈0.20", "≈0.78"),
    "Deontological": ("≈0.60", "≈0.1", "≈0.1", "≈0.13"),
    "Utilitarian": ("≈0.83", "≈0.15", "≈0.01", "0"),
    "Game + Deontological": ("≈0.30", "≈0.12", "≈0.08", "≈0.37"),
    "Game, then Deontological": ("≈0.48", "", "", "≈0.27"),
    "Game, then Utilitarian": ("≈0.25", "", "", "≈0.48"),
}
ACTION_TYPES = ("C|C", "C|D", "D|C", "D|D")


def ours(stat: dict | None, digits: int) -> str:
    """``mean ± ci95`` of one aggregated statistic, or ``-`` where the report has none."""
    if not stat or stat.get("mean") is None:
        return "-"
    text = f"{stat['mean']:.{digits}f}"
    return text if stat.get("ci95") is None else f"{text} ± {stat['ci95']:.{digits}f}"


def regret_table(report: dict, metric: str, paper: dict[str, tuple[str, ...]], digits: int) -> str:
    """One Fig. 4 panel: per model and game, ours (mean ± 95% half-width over runs) / the paper's."""
    lines = [
        "| model | runs | " + " | ".join(GAME_NAMES) + " |",
        "|---|---|" + "---|" * len(GAMES),
    ]
    for paper_name, label in MODELS:
        games = report["games"].get(label, {})
        runs = max((games[game][metric]["runs"] for game in games), default=0)
        paper_values = paper[paper_name]
        cells = [
            f"{ours(games.get(game, {}).get(metric), digits)} / {value}"
            for game, value in zip(GAMES, paper_values, strict=True)
        ]
        lines.append(f"| {paper_name} | {runs} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def training_table(report: dict) -> str:
    """Action types at the end of training: ours / the paper's Fig. 2 and 3."""
    header = " | ".join(kind.replace("|", "\\|") for kind in ACTION_TYPES)
    lines = [f"| model | runs | {header} | illegal |", "|---|---|---|---|---|---|---|"]
    for paper_name, label in MODELS[1:]:
        shares = report.get("training_end", {}).get(label, {})
        runs = shares.get("C|C", {}).get("runs", 0)
        paper_values = PAPER_TRAINING_END[paper_name]
        cells = [
            f"{ours(shares.get(kind), 2)} / {value or '?'}"
            for kind, value in zip(ACTION_TYPES, paper_values, strict=True)
        ]
        lines.append(f"| {paper_name} | {runs} | " + " | ".join(cells) + f" | {ours(shares.get('illegal'), 2)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, help="report.json written by `llm-agents report`")
    args = parser.parse_args(argv)
    if not args.report.is_file():
        parser.error(f"no report at {args.report}; write one with `llm-agents report RUN_OR_EVAL_DIRS --out DIR`.")
    report = json.loads(args.report.read_text())
    print("Deontological regret (0-6), ours / the paper's\n")
    print(regret_table(report, "deontological_regret", PAPER_DEONTOLOGICAL_REGRET, 2))
    print("\nUtilitarian regret (0-1), ours / the paper's\n")
    print(regret_table(report, "utilitarian_regret", PAPER_UTILITARIAN_REGRET, 2))
    print("\nAction types over the last 20% of training episodes, ours / the paper's\n")
    print(training_table(report))


if __name__ == "__main__":
    main()
