"""The command lines fail fast, stop cleanly and speak quietly, without loading a model.

Each mistaken command line runs in a fresh interpreter, which then checks that torch (and the rest of the heavy stack)
was never imported: the mistake was found before the imports that take seconds. Signals are sent from inside the
child, at the moment it starts importing torch (an import hook), so no test depends on timing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from llm_agents.cli import build_parser, main
from matrix_games.cli import main as matrix_games_main

HEAVY = ("torch", "transformers", "peft", "trl", "ray")

RUN_MAIN = f"""
import sys
from llm_agents.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as stop:
    code = stop.code
heavy = sorted(name for name in {HEAVY!r} if name in sys.modules)
assert not heavy, f"imported {{heavy}} before the arguments were checked"
sys.exit(code)
"""

SIGNAL_AT_TORCH = """
import os, signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)  # a terminal's Ctrl-C, even when started in the background

class SignalAtTorch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch":
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signal.{signal})
        return None

sys.meta_path.insert(0, SignalAtTorch())
from llm_agents.cli import main
sys.exit(main(sys.argv[1:]))
"""


def run_child(code: str, *argv: str, cwd: Path, threads: str | None = None) -> subprocess.CompletedProcess:
    """Run ``code`` with ``argv`` in a fresh interpreter; ``threads`` sets LLM_AGENTS_THREADS (unset: the machine's)."""
    environment = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    environment.pop("LLM_AGENTS_THREADS", None)
    if threads is not None:
        environment["LLM_AGENTS_THREADS"] = threads
    return subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, cwd=cwd, env=environment, check=False
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["evaluate", "--adapter", "does_not_exist", "--out", "out"], "Adapter folder does_not_exist does not exist"),
        (["analyse", "--adapter", "does_not_exist", "--out", "out"], "Adapter folder does_not_exist does not exist"),
        (["play", "--opponent", "tit-for-tat"], "Did you mean 'tit_for_tat'?"),
        (["play", "--game", "Poker-v0"], "Unknown game 'Poker-v0'"),
        (["play", "--model", "./no/such/model"], "Model folder './no/such/model' does not exist"),
        (["play", "--adapter", "no_adapter_here"], "Adapter folder no_adapter_here does not exist"),
        (["play", "--labels", "C,C"], "--labels C,C: action_labels must be two different labels"),
        (["play", "--device", "gpu"], "--device 'gpu' is not a device; give auto, cpu, cuda or cuda:N"),
        (["evaluate", "--model", "./no/such/model", "--out", "out"], "Model folder './no/such/model' does not exist"),
        (["evaluate", "--policy", "tit-for-tat", "--out", "out"], "Did you mean 'tit_for_tat'?"),
        (["train", "--config", "missing.yaml"], "Config file 'missing.yaml' does not exist"),
        (["train", "--model", "./no/such/model", "--output-dir", "run"], "Model folder './no/such/model'"),
        (["grid", "missing.yaml"], "grid file missing.yaml does not exist"),
        (["report", "missing", "--out", "report"], "missing does not exist"),
    ],
)
def test_a_mistaken_command_line_exits_2_with_one_line_before_torch_loads(argv, message, tmp_path):
    """Also on a busy machine: the note on the thread count waits until the arguments passed their checks."""
    result = run_child(RUN_MAIN, *argv, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"llm-agents {argv[0]}: error: ") and message in lines[0], lines


@pytest.mark.parametrize(("signal", "status", "line"), [("SIGINT", 130, "interrupted"), ("SIGTERM", 143, "terminated")])
def test_a_signal_while_torch_loads_stops_with_one_line_and_no_traceback(signal, status, line, tmp_path):
    """Ctrl-C used to print a KeyboardInterrupt traceback, SIGTERM to kill silently (status -15)."""
    code = SIGNAL_AT_TORCH.format(signal=signal)
    result = run_child(code, "play", "--model", str(tmp_path), cwd=tmp_path, threads="1")  # no busy note
    assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [f"llm-agents play: {line} ({'Ctrl-C' if status == 130 else signal})"]


