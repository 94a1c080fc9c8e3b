"""Faults from outside the program, each a clear one-line error with the fix and a folder that stays usable:

1. a resume checks every log up to its checkpoint before anything loads or trains, and a finished run's resume
   changes nothing;
2. a full disk, a read-only folder, a path too long: a ``WriteFailed`` (a ValueError) naming the path and the fix,
   with the last complete checkpoint intact, so ``--resume`` goes on to the run an uninterrupted one would be;
3. a damaged adapter folder, and ``--out`` naming a file: a ValueError naming the file, never a traceback, and a
   missing weights file never sends peft to the hub;
4. an adapter loaded onto another base model (fewer layers, or the same shapes with other weights) is refused,
   naming both, or loaded with a warning under ``force``.

Writes fail through monkeypatched writers (the tests run as root, where chmod does not bite).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM

from llm_agents.agent.adapters import BASE_FILE, attach_lora, load_adapter, save_adapter
from llm_agents.agent.config import LoRAConfig
from llm_agents.runs.folder import JsonlLog, WriteFailed, write_failure, writing
from llm_agents.tiny_models import build_tiny_llama
from llm_agents.training import runner as runner_module
from llm_agents.training import train

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (the lock file too), by relative path, with its bytes."""
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def no_model_load(monkeypatch) -> None:
    """Make loading the model fail the test: what a resume refuses, it must refuse before that."""

    def refuse(*args, **kwargs):
        raise AssertionError("the model was loaded before the resume was checked")

    monkeypatch.setattr(runner_module, "load_model", refuse)


# ------------------------------------------------------------------ 1. what a resume checks first


def test_a_damaged_log_line_before_the_checkpoint_is_refused_before_the_model_loads(make_config, monkeypatch):
    config = make_config(episodes=2)
    train(config)
    rounds = config.output_dir / "rounds.jsonl"
    lines = rounds.read_bytes().splitlines(keepends=True)
    lines[2] = b"#" * (len(lines[2]) - 1) + b"\n"  # same length: the byte counts still match
    rounds.write_bytes(b"".join(lines))
    before = snapshot(config.output_dir)
    no_model_load(monkeypatch)
    with pytest.raises(ValueError, match=r"line 3 of .*rounds\.jsonl is not a JSON record.*--overwrite"):
        train(config.replace(resume=True, episodes=3))
    assert snapshot(config.output_dir) == before


def test_an_inserted_log_line_is_refused_instead_of_cutting_a_line_in_two(make_config, monkeypatch):
    config = make_config(episodes=2)
    train(config)
    stats = config.output_dir / "ppo.jsonl"
    first, *rest = stats.read_bytes().splitlines(keepends=True)
    stats.write_bytes(b"".join([first, b'{"episode": 0, "note": "pasted"}\n', *rest]))
    before = snapshot(config.output_dir)
    no_model_load(monkeypatch)
    with pytest.raises(ValueError, match=r"line 3 of .*ppo\.jsonl runs past the end checkpoint episode_00002"):
        train(config.replace(resume=True, episodes=3))
    assert snapshot(config.output_dir) == before  # nothing cut


def test_log_lines_out_of_episode_order_are_refused(make_config, monkeypatch):
    config = make_config(episodes=3)
    train(config)
    rounds = config.output_dir / "rounds.jsonl"
    records = [json.loads(line) for line in rounds.read_text().splitlines()]
    records[4]["episode"], records[8]["episode"] = 2, 1  # same lengths, valid JSON, wrong order
    rounds.write_text("".join(json.dumps(record) + "\n" for record in records))
    no_model_load(monkeypatch)
    with pytest.raises(ValueError, match=r"line 5 of .*rounds\.jsonl is of episode 2, where episode 0 or 1 was due"):
        train(config.replace(resume=True, episodes=4))


def test_resuming_a_finished_run_says_so_and_changes_nothing(make_config, capsys):
    config = make_config(episodes=2)
    first = train(config)
    before = snapshot(config.output_dir)
    again = train(config.replace(resume=True))
    assert "is finished (2 of 2 episodes); nothing was changed" in capsys.readouterr().err
    assert snapshot(config.output_dir) == before  # summary.json's wall time included, and the lock file
    assert again.already_finished and not first.already_finished
    assert again.wall_time_s == first.wall_time_s and again.summary == json.loads(json.dumps(first.summary))


