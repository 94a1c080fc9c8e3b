"""Grids: a grid's trials are the standalone runs, byte for byte, on Ray or here; a lost worker or a killed driver
changes nothing; a grid file that cannot run says which field, before anything runs."""

from __future__ import annotations

import fcntl
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from llm_agents.cli import main
from llm_agents.grid import load_grid, run_grid

ENV = {**os.environ, "OMP_NUM_THREADS": "1"}
ROOT = Path(__file__).resolve().parents[2]


def write_grid(tmp_path: Path, tiny_llama_dir: Path, episodes: int = 3, **changes) -> Path:
    grid = {
        "base": {
            "opponent": "tit_for_tat",
            "episodes": episodes,
            "rounds_per_episode": 2,
            "games_per_update": 2,
            "checkpoint_every": 1,
            "model": {"name": str(tiny_llama_dir), "device": "cpu", "dtype": "float32", "lora": {"r": 2, "alpha": 4}},
            "generation": {"max_new_tokens": 2},
        },
        "output_dir": str(tmp_path / "grid"),
        "axes": {"reward": ["game", "utilitarian"], "seed": [1, 2]},
        "resources": {"cpus_per_trial": 1},
        "max_concurrent": 2,
        "max_failures": 2,
        **changes,
    }
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump(grid))
    return path


def standalone_rounds(spec, tmp_path: Path) -> dict[str, bytes]:
    """Each trial's config trained as a standalone run (in its own folder), its rounds.jsonl."""
    from llm_agents.training import config_from_dict
    from llm_agents.training.runner import train

    logs = {}
    for trial in spec.trials:
        folder = tmp_path / "standalone" / trial.name
        train(config_from_dict({**trial.config, "output_dir": str(folder)}))
        logs[trial.name] = (folder / "rounds.jsonl").read_bytes()
    return logs


def grid_rounds(spec) -> dict[str, bytes]:
    return {trial.name: (trial.train_dir / "rounds.jsonl").read_bytes() for trial in spec.trials}


