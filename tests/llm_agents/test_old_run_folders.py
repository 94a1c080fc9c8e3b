"""Run folders written by version 0.1 (the first release's layout, kept in ``tests/fixtures/v0_1_runs``): one
training run (the reward schedule game:10,utilitarian:10 with the embedded model) and its evaluation, and the
``report.json`` version 0.1 computed from them. Today's code must read them and compute the same numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llm_agents.evaluation.folder import read_rounds_csv
from llm_agents.reporting.report import build_report
from llm_agents.training import load_config
from llm_agents.training.run_folder import RunFolder
from matrix_games.actions import ILLEGAL, C

FIXTURES = Path(__file__).parents[1] / "fixtures" / "v0_1_runs"
TRAIN = FIXTURES / "train" / "game_then_utilitarian" / "seed1"
EVAL = FIXTURES / "eval" / "game_then_utilitarian" / "seed1"


def test_the_report_of_old_folders_is_the_old_report(tmp_path):
    build_report([TRAIN, EVAL], tmp_path)
    assert json.loads((tmp_path / "report.json").read_text()) == json.loads(
        (FIXTURES / "report_by_v0_1.json").read_text()
    )


def test_old_training_rounds_read_as_round_logs():
    config = load_config(TRAIN / "config.yaml")
    logs = RunFolder(TRAIN).read_rounds()
    assert len(logs) == 20 * 4 * 5 and config.reward == "game:10,utilitarian:10"
    old = [json.loads(line) for line in (TRAIN / "rounds.jsonl").read_text().splitlines()]
    for line, log in zip(old, logs, strict=True):
        assert log.reward_name == line["reward_name"] and log.reward == line["training_reward"]
        assert log.game_reward == line["game_reward"] and log.rewards["utilitarian"] == line["utilitarian_reward"]
        assert log.answer == line["answer"] and (log.action == ILLEGAL) == (not line["legal"])
        assert log.game == "IPD-v0" and log.labels == ("C", "D")


def test_old_evaluation_rounds_keep_their_columns():
    logs = read_rounds_csv(EVAL / "rounds.csv")
    rows = (EVAL / "rounds.csv").read_text()
    assert len(logs) == 5 * 50 and rows.count("\ngames,") == 250
    cooperation = sum(log.action == C for log in logs if log.game == "IPD-v0") / 50
    summary = json.loads((EVAL / "summary.json").read_text())
    assert cooperation == pytest.approx(summary["games"]["IPD-v0"]["cooperation_rate"])