def test_a_run_killed_while_finishing_finishes_on_resume(make_config, monkeypatch):
    config = make_config(episodes=1)
    train(config)
    # Extended to 2 episodes, and killed after its last checkpoint, before its end-of-run files.
    real_finish = runner_module._finish

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner_module, "_finish", killed)
    with pytest.raises(KeyboardInterrupt):
        train(config.replace(resume=True, episodes=2))
    monkeypatch.setattr(runner_module, "_finish", real_finish)
    summary = config.output_dir / "summary.json"
    assert not summary.exists()  # the 1-episode summary is gone: the run is not finished
    rounds = (config.output_dir / "rounds.jsonl").read_text()
    result = train(config.replace(resume=True, episodes=2))
    assert not result.already_finished and summary.is_file()
    assert (config.output_dir / "rounds.jsonl").read_text() == rounds  # nothing played again


# ------------------------------------------------------------------ 2. full disks and read-only folders


def test_a_full_disk_during_a_checkpoint_is_one_line_and_the_run_resumes_exactly(make_config, monkeypatch):
    reference = train(make_config("reference", episodes=3))
    config = make_config(episodes=3)
    real_save = torch.save

    def full_disk(obj, path, *args, **kwargs):
        if "episode_00002" in str(path):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_save(obj, path, *args, **kwargs)

    monkeypatch.setattr(torch, "save", full_disk)
    with pytest.raises(WriteFailed) as failure:
        train(config)
    message = str(failure.value)
    assert message.startswith(f"no space left on {config.output_dir / 'checkpoints' / 'episode_00002.partial'}")
    assert "free space, then resume with --resume" in message
    assert f"the last complete checkpoint, {config.output_dir / 'checkpoints' / 'episode_00001'}, is intact" in message
    monkeypatch.setattr(torch, "save", real_save)
    resumed = train(config.replace(resume=True))
    assert (config.output_dir / "rounds.jsonl").read_text() == (reference.output_dir / "rounds.jsonl").read_text()
    expected = load_file(reference.adapters["player_0"] / "adapter_model.safetensors")
    got = load_file(resumed.adapters["player_0"] / "adapter_model.safetensors")
    assert all(torch.equal(expected[key], got[key]) for key in expected)


@pytest.mark.parametrize(
    ("torch_says", "flag", "free_blocks", "expected"),
    [
        ("[enforce fail at inline_container.cc:626] . unexpected pos 64 vs 0", 0, 0, "no space left on {file}"),
        ("basic_ios::clear: iostream error", os.ST_RDONLY, 10**6, "{file} is read-only"),
    ],
)
def test_torch_s_words_for_a_failed_write_become_what_the_filesystem_says(
    make_config, monkeypatch, torch_says, flag, free_blocks, expected
):
    config = make_config(episodes=1)
    real_statvfs = os.statvfs

    def failing(obj, path, *args, **kwargs):
        raise RuntimeError(torch_says)

    def statvfs(path):
        real = real_statvfs(path)
        return os.statvfs_result((*real[:4], free_blocks, *real[5:8], real.f_flag | flag, real[9]))

    monkeypatch.setattr(torch, "save", failing)
    monkeypatch.setattr(os, "statvfs", statvfs)
    with pytest.raises(WriteFailed) as failure:
        train(config)
    file = config.output_dir / "checkpoints" / "episode_00001.partial" / "state" / "trainer_player_0.pt"
    assert str(failure.value).startswith(expected.format(file=file))
    assert str(failure.value).endswith(
        "then start the run again with --overwrite (it stopped before its first checkpoint)"
    )


def test_a_read_only_log_stops_the_run_with_the_fix(make_config, monkeypatch):
    config = make_config(episodes=3)
    real_write = JsonlLog.write

    def read_only(self, record):
        if getattr(record, "episode", 0) == 2:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self.path))
        return real_write(self, record)

    monkeypatch.setattr(JsonlLog, "write", read_only)
    with pytest.raises(WriteFailed, match=r"rounds\.jsonl is read-only: .*then resume with --resume.*episode_00002"):
        train(config)
    monkeypatch.setattr(JsonlLog, "write", real_write)
    assert train(config.replace(resume=True)).episodes_done == 3