def test_local_grid_trials_are_the_standalone_runs_and_a_rerun_needs_resume(tiny_llama_dir, tmp_path):
    spec = load_grid(write_grid(tmp_path, tiny_llama_dir, evaluate={"episodes": 1, "rounds": 2, "games": "IPD-v0"}))
    assert [t.name for t in spec.trials] == ["game/seed1", "game/seed2", "utilitarian/seed1", "utilitarian/seed2"]
    lines = []
    rows = run_grid(spec, backend="local", emit=lines.append)
    assert [row["trial"] for row in rows] == [t.name for t in spec.trials]
    assert grid_rounds(spec) == standalone_rounds(spec, tmp_path)
    assert all((t.eval_dir / "summary.json").exists() for t in spec.trials)
    assert "utilitarian/seed2: 3/3 episodes, cooperation" in "\n".join(lines)
    manifest = json.loads((spec.output_dir / "grid.json").read_text())
    assert [t["state"] for t in manifest["trials"]] == ["done"] * 4
    saved = yaml.safe_load((spec.trials[0].train_dir / "config.yaml").read_text())
    assert saved["reward"] == "game" and saved["seed"] == 1
    with pytest.raises(ValueError, match=r"holds a grid already.*--resume"):
        run_grid(spec, backend="local", emit=lines.append)
    again = []
    run_grid(spec, backend="local", resume=True, emit=again.append)
    assert "4 trials, 4 done, 0 to run" in again[0]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"axes": {"rewrd": ["game"]}}, "axes.rewrd .*Unknown setting 'rewrd'. Did you mean 'reward'"),
        ({"axes": {"seed": []}}, "axes.seed is empty"),
        ({"axes": {"reward": ["game", "utilitarain"]}}, r"axes.reward \(trial utilitarain\): Unknown reward"),
        ({"base": "configs/nowhere.yaml"}, "base: configs/nowhere.yaml does not exist"),
        ({"resources": {"cpus_per_trial": 0}}, "resources.cpus_per_trial must be a positive number, got 0"),
        (
            {"resources": {"cpus_per_trial": float("nan")}},
            "resources.cpus_per_trial must be a positive number, got nan",
        ),
        ({"resources": {"gpus_per_trial": float("inf")}}, "resources.gpus_per_trial must be a number >= 0, got inf"),
        ({"resources": [1]}, r"resources must be a mapping such as \{cpus_per_trial: 1"),
        ({"max_concurrent": float("inf")}, "max_concurrent must be a whole number from 1 to 10000, got inf"),
        ({"max_concurrent": 2.7}, "max_concurrent must be a whole number from 1 to 10000, got 2.7"),
        ({"max_failures": -1}, "max_failures must be a whole number from 0 to 1000, got -1"),
        ({"output_dir": 5}, "output_dir must be a folder path, got 5"),
        ({"report": 5}, r"report must be true, false or \{include: \[more run folders or globs\]\}, got 5"),
        ({"report": {"include": 5}}, "report.include must be a list of run folders or globs, got 5"),
        ({"report": {"include": "runs/x"}}, "report.include must be a list, got the text 'runs/x'"),
        ({"report": {"includes": ["x"]}}, "report has no 'includes'"),
        ({"evaluate": {"games": 0.5}}, "evaluate.games must be comma-separated text or a list of texts"),
        (
            {"axes": {"illegal_reward": {"a_b": -6, "a": -5}, "reward": {"c": "game", "b_c": "utilitarian"}}},
            r"trials \{illegal_reward: a, reward: b_c\} and \{illegal_reward: a_b, reward: c\} both get the folder "
            "name 'a_b_c'",  # (the helper writes the axes and their names sorted)
        ),
        (
            {"axes": {"prompt.preface": ["Be kind!", "Be kind?"]}},
            "axes.prompt.preface: 'Be kind!' and 'Be kind\\?' both make the folder name 'Be_kind'; give the axis "
            "as a mapping",
        ),
        ({"axes": {"seed": [1, 1]}}, "axes.seed lists 1 twice; remove one"),
        ({"axes": {"reward": {"x": "game", "y": "game"}}}, "axes.reward gives 'x' and 'y' the same value 'game'"),
        ({"axes": {"reward": {"Game": "game", "game": "utilitarian"}}}, "both get the folder name 'game'"),
        ({"axes": {"reward": {"../up": "game"}}}, "axes.reward: the name '../up' cannot be a folder name"),
        ({"axes": {"prompt.preface": ["x" * 300]}}, "gets a folder name of 300 characters"),
        ({"axes": {"base": {"b": {"episodes": 2}}}}, "base is given twice"),
        ({"evaluate": {"no_such_flag": 1}}, "evaluate: unknown setting .no_such_flag."),
        ({"evaluate": {"episodes": -1}}, "evaluate: EvaluationConfig.episodes"),
        ({"evaluate": {"labels": "C,C"}}, "evaluate: .*two different labels"),
        ({"schedule": 3}, "unknown field 'schedule'"),
        ({"axes": {"settings": {"g": {"algorithm": "grpo", "grpo.num_generations": 0}}}}, r"axes.settings \(trial g\)"),
        ({"axes": {"settings": {"g": 4}}}, "axes.settings values must be mappings of settings, got 4"),
        ({"output_dir": ""}, "output_dir is empty"),
        ({"output_dir": "/"}, "output_dir '/' is the filesystem root"),
    ],
)
def test_a_grid_file_that_cannot_run_exits_2_naming_the_field(tiny_llama_dir, tmp_path, capsys, change, message):
    path = write_grid(tmp_path, tiny_llama_dir, **change)
    with pytest.raises(SystemExit) as stopped:
        main(["grid", str(path), "--backend", "local"])
    assert stopped.value.code == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and re.search(message, error), error
    assert not (tmp_path / "grid").exists()  # nothing ran


