"""The ``matrix-games`` command line: output of each subcommand and clean errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from matrix_games.cli import main
from matrix_games.strategies import STRATEGIES


def run_cli(capsys, *argv: str) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def test_list_shows_games_payoffs_u_max_strategies_rewards_and_env_ids(capsys):
    output = run_cli(capsys, "list")
    assert "prisoners_dilemma: Iterated Prisoner's Dilemma, U_max = 6" in output
    assert "stag_hunt: Iterated Stag Hunt, U_max = 8" in output
    assert "    C       3, 3      0, 4" in output
    assert all(name in output for name in STRATEGIES)
    assert "game, deontological, utilitarian, game_deontological" in output
    assert "matrix_games/IPD-v0" in output and "matrix_games/DefectiveCoordination-v0" in output


def test_play_prints_every_round_and_a_summary(capsys):
    output = run_cli(
        capsys, "play", "--player0", "always_defect", "--player1", "always_cooperate", "--rounds", "4",
        "--reward", "deontological",
    )  # fmt: skip
    lines = output.splitlines()
    rounds = [line.split() for line in lines if line.strip()[:1].isdigit()]
    assert len(rounds) == 4
    # D against C: payoffs 4 and 0; deontological reward -3 for player_0 from round 2 on (its opponent's C before).
    assert [row[1:] for row in rounds] == [
        ["D", "C", "4", "0", "0", "0"],
        ["D", "C", "4", "0", "-3", "0"],
        ["D", "C", "4", "0", "-3", "0"],
        ["D", "C", "4", "0", "-3", "0"],
    ]
    summary = next(line for line in lines if line.strip().startswith("player_0 always_defect")).split()
    assert summary[2:] == ["16", "-9", "0.00", "3.000", "0.167"]


def test_play_with_a_random_initial_state_shows_the_drawn_round(capsys):
    output = run_cli(capsys, "play", "--initial-state", "random", "--rounds", "2", "--seed", "3")
    assert "drawn previous round: player_0" in output


def test_play_is_reproducible_from_the_seed(capsys):
    first = run_cli(capsys, "play", "--player0", "random", "--player1", "random", "--seed", "9")
    again = run_cli(capsys, "play", "--player0", "random", "--player1", "random", "--seed", "9")
    assert first == again


def test_tournament_prints_a_ranked_table(capsys):
    output = run_cli(
        capsys, "tournament", "--strategies", "tit_for_tat,always_defect", "always_cooperate", "--rounds", "10",
    )  # fmt: skip
    table = [line.split() for line in output.splitlines() if line.strip()[:1].isdigit()]
    assert [row[:2] for row in table] == [["1", "tit_for_tat"], ["2", "always_cooperate"], ["3", "always_defect"]]
    assert float(table[0][2]) == pytest.approx((3 + 0.9 + 3 + 3) / 4, abs=1e-3)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["play", "--player1", "tit_fr_tat"], "Did you mean 'tit_for_tat'"),
        (["play", "--game", "stag_hunts"], "Did you mean 'stag_hunt'"),
        (["play", "--reward", "utilitarianism"], "Did you mean 'utilitarian'"),
        (["play", "--initial-state", "randm"], "Did you mean 'random'"),
        (["tournament", "--strategies", "grim"], "Unknown strategy 'grim'"),
        (["tournament", "--repetitions", "0"], "repetitions"),
    ],
)
def test_bad_input_exits_with_status_2_and_a_message(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_console_module_reports_errors_without_a_traceback():
    result = subprocess.run(
        [sys.executable, "-m", "matrix_games.cli", "play", "--player0", "grim_triger"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "Did you mean 'grim_trigger'" in result.stderr
    assert "Traceback" not in result.stderr
