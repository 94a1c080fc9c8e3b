"""The reproduction scripts (examples/reproduce/): their model names meet the report's, and the paper comparison prints
the report's own numbers next to the paper's."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from llm_agents.cli import main as llm_agents_main
from llm_agents.training.naming import NO_FINE_TUNING, PAPER_MODEL_ORDER, model_label

REPRODUCE = Path(__file__).resolve().parents[1] / "examples" / "reproduce"


def reproduction_models() -> list[tuple[str, str, str]]:
    """(name, reward, report label) of each model in models.sh, "-" for the reward of the untrained model."""
    script = f"""
        source {REPRODUCE / "models.sh"}
        echo "no_fine_tuning - $(model_label no_fine_tuning)"
        for entry in "${{MODELS[@]}}"; do echo "$entry $(model_label "${{entry%% *}}")"; done
    """
    output = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout
    return [tuple(line.split(" ", 2)) for line in output.splitlines()]  # type: ignore[misc]


def test_every_reproduction_model_is_named_as_the_report_names_its_training_run():
    models = reproduction_models()
    assert [label.split(" (vs")[0] for _, _, label in models] == list(PAPER_MODEL_ORDER)
    assert models[0] == ("no_fine_tuning", "-", NO_FINE_TUNING)
    for _, reward, label in models[1:]:
        assert label == model_label({"reward": reward, "opponent": "tit_for_tat"})
    unknown = subprocess.run(
        ["bash", "-c", f"source {REPRODUCE / 'models.sh'}; model_label gme"], capture_output=True, text=True
    )
    assert unknown.returncode == 2 and "unknown model name gme" in unknown.stderr


def test_compare_to_paper_prints_the_reports_numbers_next_to_the_papers(tmp_path, capsys):
    protocol = ["--games", "IPD-v0,DefectiveCoordination-v0", "--episodes", "4", "--rounds", "3"]
    protocol += ["--other-prompts", "none", "--no-figures"]
    agent = ["--policy", "always_defect", "--label", "Game payoffs (vs tit_for_tat)"]
    for seed in ("1", "2"):  # two runs of an always-defecting "Game payoffs" model
        assert (
            llm_agents_main(["evaluate", *agent, "--seed", seed, "--out", str(tmp_path / "eval" / seed), *protocol])
            == 0
        )
    assert llm_agents_main(["report", str(tmp_path / "eval"), "--out", str(tmp_path / "report")]) == 0
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


def test_the_reproduction_grid_trains_the_models_of_models_sh():
    from llm_agents.grid import load_grid

    grid = load_grid(REPRODUCE.parents[1] / "configs" / "grids" / "reproduce_cpu.yaml")
    trained = {(trial.name.split("/")[0], trial.values["reward"]) for trial in grid.trials}
    assert trained == {(name, reward) for name, reward, _ in reproduction_models()[1:]}
    assert sorted({trial.values["seed"] for trial in grid.trials}) == [1, 2, 3]
    assert all(trial.train_dir.parts[-3:-1] == ("train", trial.name.split("/")[0]) for trial in grid.trials)


def test_a_run_still_training_can_be_drawn(tmp_path):
    """plot_run.py draws a folder whose run stopped part way: half its rounds, two exact-analysis lines."""
    import json
    import shutil

    run = tmp_path / "run"
    shutil.copytree(Path(__file__).parent / "fixtures" / "v0_1_runs" / "train" / "game_then_utilitarian" / "seed1", run)
    (run / "summary.json").unlink()
    rows = (run / "rounds.jsonl").read_text().splitlines()
    (run / "rounds.jsonl").write_text("\n".join(rows[: len(rows) // 2]) + "\n")
    state = {"p_c": 0.25, "p_d": 0.5, "p_illegal": 0.25}
    lines = [
        {
            "episode": e,
            "player": "player_0",
            "reward_name": "game",
            "states": dict.fromkeys(("CC", "CD", "DC", "DD"), state),
        }
        for e in (0, 2)
    ]
    (run / "analysis.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = subprocess.run(
        [sys.executable, str(REPRODUCE / "plot_run.py"), str(run), "--out", str(tmp_path / "progress.png")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "progress.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert result.stdout.strip() == str(tmp_path / "progress.png")