def test_a_settings_axis_applies_each_named_bundle_of_settings_together(tiny_llama_dir, tmp_path):
    bundles = {
        "ppo": {"algorithm": "ppo"},
        "g4": {"algorithm": "grpo", "grpo.num_generations": 4, "games_per_update": 1},
    }
    spec = load_grid(write_grid(tmp_path, tiny_llama_dir, axes={"settings": bundles, "reward": ["game"]}))
    configs = {trial.name: trial.config for trial in spec.trials}
    assert set(configs) == {"game_ppo", "game_g4"}  # the helper writes the axes sorted
    assert configs["game_ppo"]["algorithm"] == "ppo" and configs["game_ppo"]["games_per_update"] == 2
    g4 = configs["game_g4"]
    assert (g4["algorithm"], g4["grpo"]["num_generations"], g4["games_per_update"], g4["reward"]) == (
        "grpo",
        4,
        1,
        "game",
    )


def test_without_ray_the_grid_names_the_extra_to_install(tiny_llama_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now fails, as where it is not installed
    with pytest.raises(SystemExit) as stopped:
        main(["grid", str(write_grid(tmp_path, tiny_llama_dir))])
    assert stopped.value.code == 2
    assert "pip install 'moral-matrix-games[grid]'" in capsys.readouterr().err
    assert not (tmp_path / "grid").exists()  # said before anything was written


def fake_summary(folder: Path) -> None:
    """The ``summary.json`` of a finished run or evaluation (what ``trial_state`` and ``result_row`` read)."""
    folder.mkdir(parents=True, exist_ok=True)
    summary = {"player_0": {"last": {"cooperation_rate": 0.5, "illegal_rate": 0.0}}, "wall_time_s": 1.0}
    summary["games"] = {"IPD-v0": {"cooperation_rate": 0.5}}
    (folder / "summary.json").write_text(json.dumps(summary))


def test_a_grid_whose_trial_failed_exits_1_even_when_it_trained(tiny_llama_dir, tmp_path, capsys, monkeypatch):
    path = write_grid(tmp_path, tiny_llama_dir, evaluate={"episodes": 1}, max_failures=0)

    def trained_then_evaluation_failed(trial, observer=None):
        fake_summary(trial.train_dir)  # its training finished (wall_time_s is known) ...
        if trial.name == "utilitarian/seed1":
            raise RuntimeError("the evaluation ran out of memory")  # ... and its evaluation failed
        fake_summary(trial.eval_dir)
        return {}

    monkeypatch.setattr("llm_agents.grid.backends.run_trial", trained_then_evaluation_failed)
    with pytest.raises(SystemExit) as stopped:
        main(["grid", str(path), "--backend", "local"])
    assert stopped.value.code == 1
    out = capsys.readouterr().out
    assert re.search(r"utilitarian/seed1\s+failed", out), out
    assert f"continue with: llm-agents grid {path} --resume --backend local" in out
    manifest = json.loads((tmp_path / "grid" / "grid.json").read_text())
    assert [t["state"] for t in manifest["trials"]] == ["done", "done", "failed", "done"]


def test_ctrl_c_leaves_unstarted_trials_pending_exits_130_and_prints_the_resume_command(
    tiny_llama_dir, tmp_path, capsys, monkeypatch
):
    path = write_grid(tmp_path, tiny_llama_dir)
    ran = []

    def second_trial_interrupted(trial, observer=None):
        ran.append(trial.name)
        if len(ran) == 2:
            raise KeyboardInterrupt
        fake_summary(trial.train_dir)
        return {}

    monkeypatch.setattr("llm_agents.grid.backends.run_trial", second_trial_interrupted)
    with pytest.raises(SystemExit) as stopped:
        main(["grid", str(path), "--backend", "local", "--set", "ppo.learning_rate=0.0001"])
    assert stopped.value.code == 130
    out = capsys.readouterr().out
    states = {t["name"]: t["state"] for t in json.loads((tmp_path / "grid" / "grid.json").read_text())["trials"]}
    assert states == {
        "game/seed1": "done",
        "game/seed2": "interrupted",
        "utilitarian/seed1": "pending",
        "utilitarian/seed2": "pending",
    }
    assert re.search(r"utilitarian/seed2\s+pending", out) and "failed" not in out, out
    command = f"llm-agents grid {path} --resume --backend local --set ppo.learning_rate=0.0001"
    assert f"continue with: {command}" in out
    monkeypatch.setattr(
        "llm_agents.grid.backends.run_trial", lambda trial, observer=None: fake_summary(trial.train_dir)
    )
    main(command.split()[1:])  # the printed command continues the grid to its end (exit 0)
    assert "4 trials, 1 done, 3 to run" in capsys.readouterr().out


def test_on_ray_the_first_ctrl_c_stops_the_trials_and_the_second_raises():
    import pickle

    from llm_agents.grid.backends import StopFlag, _interrupt_sets

    stop, lines = StopFlag(), []
    # a terminal's Ctrl-C: a suite started in the background inherits SIGINT ignored
    terminal = signal.signal(signal.SIGINT, signal.default_int_handler)
    before = signal.getsignal(signal.SIGINT)
    with _interrupt_sets(stop, lines.append):
        signal.raise_signal(signal.SIGINT)  # to this thread, so the handler runs at the next bytecode
        for _ in range(500):  # and still wait, in case another thread took it (torch's and Ray's threads exist)
            if stop.is_set():
                break
            time.sleep(0.01)
        assert stop.is_set() and "Ctrl-C: stopping the trials" in lines[0]
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
            for _ in range(500):
                time.sleep(0.01)
    assert signal.getsignal(signal.SIGINT) is before
    signal.signal(signal.SIGINT, terminal)
    assert not pickle.loads(pickle.dumps(stop)).is_set()  # Tune pickles its run settings; a copy starts unset


def test_a_report_include_that_matches_nothing_is_a_warning_printed_and_written(tiny_llama_dir, tmp_path, monkeypatch):
    missing = str(tmp_path / "nowhere" / "seed*")
    spec = load_grid(write_grid(tmp_path, tiny_llama_dir, report={"include": [missing]}))
    assert spec.report and spec.include_folders() == ((), (missing,))
    (tmp_path / "nowhere" / "seed1").mkdir(parents=True)  # matched when the report is written, not when loaded
    assert spec.include_folders() == ((tmp_path / "nowhere" / "seed1",), ())
    (tmp_path / "nowhere" / "seed1").rmdir()
    written = []

    def report(config):
        written.append(config.paths)
        config.out.mkdir(parents=True)
        (config.out / "report.md").write_text("# Report\n")
        return config.out / "report.md"

    monkeypatch.setattr("llm_agents.reporting.report.write_report", report)
    monkeypatch.setattr(
        "llm_agents.grid.backends.run_trial", lambda trial, observer=None: fake_summary(trial.train_dir)
    )
    lines = []
    run_grid(spec, backend="local", emit=lines.append)
    warning = f"report.include {missing!r} matches no folder"
    assert any(line.startswith("warning: " + warning) for line in lines), lines
    assert warning in (spec.output_dir / "report" / "report.md").read_text()
    assert len(written[0]) == 4  # the trials' run folders, and nothing for the missing include


def test_each_trial_runs_torch_with_its_cpus_as_threads(tiny_llama_dir, tmp_path, monkeypatch):
    spec = load_grid(write_grid(tmp_path, tiny_llama_dir, resources={"cpus_per_trial": 2.5}))
    assert {trial.threads for trial in spec.trials} == {2}
    assert {trial.config.get("threads", 2) for trial in spec.trials} == {2}  # the training's own setting too
    assert load_grid(write_grid(tmp_path, tiny_llama_dir, resources={"cpus_per_trial": 0.5})).trials[0].threads == 1
    configured = []
    monkeypatch.setattr("llm_agents.threads.configure_threads", configured.append)
    trial = spec.trials[0]
    fake_summary(trial.train_dir)  # done: nothing to train, the threads are still set first
    from llm_agents.grid.trial import run_trial

    run_trial(trial)
    assert configured == [2]


@pytest.mark.parametrize("path", sorted((ROOT / "configs" / "grids").glob("*.yaml")), ids=lambda p: p.name)
def test_quick_makes_every_bundled_grid_a_short_try_in_its_own_folder(path, monkeypatch):
    monkeypatch.chdir(ROOT)  # the grids name their base configs from the repository's root
    real, quick = load_grid(path), load_grid(path, quick=True)
    assert [trial.name for trial in quick.trials] == [trial.name for trial in real.trials]
    assert quick.output_dir == real.output_dir.with_name(real.output_dir.name + "-quick")
    for trial in quick.trials:
        assert trial.episodes == 2 and trial.train_dir.is_relative_to(quick.output_dir)
        phases = trial.config["reward"].split(",")
        assert len(phases) == 1 or [phase.split(":")[1] for phase in phases] == ["1", "1"]
        assert trial.evaluation is None or trial.evaluation.protocol.episodes == 1
    assert all(trial.config["episodes"] == 3 for trial in load_grid(path, {"episodes": 3}, quick=True).trials)


def test_a_plain_episodes_override_that_a_schedule_refuses_points_to_quick(monkeypatch):
    monkeypatch.chdir(ROOT)
    with pytest.raises(
        ValueError, match=r"covers 60 episodes but episodes=2.*for a short try of this grid use --quick"
    ):
        load_grid("configs/grids/reproduce_cpu.yaml", {"episodes": 2})


@pytest.mark.parametrize(
    ("reward", "episodes", "short", "scaled"),
    [
        ("game", 60, 2, "game"),
        ("game:30,deontological:30", 60, 2, "game:1,deontological:1"),
        ("game:30,deontological:30", 60, 5, "game:2,deontological:3"),
        ("game:10,utilitarian:40", 50, 4, "game:1,utilitarian:3"),
        ("game:2,utilitarian:2,game:56", 60, 3, "game:1,utilitarian:1,game:1"),
        ("game:30,deontological", 100, 10, "game:3,deontological"),
    ],
)
def test_quick_scales_a_reward_schedule_to_the_short_run(reward, episodes, short, scaled):
    from llm_agents.grid.spec import scaled_reward
    from llm_agents.training import TrainConfig

    config = TrainConfig(reward=reward, episodes=episodes if ":" not in reward.split(",")[-1] else None)
    assert scaled_reward(config, short) == scaled
    if scaled != reward:
        with pytest.raises(ValueError, match=r"--set episodes=\d"):
            scaled_reward(config, 1)


def test_quick_runs_a_short_try_of_a_grid_from_the_command_line(tiny_llama_dir, tmp_path, capsys):
    path = write_grid(tmp_path, tiny_llama_dir, episodes=6, axes={"reward": ["game:3,utilitarian:3"]})
    main(["grid", str(path), "--backend", "local", "--quick"])
    saved = yaml.safe_load((tmp_path / "grid-quick" / "train" / "game_3_utilitarian_3" / "config.yaml").read_text())
    assert (saved["episodes"], saved["reward"]) == (2, "game:1,utilitarian:1")
    assert not (tmp_path / "grid").exists()  # the real grid's folder is untouched
    assert "1 trials, 0 done, 1 to run" in capsys.readouterr().out


def test_dry_run_checks_the_grid_and_lists_its_trials_without_running_or_writing(tiny_llama_dir, tmp_path, capsys):
    path = write_grid(tmp_path, tiny_llama_dir)
    main(["grid", str(path), "--dry-run"])
    out = capsys.readouterr().out
    assert "4 trials, checked; nothing was run (--dry-run):" in out
    assert all(f"{reward}/seed{seed}" in out for reward in ("game", "utilitarian") for seed in (1, 2))
    assert out.count(" pending ") == 4 and not (tmp_path / "grid").exists()
    bad = write_grid(tmp_path, tiny_llama_dir, evaluate={"episodes": -1})
    with pytest.raises(SystemExit) as stop:  # a dry run checks what a real run would check first
        main(["grid", str(bad), "--dry-run"])
    assert stop.value.code == 2 and "episodes" in capsys.readouterr().err


ray = pytest.importorskip("ray")


def popen_grid(path: Path, *flags: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "llm_agents", "grid", str(path), *flags],
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def episodes_logged(train_dir: Path) -> int:
    rounds = train_dir / "rounds.jsonl"
    return 0 if not rounds.exists() else rounds.read_bytes().count(b"\n") // 4  # 2 games x 2 rounds per episode


def lock_holder(folder: Path) -> int | None:
    """The pid holding ``folder``'s lock, or None when it is free."""
    with open(folder / ".lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            return int(handle.read().split()[1])
        return None


@pytest.mark.slow
def test_ray_grid_with_a_killed_worker_ends_as_the_standalone_runs(tiny_llama_dir, tmp_path):
    path = write_grid(tmp_path, tiny_llama_dir, episodes=12)
    spec = load_grid(path)
    grid = popen_grid(path)
    victim = spec.trials[0].train_dir
    killed = None
    while grid.poll() is None and killed is None:
        if episodes_logged(victim) >= 3 and (victim / ".lock").exists():
            killed = lock_holder(victim)
            if killed is not None:
                os.kill(killed, signal.SIGKILL)
        time.sleep(0.05)
    output = grid.communicate()[0]
    assert grid.returncode == 0, output
    assert killed is not None, "the trial ended before it could be killed"
    assert "game/seed1: its worker failed; retrying" in output
    manifest = json.loads((spec.output_dir / "grid.json").read_text())
    assert manifest["trials"][0]["attempts"] == 2 and all(t["state"] == "done" for t in manifest["trials"])
    assert grid_rounds(spec) == standalone_rounds(spec, tmp_path)


@pytest.mark.slow
def test_ray_grid_whose_driver_is_killed_resumes_to_the_same_end(tiny_llama_dir, tmp_path):
    path = write_grid(tmp_path, tiny_llama_dir, episodes=4, max_concurrent=1)
    spec = load_grid(path)
    grid = popen_grid(path)
    first = spec.trials[0].train_dir / "summary.json"
    while grid.poll() is None and not first.exists():
        time.sleep(0.05)
    os.killpg(grid.pid, signal.SIGKILL)
    grid.wait()
    for trial in spec.trials:  # the old workers die with their cluster; wait for them to let go
        while trial.train_dir.exists() and (trial.train_dir / ".lock").exists() and lock_holder(trial.train_dir):
            time.sleep(0.1)
    finished_before = first.read_bytes()
    resumed = subprocess.run(
        [sys.executable, "-m", "llm_agents", "grid", str(path), "--resume"], env=ENV, capture_output=True, text=True
    )
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "4 trials, 1 done, 3 to run" in resumed.stdout
    assert first.read_bytes() == finished_before  # the finished trial was not run again
    assert grid_rounds(spec) == standalone_rounds(spec, tmp_path)


@pytest.mark.slow
def test_ray_refuses_resources_the_cluster_does_not_have(tiny_llama_dir, tmp_path, capsys):
    path = write_grid(tmp_path, tiny_llama_dir, resources={"cpus_per_trial": 1, "gpus_per_trial": 1})
    with pytest.raises(SystemExit) as stopped:
        main(["grid", str(path), "--dashboard"])
    assert stopped.value.code == 2
    printed = capsys.readouterr()
    assert "resources.gpus_per_trial=1, but the Ray cluster has 0 GPUs" in printed.err
    assert "Ray dashboard: http://127.0.0.1:" in printed.out
    ray.shutdown()
