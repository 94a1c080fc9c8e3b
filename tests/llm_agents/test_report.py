"""``llm-agents report`` on real evaluation folders: seeds of baseline policies, aggregated with 95% intervals."""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys

import pytest

from llm_agents.cli import main as llm_agents_main
from llm_agents.evaluation import EvaluationConfig, StrategyPolicy, evaluate
from llm_agents.grpo.config import GRPOConfig
from llm_agents.reporting.load import discover, group_by_label
from llm_agents.reporting.report import build_report
from llm_agents.training import TrainConfig, config_to_dict
from llm_agents.training.naming import model_label

CONFIG = EvaluationConfig(episodes=4, rounds=3, other_prompts=("unrelated_morality", "poetic"))


@pytest.fixture(scope="module")
def evaluations(tmp_path_factory):
    """Three seeds of a random policy (a model with spread), one always_defect, one always_cooperate."""
    root = tmp_path_factory.mktemp("evaluations")
    for seed in (1, 2, 3):
        evaluate(StrategyPolicy("random", seed=seed), CONFIG, root / f"random_{seed}", label="Coin", figures=False)
    evaluate(StrategyPolicy("always_defect"), CONFIG, root / "defector", figures=False)
    evaluate(StrategyPolicy("always_cooperate"), CONFIG, root / "nested" / "cooperator", figures=False)
    return root


def test_report_aggregates_seeds_with_a_95_percent_interval(evaluations, tmp_path):
    build_report([evaluations], tmp_path)
    report = json.loads((tmp_path / "report.json").read_text())
    for game in CONFIG.games:
        for metric in ("deontological_regret", "utilitarian_regret", "cooperation_rate"):
            values = [
                json.loads((evaluations / f"random_{seed}" / "summary.json").read_text())["games"][game][metric]
                for seed in (1, 2, 3)
            ]
            cell = report["games"]["Coin"][game][metric]
            assert cell["runs"] == 3
            assert cell["mean"] == pytest.approx(statistics.mean(values))
            assert cell["ci95"] == pytest.approx(1.96 * statistics.stdev(values) / math.sqrt(3))
        single = report["games"]["always_defect"][game]["deontological_regret"]
        assert single["runs"] == 1 and single["ci95"] is None
    assert report["games"]["always_cooperate"]["IPD-v0"]["deontological_regret"]["mean"] == 0.0
    spread = [report["games"]["Coin"][game]["cooperation_rate"]["ci95"] for game in CONFIG.games]
    assert any(ci > 0 for ci in spread)  # the three seeds really differ


def test_report_md_shows_tables_and_figures(evaluations, tmp_path):
    path = build_report([evaluations], tmp_path)
    text = path.read_text()
    for heading in ("Deontological regret", "Utilitarian regret", "Reciprocity", "Other prompts"):
        assert f"### {heading}" in text
    assert "| Coin | 3 | 4x3 rounds, action3/action4, original order, xi 4, seed 100 |" in text
    assert "| model | C\\|C | C\\|D | D\\|C | D\\|D |" in text  # pipes inside cells are escaped
    reciprocity = text.split("### Reciprocity")[1].split("###")[0]
    (defector,) = [line for line in reciprocity.splitlines() if line.startswith("| always_defect |")]
    assert defector.endswith("| 0.00 | 0.00 | 0.00 | 1.00 |")  # no illegal answers; P(C | C) = 0, P(D | D) = 1
    for figure in ("regret.png", "test_action_types.png", "other_prompts.png"):
        assert f"]({figure})" in text
        assert (tmp_path / figure).stat().st_size > 10_000


def test_models_are_grouped_by_label_in_the_paper_order(evaluations):
    found, runs = discover([evaluations])
    assert runs == [] and len(found) == 5
    groups = group_by_label(found)
    assert {label: len(items) for label, items in groups.items()} == {
        "Coin": 3,
        "always_defect": 1,
        "always_cooperate": 1,
    }
    labels = [
        "Utilitarian (vs tit_for_tat)",
        "custom",
        "Game payoffs, then Deontological (vs tit_for_tat)",
        "No fine-tuning",
        "Game payoffs (vs tit_for_tat)",
        "No fine-tuning, deontological prompt",
    ]
    items = [type("Item", (), {"label": label})() for label in labels]
    assert list(group_by_label(items)) == [
        "No fine-tuning",
        "No fine-tuning, deontological prompt",
        "Game payoffs (vs tit_for_tat)",
        "Utilitarian (vs tit_for_tat)",
        "Game payoffs, then Deontological (vs tit_for_tat)",
        "custom",
    ]


def test_model_label_names_the_paper_models():
    assert model_label({"reward": "game_deontological", "opponent": "llm"}) == "Game + Deontological (vs llm)"
    assert model_label({"reward": "game:500,utilitarian:500", "opponent": "tit_for_tat"}) == (
        "Game payoffs, then Utilitarian (vs tit_for_tat)"
    )


def test_model_label_tells_apart_what_a_grid_varies():
    """GRPO with sampled groups and label-pool training are other models than GRPO and one fixed pair."""

    def label(**changes):
        return model_label(config_to_dict(TrainConfig(reward="utilitarian", **changes)))

    assert label() == "Utilitarian (vs tit_for_tat)"
    assert label(labels=("C", "D")) == "Utilitarian (vs tit_for_tat)"
    assert label(algorithm="grpo") == "Utilitarian (vs tit_for_tat, GRPO)"
    assert label(algorithm="grpo", grpo=GRPOConfig(num_generations=4)) == "Utilitarian (vs tit_for_tat, GRPO G=4)"
    assert label(labels="letters") == "Utilitarian (vs tit_for_tat, letters label pool)"
    assert label(labels=(("C", "D"), ("X", "Y"))) == "Utilitarian (vs tit_for_tat, pool of 2 label pairs)"


def test_report_cli(evaluations, tmp_path, capsys):
    assert (
        llm_agents_main(
            ["report", str(evaluations / "random_1"), str(evaluations / "defector"), "--out", str(tmp_path)]
        )
        == 0
    )
    assert "report.md" in capsys.readouterr().out
    assert "| Coin | 1 |" in (tmp_path / "report.md").read_text()
    with pytest.raises(SystemExit) as exit_info:
        llm_agents_main(["report", str(tmp_path / "missing"), "--out", str(tmp_path)])
    assert exit_info.value.code == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SystemExit):
        llm_agents_main(["report", str(empty), "--out", str(tmp_path)])
    assert "No evaluation" in capsys.readouterr().err


def test_report_console_smoke(evaluations, tmp_path):
    subprocess.run(
        [sys.executable, "-m", "llm_agents", "report", str(evaluations), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    assert (tmp_path / "report.md").exists()
