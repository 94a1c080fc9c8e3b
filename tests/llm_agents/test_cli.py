"""``llm-agents play`` end to end on the tiny llama (a local folder), its argument errors, and what every command
prints around its work: no third-party noise unless ``--verbose``, one line when stopped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from llm_agents.cli import build_parser, main
from llm_agents.console import Terminated, quiet_libraries

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


def test_loading_a_model_draws_no_progress_bar_unless_verbose(tiny_llama_dir, capsys):
    argv = ["play", "--model", str(tiny_llama_dir), "--rounds", "1", "--device", "cpu"]
    assert main(argv) == 0
    quiet = capsys.readouterr().err
    assert main(["--verbose", *argv]) == 0
    verbose = capsys.readouterr().err
    assert "Loading weights" not in quiet and "Loading weights" in verbose


def test_a_fresh_training_run_prints_no_library_noise(tiny_llama_dir, tmp_path):
    """transformers' FutureWarning (twice) and its "Loading weights" bars were printed by every run; the switches
    must be set before transformers is imported, so this runs in a fresh interpreter."""
    argv = ["train", "--model", str(tiny_llama_dir), "--episodes", "1", "--device", "cpu", "--no-progress"]
    result = subprocess.run(
        [sys.executable, "-m", "llm_agents", "--threads", "1", *argv, "--output-dir", str(tmp_path / "run")],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert result.returncode == 0, result.stderr
    for noise in ("Warning", "Loading weights", "Traceback", "it/s"):
        assert noise not in result.stderr, result.stderr


def test_sigterm_during_training_stops_with_the_resume_line_and_status_143(
    tiny_llama_dir, tmp_path, monkeypatch, capsys
):
    """SIGTERM (llm_agents.console raises Terminated for it) gets Ctrl-C's clean stop, with SIGTERM's status."""
    import llm_agents.training.runner as runner

    def stopped(config):
        raise Terminated()

    monkeypatch.setattr(runner, "train", stopped)
    with pytest.raises(SystemExit) as stop:
        main(["train", "--model", str(tiny_llama_dir), "--episodes", "1", "--output-dir", str(tmp_path / "run")])
    assert stop.value.code == 143
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("llm-agents train: terminated (SIGTERM). No checkpoint was reached in ")


def test_the_libraries_are_quiet_by_default_and_put_back_after():
    """Third-party warnings and progress bars are off inside ``quiet_libraries``, ours still warn, and everything
    is as it was after it (a command run inside a test leaves the test process alone)."""
    import transformers.utils.logging as transformers_logging

    before = (transformers_logging.get_verbosity(), transformers_logging.is_progress_bar_enabled())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with quiet_libraries():
            assert not transformers_logging.is_progress_bar_enabled()
            assert transformers_logging.get_verbosity() == transformers_logging.ERROR
            for module in ("transformers.modeling_utils", "peft.tuners", "ray.tune", "llm_agents.training"):
                warnings.warn_explicit(f"from {module}", FutureWarning, "x.py", 1, module=module)
        with quiet_libraries(enabled=False):  # --verbose
            warnings.warn_explicit("verbose", FutureWarning, "x.py", 1, module="transformers.modeling_utils")
    assert [str(warning.message) for warning in caught] == ["from llm_agents.training", "verbose"]
    assert (transformers_logging.get_verbosity(), transformers_logging.is_progress_bar_enabled()) == before


def test_evaluate_refuses_an_adapter_of_another_base_model_unless_forced(
    make_lora_model, make_tiny_llama, tiny_tokenizer, tmp_path, capsys
):
    from llm_agents.agent.adapters import save_adapter

    adapter = save_adapter(make_lora_model(model_seed=0), tmp_path / "adapter")
    other_base = tmp_path / "other_base"
    make_tiny_llama(seed=1).save_pretrained(other_base)
    tiny_tokenizer.save_pretrained(other_base)
    argv = ["evaluate", "--model", str(other_base), "--adapter", str(adapter), "--device", "cpu", "--games", "IPD-v0"]
    argv += [
        "--episodes",
        "1",
        "--rounds",
        "1",
        "--other-prompts",
        "none",
        "--no-figures",
        "--out",
        str(tmp_path / "e"),
    ]
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2 and "was trained on base model" in capsys.readouterr().err
    assert main([*argv, "--force"]) == 0
    assert (tmp_path / "e" / "summary.json").is_file()


def test_the_busy_machine_note_waits_for_the_checks(monkeypatch, capsys):
    """A refused command line prints only its error; a command that runs prints the note, as one line."""
    import llm_agents.agent.play
    from llm_agents import threads

    monkeypatch.delenv(threads.ENVIRONMENT_VARIABLE, raising=False)
    monkeypatch.setattr(threads, "available_cores", lambda: 4)
    monkeypatch.setattr(threads, "choose_threads", lambda requested=None, **_: 1)
    monkeypatch.setattr(threads, "_warned", False)
    with pytest.raises(SystemExit):
        main(["play", "--opponent", "tit-for-tat"])
    assert capsys.readouterr().err.startswith("llm-agents play: error: Unknown strategy 'tit-for-tat'")
    monkeypatch.setattr(threads, "_warned", False)
    monkeypatch.setattr(llm_agents.agent.play, "play", lambda options, as_json: None)
    assert main(["play"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("llm-agents: warning: the cores are shared"), err


def test_play_refuses_an_adapter_of_another_base_model_unless_forced(
    make_lora_model, make_tiny_llama, tiny_tokenizer, tmp_path, capsys
):
    from llm_agents.agent.adapters import save_adapter

    adapter = save_adapter(make_lora_model(model_seed=0), tmp_path / "adapter")
    other_base = tmp_path / "other_base"
    make_tiny_llama(seed=1).save_pretrained(other_base)
    tiny_tokenizer.save_pretrained(other_base)
    argv = ["play", "--model", str(other_base), "--adapter", str(adapter), "--device", "cpu", "--rounds", "1"]
    argv += ["--max-new-tokens", "2"]
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2 and "was trained on base model" in capsys.readouterr().err
    assert main([*argv, "--force"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("round   1 |") and "Loading it anyway (force=True)" in captured.err
