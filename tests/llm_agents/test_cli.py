"""``llm-agents play`` end to end on the tiny llama (a local folder), and its argument errors."""

from __future__ import annotations

import json

import pytest

from llm_agents.cli import build_parser, main

SUMMARY_KEYS = {
    "cooperation_rate",
    "illegal_rate",
    "mean_game_reward",
    "deontological_regret",
    "utilitarian_regret",
    "rounds",
}


def test_play_prints_every_round_and_a_json_summary(tiny_llama_dir, capsys):
    code = main(["play", "--model", str(tiny_llama_dir), "--rounds", "4", "--seed", "3", "--json", "--device", "cpu"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert code == 0 and len(lines) == 5
    assert all(line.startswith(f"round {i:>3} | last round: ") for i, line in enumerate(lines[:4], start=1))
    summary = json.loads(lines[-1])
    assert set(summary) >= SUMMARY_KEYS and summary["rounds"] == 4
    assert 0.0 <= summary["illegal_rate"] <= 1.0 and 0.0 <= summary["cooperation_rate"] <= 1.0
    if summary["illegal_rate"] == 1.0:
        assert summary["mean_game_reward"] == -6.0 and summary["deontological_regret"] == 6.0


def test_each_round_shows_the_state_the_previous_round_left(tiny_llama_dir, capsys):
    """Round k+1's "last round" is round k's moves (an illegal answer keeps the player's old state)."""
    main(["play", "--model", str(tiny_llama_dir), "--rounds", "3", "--seed", "1", "--device", "cpu"])
    rounds = [line for line in capsys.readouterr().out.splitlines() if line.startswith("round")]
    states = [line.split("last round: ")[1].split(" |")[0] for line in rounds]
    for line, state, following in zip(rounds[:-1], states[:-1], states[1:], strict=True):
        answer = line.split("-> ")[1].split(" |")[0]
        own = state.split(",")[0].removeprefix("you ") if answer == "illegal" else answer
        opponent = line.split("| opponent ")[1].split(" |")[0]
        assert following == f"you {own}, opponent {opponent}"


def test_same_seed_same_game(tiny_llama_dir, capsys):
    argv = ["play", "--model", str(tiny_llama_dir), "--rounds", "3", "--seed", "5", "--device", "cpu"]
    main(argv)
    first = capsys.readouterr().out
    main(argv)
    assert capsys.readouterr().out == first


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["play", "--game", "Poker-v0"], "Unknown game 'Poker-v0'"),
        (["play", "--rounds", "0"], "--rounds must be at least 1"),
        (["play", "--model", "./no/such/model"], "does not exist"),
    ],
)
def test_bad_arguments_exit_2_with_the_reason(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_subcommands_are_registered_by_function():
    parser = build_parser()
    assert parser.parse_args(["play"]).command.__name__ == "command_play"
