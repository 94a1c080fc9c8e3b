"""What a run folder guarantees (docs/training.md): one writer at a time, no non-finite number saved, a resume that
refuses rather than loses data, the folder a resume writes to, and a clear line for every bad input.

Each test reproduces a case that lost or corrupted data, or ended in a traceback, before these guarantees.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import load_file

from llm_agents.cli import main
from llm_agents.training import TrainConfig, train
from llm_agents.training.checkpoints import complete_checkpoints
from llm_agents.training.run_folder import RunFolder, RunFolderLocked
from llm_agents.training.runner import TrainingDiverged

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def tiny_run(make_config):
    return make_config


def write_yaml(path: Path, config: TrainConfig) -> Path:
    from llm_agents.training.config_io import config_to_dict

    path.write_text(yaml.safe_dump(config_to_dict(config), sort_keys=False))
    return path


def every_adapter_is_finite(root: Path) -> bool:
    return all(torch.isfinite(t).all() for f in root.rglob("*.safetensors") for t in load_file(f).values())


# ------------------------------------------------------------------ 1. one writer at a time


def test_a_second_run_on_a_locked_folder_is_refused_naming_the_holder(tiny_run):
    config = tiny_run()
    holder = RunFolder(config.output_dir)
    with holder.lock():
        with pytest.raises(RunFolderLocked, match=r"is in use by process \d+ on "):
            train(config)
        with pytest.raises(RunFolderLocked):
            train(config.replace(resume=True))
    assert not (config.output_dir / "rounds.jsonl").exists()  # the refused run wrote nothing
    train(config)  # released with its holder


def test_the_lock_dies_with_its_process(tiny_run):
    config = tiny_run()
    code = (
        "import os\nfrom llm_agents.training.run_folder import RunFolder\n"
        f"with RunFolder({str(config.output_dir)!r}).lock():\n    os._exit(9)"
    )
    subprocess.run([sys.executable, "-c", code], check=False)  # killed while holding it, no cleanup ran
    with RunFolder(config.output_dir).lock():
        pass


def test_two_concurrent_cli_starts_leave_one_run_and_one_refusal(tiny_run, tmp_path):
    config_file = write_yaml(tmp_path / "tiny.yaml", tiny_run("shared", episodes=2))
    command = [sys.executable, "-m", "llm_agents", "train", "--config", str(config_file)]
    first, second = (subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in "ab")
    results = [(p.wait(timeout=300), p.stderr.read()) for p in (first, second)]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    refusal = next(err for code, err in results if code == 2)
    assert "is in use by process" in refusal or "already holds a run" in refusal
    lines = (tmp_path / "shared" / "rounds.jsonl").read_text().splitlines()
    assert len(lines) == 2 * 2 * 2  # one run's rounds, not two interleaved


# ------------------------------------------------------------------ 2. a non-finite loss stops the run


def test_a_diverging_run_stops_and_saves_nothing_non_finite(tiny_run, tmp_path, capsys, monkeypatch):
    """The config refuses learning rates above 1, so the divergence comes from an optimiser with a huge step (as a
    bad optimiser, bfloat16 overflow or a broken reward could cause)."""
    from llm_agents.ppo import PPOConfig

    real_sgd = torch.optim.SGD
    monkeypatch.setattr(torch.optim, "Adam", lambda parameters, lr: real_sgd(parameters, lr=1e30))
    config = tiny_run(episodes=6, ppo=PPOConfig(learning_rate=1.0, ppo_epochs=4))
    config_file = write_yaml(tmp_path / "diverge.yaml", config)
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--config", str(config_file)])
    assert exit_info.value.code == 1
    message = capsys.readouterr().err
    assert "stopped at episode" in message and "not finite" in message and "learning rate" in message
    assert every_adapter_is_finite(config.output_dir)
    assert not (config.output_dir / "adapters").exists()  # no final adapter for a failed run


def test_the_trainer_raises_before_a_non_finite_update(make_lora_model):
    from llm_agents.ppo import NonFiniteError, PPOConfig, PPOTrainer

    trainer = PPOTrainer(
        make_lora_model(init_lora_weights=False),
        PPOConfig(ppo_epochs=8),
        optimizer=lambda parameters: torch.optim.SGD(parameters, lr=1e30),  # a user's optimiser that diverges
    )
    queries = [torch.tensor([5, 6, 7, 8]), torch.tensor([5, 6, 9])]
    responses = [torch.tensor([10, 11]), torch.tensor([12])]
    with pytest.raises(NonFiniteError):
        for _ in range(5):
            trainer.step(queries, responses, [1.0, -1.0])
    assert TrainingDiverged.__mro__[1] is FloatingPointError


# ------------------------------------------------------------------ 3. and 4. what a resume needs


@pytest.mark.parametrize("damage", ["COMPLETE", "state", "checkpoints"])
def test_resume_without_a_usable_checkpoint_refuses_and_overwrite_starts_over(tiny_run, damage):
    config = tiny_run(episodes=2, checkpoint_every=1)
    train(config)
    folder = RunFolder(config.output_dir)
    for checkpoint in complete_checkpoints(folder):
        target = {"COMPLETE": checkpoint / "COMPLETE", "state": checkpoint / "state" / "state.pt"}.get(damage)
        if target is not None:
            target.unlink(missing_ok=True)
    if damage == "checkpoints":
        shutil.rmtree(folder.checkpoints)
    lines = folder.rounds.read_text()
    with pytest.raises(ValueError, match=r"Cannot resume .* 8 round lines .*--overwrite"):
        train(config.replace(resume=True))
    assert folder.rounds.read_text() == lines  # nothing truncated
    train(config.replace(overwrite=True))
    assert len(folder.rounds.read_text().splitlines()) == 8


def test_a_damaged_newest_checkpoint_falls_back_to_the_one_before(tiny_run, capsys):
    config = tiny_run(episodes=3, checkpoint_every=1)
    reference = train(config.replace(output_dir=config.output_dir.with_name("reference")))
    train(config.replace(episodes=2))
    folder = RunFolder(config.output_dir)
    newest = complete_checkpoints(folder)[-1]
    (newest / "state" / "trainer_player_0.pt").write_bytes(b"garbage")
    resumed = train(config.replace(resume=True))
    assert "is damaged" in capsys.readouterr().err
    assert folder.rounds.read_text() == (reference.output_dir / "rounds.jsonl").read_text()
    for checkpoint in complete_checkpoints(folder)[:-2]:
        assert not (checkpoint / "state").exists()  # only the last two keep their training state
    assert resumed.episodes_done == 3


def test_logs_shorter_than_the_checkpoint_are_refused_with_the_counts(tiny_run):
    config = tiny_run(episodes=2)
    train(config)
    folder = RunFolder(config.output_dir)
    lines = folder.rounds.read_text().splitlines(keepends=True)
    folder.rounds.write_text("".join(lines[:3]))
    with pytest.raises(ValueError, match=r"rounds.jsonl holds 3 lines .* recorded 8 lines"):
        train(config.replace(resume=True, episodes=3))


def test_a_torn_last_line_past_the_checkpoint_is_cut(tiny_run):
    config = tiny_run(episodes=2)
    reference = train(config.replace(output_dir=config.output_dir.with_name("reference"), episodes=3))
    train(config)
    folder = RunFolder(config.output_dir)
    with folder.rounds.open("a") as handle:
        handle.write('{"section": "train", "episo')  # a kill in the middle of a write
    train(config.replace(resume=True, episodes=3))
    assert folder.rounds.read_text() == (reference.output_dir / "rounds.jsonl").read_text()


# ------------------------------------------------------------------ 5. a copied run folder resumes where it is


def test_a_copied_run_folder_resumes_into_the_copy(tiny_run, tmp_path, capsys):
    config = tiny_run("original", episodes=1)
    train(config)
    copy = tmp_path / "copy"
    shutil.copytree(config.output_dir, copy)
    before = (config.output_dir / "rounds.jsonl").read_text()
    assert main(["train", "--config", str(copy / "config.yaml"), "--resume", "--episodes", "2"]) == 0
    assert (config.output_dir / "rounds.jsonl").read_text() == before
    assert len((copy / "rounds.jsonl").read_text().splitlines()) == 2 * 2 * 2


# ------------------------------------------------------------------ section 2: one clear line each


@pytest.mark.parametrize(
    ("content", "extra", "message"),
    [
        ("reward: [game\n", [], r"is not valid YAML"),
        ("reward: game\nreward: utilitarian\n", [], r"'reward' is given twice"),
        (b"reward: g\xe9me\n", [], r"is not UTF-8 text"),
        ("reward: game\n", ["--set", "ppo.learning_rate=[1"], r"--set ppo.learning_rate is not valid YAML"),
        ("reward: game\n", ["--set", "model.lora.alpha=.inf"], r"alpha must be a finite number"),
        ("reward: game\n", ["--set", "generation.temperature=1e-300"], r"temperature must be from 0.01 to 100"),
        ("reward: game\n", ["--set", "illegal_reward=.nan"], r"illegal_reward must be a finite number"),
    ],
)
def test_bad_config_input_is_one_line_naming_the_file_or_setting(tmp_path, capsys, content, extra, message):
    path = tmp_path / "bad.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--config", str(path), "--output-dir", str(tmp_path / "out"), *extra])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert __import__("re").search(message, err), err


def test_4bit_without_cuda_is_one_line(tiny_run, tmp_path, capsys):
    if torch.cuda.is_available():
        pytest.skip("checks the CPU refusal")
    config_file = write_yaml(tmp_path / "q.yaml", tiny_run())
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--config", str(config_file), "--set", "model.quantization=4bit"])
    assert exit_info.value.code == 2 and "needs CUDA" in capsys.readouterr().err


def test_report_skips_a_damaged_folder_and_strict_stops(tiny_run, tmp_path, capsys):
    good = train(tiny_run("good", episodes=1)).output_dir
    bad = train(tiny_run("bad", episodes=1)).output_dir
    (bad / "config.yaml").write_text("reward: [broken\n")
    assert main(["report", str(tmp_path), "--out", str(tmp_path / "report")]) == 0
    err = capsys.readouterr().err
    assert f"skipping {bad}" in err and "not valid YAML" in err
    assert "? (vs ?)" not in (tmp_path / "report" / "report.md").read_text()
    with pytest.raises(SystemExit) as exit_info:
        main(["report", str(good), str(bad), "--out", str(tmp_path / "strict"), "--strict"])
    assert exit_info.value.code == 2
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(SystemExit):
        main(["report", str(good), "--out", str(tmp_path / "a_file")])
    assert "is a file" in capsys.readouterr().err


def test_evaluate_refuses_a_non_finite_illegal_reward(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["evaluate", "--policy", "always_defect", "--illegal-reward", "nan", "--out", str(tmp_path)])
    assert exit_info.value.code == 2 and "illegal_reward must be a finite number" in capsys.readouterr().err


def test_evaluating_an_unfinished_run_says_which_adapter_it_uses(tiny_run, capsys):
    config = tiny_run(episodes=2)
    train(config)
    shutil.rmtree(config.output_dir / "adapters")  # as if the run had not finished
    from llm_agents.evaluation.llm_policy import load_llm_policy

    policy = load_llm_policy(adapter=config.output_dir, device="cpu", dtype="float32")
    assert "episode_00002" in policy.describe()["adapter"]
    assert "has no final adapter yet" in capsys.readouterr().err


def test_stale_model_staging_folders_are_removed(tmp_path):
    from llm_agents.agent.models import remove_stale_staging

    dead = tmp_path / ".staging-999999999-abc"
    alive = tmp_path / f".staging-{__import__('os').getpid()}-def"
    dead.mkdir()
    alive.mkdir()
    assert remove_stale_staging(tmp_path) == [dead]
    assert alive.exists() and not dead.exists()


def test_summary_and_logs_of_a_run_are_read_back_as_written(tiny_run):
    result = train(tiny_run(episodes=1))
    summary = json.loads((result.output_dir / "summary.json").read_text())
    assert summary["player_0"]["first"]["rounds"] == 4


# ------------------------------------------------------------------ 5. nothing outside the run is ever removed


@pytest.mark.parametrize("given", ["", " ", ".", "CWD", "HOME", "/"])
def test_an_output_folder_that_is_not_a_folder_of_its_own_is_refused(tiny_run, tmp_path, monkeypatch, given):
    monkeypatch.chdir(tmp_path)
    value = {"CWD": str(tmp_path), "HOME": str(Path.home())}.get(given, given)
    with pytest.raises(
        ValueError, match=r"output_dir .*(empty|current folder|home folder|filesystem root).*runs/my_run"
    ):
        tiny_run(output_dir=value)


def test_overwrite_with_an_empty_output_dir_on_the_command_line_keeps_all(tiny_run, tmp_path, monkeypatch, capsys):
    """The reported loss: ``--output-dir "" --overwrite`` in a folder of other files exited 0 and removed them."""
    config = write_yaml(tmp_path / "c.yaml", tiny_run())
    (tmp_path / "wandb").mkdir()
    (tmp_path / "wandb" / "run.log").write_text("kept")
    (tmp_path / "adapters").mkdir()
    (tmp_path / "adapters" / "README").write_text("kept")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stop:
        main(["train", "--config", str(config), "--output-dir", "", "--overwrite"])
    assert stop.value.code == 2
    assert "output_dir is empty" in capsys.readouterr().err
    assert (tmp_path / "wandb" / "run.log").read_text() == "kept"
    assert (tmp_path / "adapters" / "README").read_text() == "kept"


def test_overwrite_refuses_a_run_folder_holding_foreign_files_and_keeps_everything(tiny_run):
    config = tiny_run(episodes=1)
    train(config)
    folder = RunFolder(config.output_dir)
    planted = [folder.root / "notes.txt", folder.root / "adapters" / "README", folder.root / "wandb" / "x.log"]
    for path in planted:
        path.parent.mkdir(exist_ok=True)
        path.write_text("not the run's")
    before = folder.rounds.read_bytes()
    with pytest.raises(ValueError, match=r"Cannot overwrite .*adapters/README, notes.txt, wandb.*no run wrote"):
        train(config.replace(overwrite=True))
    assert all(path.read_text() == "not the run's" for path in planted)
    assert folder.rounds.read_bytes() == before  # the run itself is untouched too
    for path in planted:
        path.unlink()
    (folder.root / "wandb").rmdir()
    train(config.replace(overwrite=True))  # only the run's own entries now: it starts over
    run_entries = [
        "config.yaml",
        "rounds.jsonl",
        "ppo.jsonl",
        "analysis.jsonl",
        "checkpoints",
        "adapters",
        "summary.json",
    ]
    assert sorted(p.name for p in folder.root.iterdir()) == sorted(
        [".lock", "manifest.json", "action_types.png", *run_entries]
    )


def test_a_fresh_run_refuses_a_folder_whose_entries_a_run_would_write(tiny_run):
    config = tiny_run(episodes=1)
    config.output_dir.mkdir()
    (config.output_dir / "adapters").mkdir()
    (config.output_dir / "adapters" / "mine.safetensors").write_text("kept")
    (config.output_dir / "notes.txt").write_text("kept")
    with pytest.raises(ValueError, match=r"already holds adapters, which a run writes"):
        train(config)
    assert (config.output_dir / "adapters" / "mine.safetensors").read_text() == "kept"
    (config.output_dir / "adapters" / "mine.safetensors").unlink()
    (config.output_dir / "adapters").rmdir()
    train(config)  # beside a foreign file that is not in its way, a run starts
    assert (config.output_dir / "notes.txt").read_text() == "kept"


def test_overwrite_of_a_run_written_without_a_manifest_removes_only_its_files(tiny_run):
    config = tiny_run(episodes=1)
    train(config)
    folder = RunFolder(config.output_dir)
    folder.manifest.unlink()  # as a run of version 0.2 left it
    train(config.replace(overwrite=True))
    assert folder.manifest.is_file()


@pytest.mark.parametrize("where", ["file", "under_file", "long_name"])
def test_every_folder_we_write_into_is_checked_by_one_rule(tmp_path, where):
    """A run's output_dir, an evaluation's and a report's --out: the same refusal, before anything is written."""
    from llm_agents.evaluation.folder import check_out_folder
    from llm_agents.reporting.report import ReportConfig
    from llm_agents.runs.folder import check_creatable_folder

    (tmp_path / "a_file").write_text("kept")
    path = {
        "file": tmp_path / "a_file",
        "under_file": tmp_path / "a_file" / "out",
        "long_name": tmp_path / ("x" * 300),
    }[where]
    expected = {"file": "is a file, not a folder", "under_file": "which is a file", "long_name": "300 bytes"}[where]
    for check in (
        lambda: TrainConfig(output_dir=path),
        lambda: check_out_folder(path),
        lambda: ReportConfig((tmp_path,), path),
        lambda: check_creatable_folder(path, "--out"),
    ):
        with pytest.raises(ValueError, match=expected):
            check()
    assert (tmp_path / "a_file").read_text() == "kept"
    assert check_creatable_folder(tmp_path / "new" / "folder") == tmp_path / "new" / "folder"
