"""Smoke tests: the examples run as a user would run them (subprocess, tiny budgets) and print what they claim."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run_example(name: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def parse_q_learning_table(output: str) -> dict[str, dict[str, object]]:
    """reward -> {"policy": [4 labels], "cooperation": float, "betrayal": float} from the printed table."""
    rows = {}
    for line in output.splitlines():
        fields = line.split()
        if fields and fields[0] in ("game", "deontological", "utilitarian", "game_deontological"):
            rows[fields[0]] = {"policy": fields[1:5], "cooperation": float(fields[5]), "betrayal": float(fields[6])}
    return rows


def test_q_learning_shows_the_papers_core_claim():
    table = parse_q_learning_table(run_example("moral_q_learning.py", "--episodes", "100", "--eval-episodes", "60"))
    assert set(table) == {"game", "deontological", "utilitarian", "game_deontological"}
    # The game payoff learns to defect in every state.
    assert table["game"]["policy"] == ["D", "D", "D", "D"]
    assert table["game"]["cooperation"] <= 0.05
    assert table["game"]["betrayal"] > 0.1
    # Utilitarian learns to always cooperate.
    assert table["utilitarian"]["policy"] == ["C", "C", "C", "C"]
    assert table["utilitarian"]["cooperation"] >= 0.95
    # Deontological never defects after the opponent's C (and is indifferent after a D).
    assert table["deontological"]["policy"] == ["C", "C/D", "C", "C/D"]
    assert table["deontological"]["cooperation"] >= 0.6
    # Game + deontological becomes tit-for-tat: C after C, D after D.
    assert table["game_deontological"]["policy"] == ["C", "D", "C", "D"]
    for reward in ("deontological", "utilitarian", "game_deontological"):
        assert table[reward]["betrayal"] == 0.0
        assert table[reward]["cooperation"] > table["game"]["cooperation"]


def test_q_learning_is_reproducible_from_its_seed():
    args = ("--episodes", "40", "--eval-episodes", "10", "--seed", "7")
    assert run_example("moral_q_learning.py", *args) == run_example("moral_q_learning.py", *args)


def test_gym_quickstart_prints_the_prompt_and_the_deontological_rewards():
    output = run_example("gym_quickstart.py")
    assert "You are playing a game with another agent A." in output
    numeric = next(line for line in output.splitlines() if line.startswith("numeric observation"))
    opponent_previous = "CD"[int(numeric.rstrip("]").split()[-1])]
    rounds = [line for line in output.splitlines() if line.startswith("round ")]
    assert len(rounds) == 5
    for line in rounds:
        mine, theirs = line.split("I played ")[1][0], line.split("they played ")[1][0]
        expected = "-3" if (mine, opponent_previous) == ("D", "C") else "+0"
        assert line.endswith(f"deontological reward {expected}"), line
        opponent_previous = theirs
    assert "episode over: True" in output


def test_vector_q_learning_learns_each_rewards_exact_policy():
    output = run_example("vector_q_learning.py", "--games", "512", "--steps", "40")
    rows = {line.split()[0]: line.split() for line in output.splitlines()[1:]}
    assert rows["game"][1:5] == ["D", "D", "D", "D"]
    assert rows["utilitarian"][1:5] == ["C", "C", "C", "C"]
    assert rows["deontological"][1:5] == ["C", "C/D", "C", "C/D"]
    assert rows["game_deontological"][1:5] == ["C", "D", "C", "D"]
    # against tit-for-tat the per-round values are exact: e.g. the game payoff's Q(C) - Q(D) is -1 in every state
    assert [float(gap) for gap in rows["game"][5:9]] == pytest.approx([-1, -1, -1, -1], abs=0.05)
    assert [float(gap) for gap in rows["deontological"][5:9]] == pytest.approx([3, 0, 3, 0], abs=0.05)


def test_sb3_ppo_example_learns_to_cooperate_under_the_utilitarian_reward():
    pytest.importorskip("stable_baselines3")
    output = run_example("sb3_ppo.py", "--timesteps", "6000")
    after = float(output.split("cooperation before")[1].split("after")[1].split()[0])
    betrayal = float(output.split("betrayal before")[1].split("after")[1].split()[0])
    assert after >= 0.95 and betrayal == 0.0


def test_torchrl_example_turns_every_info_into_a_tensor():
    pytest.importorskip("torchrl")
    output = run_example("torchrl_rollout.py", "--steps", "200")
    assert "moral_reward" in output and "game_reward" in output
    assert "GymEnv rollout: (200,), observation (200, 8)" in output


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
    from llm_agents.tiny_models import build_tiny_llama, build_tiny_tokenizer

    folder = tmp_path_factory.mktemp("tiny_model")
    tokenizer = build_tiny_tokenizer()
    build_tiny_llama(tokenizer).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.mark.parametrize("rollout", ["round", "episode"])
def test_trl_grpo_example_runs_two_steps_on_the_tiny_model(tiny_model_dir, rollout):
    pytest.importorskip("trl")
    args = ["--model", str(tiny_model_dir), "--max-steps", "2", "--states", "8", "--rollout", rollout, "--rounds", "3"]
    output = run_example("trl_grpo.py", *args)
    steps = [line for line in output.splitlines() if line.startswith("step ")]
    assert len(steps) == 2 and all("reward" in line for line in steps)
    assert "greedy reward before:" in output and "2 steps in" in output
