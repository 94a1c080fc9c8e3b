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