def test_a_full_disk_while_saving_the_final_adapter_is_one_line(make_config, monkeypatch):
    from peft import PeftModel
    from safetensors import SafetensorError

    config = make_config(episodes=1)
    real_save = PeftModel.save_pretrained

    def full_disk(self, directory, *args, **kwargs):
        if "checkpoints" not in str(directory):
            raise SafetensorError(
                f'Error while serializing: I/O error: No space left on device (os error 28) at "{directory}"'
            )
        return real_save(self, directory, *args, **kwargs)

    monkeypatch.setattr(PeftModel, "save_pretrained", full_disk)
    with pytest.raises(WriteFailed, match=r"no space left on .*adapters.player_0.*episode_00001, is intact"):
        train(config)
    monkeypatch.setattr(PeftModel, "save_pretrained", real_save)
    result = train(config.replace(resume=True))
    assert not result.already_finished and (result.adapters["player_0"] / "adapter_model.safetensors").is_file()


def test_an_output_dir_taken_by_a_file_after_the_config_was_checked_is_one_line(make_config):
    config = make_config()
    config.output_dir.write_text("made by something else meanwhile")
    with pytest.raises(WriteFailed, match=r"run exists already and is in the way: move it away.*start the run again"):
        train(config)


def test_only_failed_writes_are_rewritten():
    with pytest.raises(RuntimeError, match=r"^a bug$"), writing(Path("x")):
        raise RuntimeError("a bug")
    with pytest.raises(FileNotFoundError), writing(Path("x")):
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", "x")
    assert write_failure(KeyError("x"), Path("x")) is None
    failure = write_failure(RuntimeError("open file failed with strerror: Permission denied"), Path("/some/file"))
    assert str(failure) == "no permission to write /some/file: make it writable for this user"


# ------------------------------------------------------------------ 3. damaged adapters, --out a file


@pytest.fixture
def saved_adapter(tiny_llama_dir, tmp_path) -> Path:
    """An adapter with random B (so it changes the model) trained on the tiny llama of ``tiny_llama_dir``."""
    model = attach_lora(AutoModelForCausalLM.from_pretrained(tiny_llama_dir), LoRAConfig(r=2, alpha=4, dropout=0.0))
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "lora_B" in name:
                parameter.normal_(0, 0.5, generator=torch.Generator().manual_seed(1))
    return save_adapter(model, tmp_path / "adapter")


def base(folder: Path):
    return AutoModelForCausalLM.from_pretrained(folder)


def test_a_truncated_weights_file_is_named_with_the_fix(saved_adapter, tiny_llama_dir):
    weights = saved_adapter / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(ValueError, match=rf"{weights} is damaged .*cut short.*checkpoints/episode_\*/adapters"):
        load_adapter(base(tiny_llama_dir), saved_adapter)


def test_a_missing_weights_file_is_named_and_never_looked_for_on_the_hub(saved_adapter, tiny_llama_dir, monkeypatch):
    import peft.utils.save_and_load as peft_loading

    def hub(*args, **kwargs):
        raise AssertionError("peft went to the hub")

    monkeypatch.setattr(peft_loading, "hf_hub_download", hub)
    (saved_adapter / "adapter_model.safetensors").unlink()
    with pytest.raises(ValueError, match=r"holds adapter_config\.json but no weights \(adapter_model\.safetensors\)"):
        load_adapter(base(tiny_llama_dir), saved_adapter)


@pytest.mark.parametrize("content", ['{"peft_type": "LORA", "r": ', "[]", ""])
def test_a_broken_adapter_config_names_the_file(saved_adapter, tiny_llama_dir, content):
    (saved_adapter / "adapter_config.json").write_text(content)
    with pytest.raises(ValueError, match=str(saved_adapter / "adapter_config.json")):
        load_adapter(base(tiny_llama_dir), saved_adapter)


@pytest.mark.parametrize("out", ["a_file", "a_file/results"])
def test_evaluate_out_naming_a_file_is_refused_before_playing(tmp_path, out):
    from llm_agents.evaluation import StrategyPolicy
    from llm_agents.evaluation.evaluate import evaluate
    from llm_agents.evaluation.exact import analyse
    from llm_agents.evaluation.protocol import EvaluationConfig

    (tmp_path / "a_file").write_text("results of something else")
    config = EvaluationConfig(games=("IPD-v0",), other_prompts=(), episodes=1, rounds=2)
    for run in (evaluate, analyse):
        with pytest.raises(ValueError, match=r"--out .*a_file.* a file, not a folder; give a folder"):
            run(StrategyPolicy("always_cooperate"), config, tmp_path / out)
    assert (tmp_path / "a_file").read_text() == "results of something else"


