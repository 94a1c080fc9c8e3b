"""The training part of ``llm-agents report``: action types per episode across runs, from ``rounds.jsonl`` folders.

The run folders are written here with known answers (the layout ``llm-agents train`` writes: ``config.yaml`` and one
``rounds.jsonl`` line per learner per round), so every share and interval can be worked out by hand.
"""

from __future__ import annotations

import json
import math
import statistics

import numpy as np
import pytest
import yaml

from llm_agents.reporting.aggregate import training_curves, training_end_table
from llm_agents.reporting.load import discover, group_by_label
from llm_agents.reporting.report import build_report
from matrix_games.envs.wrappers import RewardSchedule

EPISODES, ROUNDS = 10, 5


def write_run(folder, reward, cooperations_per_episode, opponent="tit_for_tat"):
    """A run whose learner answers C in the first ``k`` rounds of an episode (k from the list) and D after; the
    opponent's previous move is always C, so the rounds are C|C then D|C."""
    folder.mkdir(parents=True)
    config = {"reward": reward, "opponent": opponent, "seed": 0, "episodes": EPISODES, "game": "IPD-v0"}
    (folder / "config.yaml").write_text(yaml.safe_dump(config))
    with (folder / "rounds.jsonl").open("w") as handle:
        for episode, cooperations in enumerate(cooperations_per_episode):
            for round_index in range(ROUNDS):
                action = "C" if round_index < cooperations else "D"
                row = {
                    "episode": episode,
                    "game": 0,
                    "round": round_index,
                    "player": "player_0",
                    "previous_action": "C",
                    "opponent_previous_action": "C",
                    "answer": f"answer {action}",
                    "action": action,
                    "opponent_action": "C",
                    "legal": True,
                    "reward_name": "game",
                    "game_reward": 3.0 if action == "C" else 4.0,
                    "deontological_reward": 0.0 if action == "C" else -3.0,
                    "utilitarian_reward": 6.0 if action == "C" else 4.0,
                    "training_reward": 0.0,
                }
                handle.write(json.dumps(row) + "\n")
    return folder


RUNS = {  # C answers per episode (of 5 rounds), for three seeds of one schedule
    1: [0, 0, 1, 1, 2, 3, 4, 5, 5, 4],
    2: [0, 1, 1, 2, 2, 3, 3, 4, 5, 5],
    3: [1, 0, 0, 1, 3, 3, 4, 4, 3, 5],
}


@pytest.fixture(scope="module")
def runs_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    for seed, pattern in RUNS.items():
        write_run(root / f"unlearn_{seed}", "game:5,deontological:5", pattern)
    write_run(root / "selfish", "game", [0] * EPISODES)
    return root


def test_runs_are_grouped_by_reward_and_opponent(runs_root):
    evaluations, runs = discover([runs_root])
    assert evaluations == []
    groups = group_by_label(runs)
    assert {label: len(items) for label, items in groups.items()} == {
        "Game payoffs (vs tit_for_tat)": 1,
        "Game payoffs, then Deontological (vs tit_for_tat)": 3,
    }


def test_curves_average_the_runs_episode_by_episode(runs_root):
    _, runs = discover([runs_root])
    unlearning = group_by_label(runs)["Game payoffs, then Deontological (vs tit_for_tat)"]
    curves = training_curves(unlearning, window=1)
    per_run = np.array([pattern for pattern in RUNS.values()]) / ROUNDS  # cooperation share per episode
    np.testing.assert_allclose(curves.cooperation, per_run.mean(axis=0))
    np.testing.assert_allclose(curves.cooperation_ci95, 1.96 * per_run.std(axis=0, ddof=1) / math.sqrt(3))
    cc, dc = 0, 2  # PLOTTED_TYPES = C|C, C|D, D|C, D|D, illegal
    np.testing.assert_allclose(curves.shares[:, cc], per_run.mean(axis=0))
    np.testing.assert_allclose(curves.shares[:, dc], 1 - per_run.mean(axis=0))
    assert curves.switch_episodes == (5,) and curves.runs == 3


def test_end_of_training_shares_with_interval(runs_root):
    _, runs = discover([runs_root])
    unlearning = group_by_label(runs)["Game payoffs, then Deontological (vs tit_for_tat)"]
    table = training_end_table(unlearning, fraction=0.2)  # episodes 8 and 9
    per_run = [(pattern[8] + pattern[9]) / (2 * ROUNDS) for pattern in RUNS.values()]
    assert table["C|C"].mean == pytest.approx(statistics.mean(per_run))
    assert table["C|C"].ci95 == pytest.approx(1.96 * statistics.stdev(per_run) / math.sqrt(3))
    assert table["illegal"].mean == 0.0


def test_switch_episodes_of_schedules():
    def switch_episodes(reward: str, episodes: int) -> tuple[int, ...]:
        return RewardSchedule.parse(reward).switch_episodes(episodes)

    assert switch_episodes("game:500,deontological:500", 1000) == (500,)
    assert switch_episodes("deontological", 1000) == ()
    assert switch_episodes("game:100,utilitarian:100,game:100", 300) == (100, 200)


def test_report_has_the_training_section(runs_root, tmp_path):
    text = build_report([runs_root], tmp_path).read_text()
    assert "## Training" in text and "## Test-time evaluation" not in text
    assert "| Game payoffs, then Deontological (vs tit_for_tat) | 3 | 10 |" in text
    for figure in ("training_action_types.png", "training_cooperation.png"):
        assert (tmp_path / figure).stat().st_size > 10_000
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["training_end"]["Game payoffs (vs tit_for_tat)"]["D|C"]["mean"] == 1.0
