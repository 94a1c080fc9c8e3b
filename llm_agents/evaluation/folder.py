"""An evaluation folder: ``rounds.csv`` (every round, ``matrix_games.core.codec``'s CSV), ``summary.json`` and figures.

The CSV holds each round's ``RoundLog`` fields and, for readers, derived columns computed from them with the
protocol's parameters: the player's action and the opponent's state by name, the action type, the answer kind and
both regrets. Reading ignores the derived columns, and also reads the ``rounds.csv`` of version 0.1.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from llm_agents.evaluation.protocol import EvaluationConfig, stage_game
from matrix_games import codec
from matrix_games.core.actions import move_name
from matrix_games.core.records import RoundLog
from matrix_games.metrics import action_type, answer_kind, deontological_regret, utilitarian_regret

ROUNDS_FILE = "rounds.csv"
SUMMARY_FILE = "summary.json"
ANALYSIS_FILE = "analysis.json"


def check_out_folder(out_dir: str | Path, setting: str = "--out") -> Path:
    """``out_dir`` as a folder to write results into (``runs.folder.check_creatable_folder``): checked before a
    model loads, so the mistake costs nothing."""
    from llm_agents.runs.folder import check_creatable_folder

    return check_creatable_folder(out_dir, setting, example="runs/eval_demo")


def make_out_folder(out_dir: str | Path, setting: str = "--out") -> Path:
    """Create ``out_dir`` (``check_out_folder`` first); a failed write (a full disk, a read-only place) is one
    ValueError with the fix (``runs.folder.WriteFailed``)."""
    from llm_agents.runs.folder import writing

    out_dir = check_out_folder(out_dir, setting)
    with writing(out_dir):
        out_dir.mkdir(parents=True, exist_ok=True)
    return out_dir


def derived_columns(config: EvaluationConfig) -> codec.Derived:
    """The readable columns ``rounds.csv`` adds to each round (ignored when it is read back)."""
    return {
        "action": lambda log: move_name(log.action),
        "opponent_previous_action": lambda log: move_name(log.opponent_previous_action) or "none",
        "action_type": action_type,
        "answer_kind": answer_kind,
        "deontological_regret": lambda log: deontological_regret(
            log, penalty=config.deontological_penalty, illegal_cost=-config.illegal_reward
        ),
        "utilitarian_regret": lambda log: utilitarian_regret(
            log, stage_game(config, log.game), illegal_reward=config.illegal_reward
        ),
    }


def write_rounds_csv(logs: Iterable[RoundLog], path: str | Path, config: EvaluationConfig) -> Path:
    """Write every round of an evaluation to ``path``."""
    return codec.write_csv(logs, path, derived_columns(config))


def read_rounds_csv(path: str | Path) -> list[RoundLog]:
    """Every round of an evaluation's ``rounds.csv`` (this version's or version 0.1's)."""
    return codec.read_csv(path)


def is_evaluation(folder: Path) -> bool:
    """A sampled evaluation (``summary.json`` and ``rounds.csv``) or an exact one (``summary.json`` and
    ``analysis.json``)."""
    return (folder / SUMMARY_FILE).is_file() and (
        (folder / ROUNDS_FILE).is_file() or (folder / ANALYSIS_FILE).is_file()
    )


def write_analysis(path: Path, tables: dict[str, Any], summary: dict[str, Any]) -> Path:
    """``analysis.json``: the policy, the protocol and the generation settings, then the policy table of each game
    and other prompt with its exact results (``llm_agents.analysis.table``)."""
    policy = summary["policy"]
    content = {
        "format": 1,
        "policy": policy,
        "protocol": summary["protocol"],
        "generation": policy.get("generation"),
        "parse_mode": policy.get("parse_mode"),
        **tables,
    }
    path.write_text(json.dumps(content, indent=1) + "\n", encoding="utf-8")
    return path


def read_summary(folder: Path) -> dict[str, Any]:
    """An evaluation's ``summary.json``; a file that is not an evaluation summary raises naming it."""
    path = folder / SUMMARY_FILE
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path} is not valid JSON ({error}); the evaluation folder is damaged.") from None
    if not isinstance(summary, dict) or "games" not in summary or "protocol" not in summary:
        raise ValueError(f"{path} is not an evaluation summary (no 'games' or 'protocol').")
    return summary