def test_a_full_disk_under_an_evaluation_is_one_line(tmp_path, monkeypatch):
    import importlib

    from llm_agents.evaluation import StrategyPolicy
    from llm_agents.evaluation.protocol import EvaluationConfig

    evaluate_module = importlib.import_module("llm_agents.evaluation.evaluate")  # the package's name is the function

    def full_disk(logs, path, config):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(evaluate_module, "write_rounds_csv", full_disk)
    config = EvaluationConfig(games=("IPD-v0",), other_prompts=(), episodes=1, rounds=2)
    with pytest.raises(WriteFailed, match=r"^no space left on .*rounds\.csv: free space$"):
        evaluate_module.evaluate(StrategyPolicy("always_cooperate"), config, tmp_path / "out", figures=False)


# ------------------------------------------------------------------ 4. an adapter on another base model


@pytest.fixture
def other_bases(tiny_tokenizer, tmp_path) -> dict[str, Path]:
    """Tiny llamas saved as folders: one of 1 layer, one of the same shapes with other weights (seed 1)."""
    folders = {}
    for name, seed, layers in (("one_layer", 0, 1), ("other_weights", 1, 2)):
        model = build_tiny_llama(tiny_tokenizer, seed)
        if layers != model.config.num_hidden_layers:
            model.config.num_hidden_layers = layers
            model = type(model)(model.config)
        model.save_pretrained(tmp_path / name)
        tiny_tokenizer.save_pretrained(tmp_path / name)
        folders[name] = tmp_path / name
    return folders


@pytest.mark.parametrize(
    ("other", "difference"), [("one_layer", "layers 2 against 1"), ("other_weights", "the same shapes, but other")]
)
def test_an_adapter_on_another_base_model_is_refused_naming_both(
    saved_adapter, tiny_llama_dir, other_bases, other, difference
):
    with pytest.raises(ValueError) as refusal:
        load_adapter(base(other_bases[other]), saved_adapter)
    message = str(refusal.value)
    assert f"trained on base model {str(tiny_llama_dir)!r}, not on {str(other_bases[other])!r}" in message
    assert difference in message and f"--model {tiny_llama_dir}" in message and "force=True (--force)" in message
    with pytest.warns(UserWarning, match="Loading it anyway"):
        forced = load_adapter(base(other_bases[other]), saved_adapter, force=True)
    assert forced.active_adapter == "default"


def test_an_adapter_saved_without_its_base_is_checked_weight_by_weight(saved_adapter, tiny_tokenizer, tmp_path):
    (saved_adapter / BASE_FILE).unlink()  # as adapters saved before base_model.json existed
    one_layer = build_tiny_llama(tiny_tokenizer, 0)
    one_layer.config.num_hidden_layers = 1
    unnamed = type(one_layer)(one_layer.config)  # no name to compare: the weights must tell
    with pytest.raises(ValueError, match=r"does not fit .*: 14 LoRA weights of the file have no place in it"):
        load_adapter(unnamed, saved_adapter)


def test_the_same_base_model_in_another_folder_is_accepted(saved_adapter, tiny_llama_dir, tmp_path):
    copy = tmp_path / "copied_model"
    shutil.copytree(tiny_llama_dir, copy)
    loaded = load_adapter(base(copy), saved_adapter, is_trainable=False)
    on_own = load_adapter(base(tiny_llama_dir), saved_adapter, is_trainable=False)
    batch = torch.tensor([[4, 10, 12, 2, 5]])
    with torch.no_grad():
        torch.testing.assert_close(loaded(batch).logits, on_own(batch).logits)


def test_evaluating_a_run_on_another_model_is_refused_unless_forced(make_config, other_bases):
    from llm_agents.evaluation.llm_policy import load_llm_policy

    run = train(make_config(episodes=1)).output_dir
    with pytest.raises(ValueError, match=r"trained on base model .* not on .*other_weights"):
        load_llm_policy(model=str(other_bases["other_weights"]), adapter=run, device="cpu", dtype="float32")
    with pytest.warns(UserWarning, match="Loading it anyway"):
        load_llm_policy(model=str(other_bases["other_weights"]), adapter=run, device="cpu", dtype="float32", force=True)
    assert load_llm_policy(adapter=run, device="cpu", dtype="float32").describe()["run"] == str(run)


# ------------------------------------------------------------------ threads


def test_training_sets_its_threads_first_and_refreshes_them_each_episode(make_config, monkeypatch):
    from llm_agents.training import runner

    asked, refreshed = [], []
    monkeypatch.setattr(runner, "configure_threads", lambda requested=None: asked.append(requested) or 1)
    monkeypatch.setattr(runner, "refresh_threads", lambda: refreshed.append(1))
    config = make_config(episodes=2).replace(threads=1)
    train(config)
    assert asked == [1] and len(refreshed) == 2
