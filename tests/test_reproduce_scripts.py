"""The reproduction scripts (examples/reproduce/): their model names meet the report's, and the paper comparison prints
the report's own numbers next to the paper's."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from llm_agents.evaluation.cli import main as evaluate_main
from llm_agents.reporting.cli import main as report_main
from llm_agents.reporting.load import NO_FINE_TUNING, PAPER_MODEL_ORDER, model_label

REPRODUCE = Path(__file__).resolve().parents[1] / "examples" / "reproduce"


def script_rewards() -> dict[str, str]:
    """name -> reward (or schedule) of each fine-tuned model in run_all.sh."""
    text = (REPRODUCE / "run_all.sh").read_text()
    block = text[text.index("REWARDS=(") : text.index(")", text.index("REWARDS=("))]
    return dict(re.findall(r'"(\w+) ([\w:,]+)"', block))


def script_labels() -> dict[str, str]:
    """name -> report label of each model in one_model.sh's case statement."""
    text = (REPRODUCE / "one_model.sh").read_text()
    return dict(re.findall(r'^\s+(\w+)\) label="([^"]+)" ;;', text, flags=re.MULTILINE))


def test_every_reproduction_model_is_named_as_the_report_names_its_training_run():
    rewards, labels = script_rewards(), script_labels()
    assert len(rewards) == 6 and set(labels) == {*rewards, "no_fine_tuning"}
    assert labels["no_fine_tuning"] == NO_FINE_TUNING
    for name, reward in rewards.items():
        assert labels[name] == model_label({"reward": reward, "opponent": "tit_for_tat"})
    assert [label.split(" (vs")[0] for label in labels.values()] == list(PAPER_MODEL_ORDER)


def test_compare_to_paper_prints_the_reports_numbers_next_to_the_papers(tmp_path, capsys):
    protocol = ["--games", "IPD-v0,DefectiveCoordination-v0", "--episodes", "4", "--rounds", "3"]
    protocol += ["--other-prompts", "none", "--no-figures"]
    agent = ["--policy", "always_defect", "--label", "Game payoffs (vs tit_for_tat)"]
    for seed in ("1", "2"):  # two runs of an always-defecting "Game payoffs" model
        assert evaluate_main([*agent, "--seed", seed, "--out", str(tmp_path / "eval" / seed), *protocol]) == 0
    assert report_main([str(tmp_path / "eval"), "--out", str(tmp_path / "report")]) == 0
    capsys.readouterr()
    result = subprocess.run(
        [sys.executable, str(REPRODUCE / "compare_to_paper.py"), str(tmp_path / "report" / "report.json")],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = {line.split(" | ")[0].lstrip("| "): line for line in result.stdout.splitlines() if line.startswith("| ")}
    game_row = next(line for line in result.stdout.splitlines() if line.startswith("| Game payoffs | 2 |"))
    ipd, stag, _, _, icd = game_row.strip("| \n").split(" | ")[2:]
    assert ipd.endswith(" / 1.73") and re.match(r"\d\.\d\d ± \d\.\d\d / ", ipd)  # always D: 4 x share after their C
    assert stag == "- / 1.68" and icd.endswith(" / 1.68")
    assert rows["No fine-tuning"].split(" | ")[1] == "0"  # not evaluated: no runs, the paper's numbers alone
    missing = subprocess.run(
        [sys.executable, str(REPRODUCE / "compare_to_paper.py"), str(tmp_path / "missing.json")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert missing.returncode == 2 and "llm-agents report" in missing.stderr and "missing.json" in missing.stderr