def test_threads_and_verbose_go_before_or_after_the_command():
    parser = build_parser()
    assert parser.parse_args(["--threads", "3", "play"]).threads == 3
    assert parser.parse_args(["play", "--threads", "2"]).threads == 2
    assert parser.parse_args(["--threads", "3", "report", "x", "--out", "y"]).threads == 3  # not undone by report
    assert parser.parse_args(["play"]).threads is None and parser.parse_args(["play"]).verbose is False
    assert parser.parse_args(["grid", "g.yaml", "--verbose"]).verbose is True


@pytest.mark.parametrize("bad", ["0", "two", "-1"])
def test_a_bad_thread_count_is_named(bad, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--threads", bad, "play"])
    assert stop.value.code == 2
    assert "--threads must be a whole number of threads" in capsys.readouterr().err


def test_threads_are_set_before_the_command_runs_and_restored_after(monkeypatch, tmp_path):
    """The command sees OMP_NUM_THREADS=3 (so torch, imported later, starts with 3); the caller's value comes back."""
    import llm_agents.reporting.report as report

    seen = {}

    def fake_write_report(config):
        seen["threads"] = os.environ["OMP_NUM_THREADS"]
        return tmp_path / "report.md"

    monkeypatch.setattr(report, "write_report", fake_write_report)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert main(["--threads", "3", "report", str(tmp_path), "--out", str(tmp_path / "out")]) == 0
    assert seen == {"threads": "3"} and os.environ["OMP_NUM_THREADS"] == "1"


def test_train_takes_threads_as_its_setting(tmp_path):
    from llm_agents.training.cli import config_from_args

    parser = build_parser()
    args = parser.parse_args(["--threads", "2", "train", "--output-dir", str(tmp_path / "run"), "--set", "threads=4"])
    assert config_from_args(args).threads == 2  # explicit --threads wins over --set and the config file
    args = parser.parse_args(["train", "--output-dir", str(tmp_path / "run"), "--set", "threads=4"])
    assert config_from_args(args).threads == 4


def test_report_help_prints_one_percent_sign(capsys):
    """The description was written "95%%" as if argparse %-formatted it (it formats only help= texts)."""
    with pytest.raises(SystemExit):
        main(["report", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "95% intervals" in out and "%%" not in out


def test_every_help_text_prints_its_percent_signs_once(capsys):
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    for name, command in commands.items():
        assert "%%" not in command.format_help(), name
    assert "%%" not in parser.format_help()


@pytest.mark.parametrize(
    ("game", "message"),
    [
        ("prisoner_dilemma", "Did you mean 'prisoners_dilemma'? --game takes one of"),
        ("IPD-v0", "written with its namespace: 'matrix_games/IPD-v0'); here write --game prisoners_dilemma"),
        ("matrix_games/StagHunt-v0", "here write --game stag_hunt"),
    ],
)
def test_matrix_games_names_a_game_in_the_command_lines_words(game, message, capsys):
    """An unknown --game suggested passing a MatrixGame (Python only); an environment id got no hint."""
    with pytest.raises(SystemExit) as stop:
        matrix_games_main(["tournament", "--game", game])
    assert stop.value.code == 2
    error = capsys.readouterr().err
    assert message in error and "MatrixGame" not in error


def test_an_environment_keyword_typo_gets_a_did_you_mean():
    from matrix_games import IteratedMatrixGameEnv

    with pytest.raises(TypeError, match=r"unexpected keyword argument 'gmae'.*Did you mean 'game'\?"):
        IteratedMatrixGameEnv(gmae="stag_hunt")
    with pytest.raises(TypeError, match=r"Did you mean 'num_rounds'\?"):
        IteratedMatrixGameEnv(num_rouds=3)
