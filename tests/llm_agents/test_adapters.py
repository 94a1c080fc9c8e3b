"""LoRA through peft on the tiny llama: save/load in peft's format, several adapters, the reference policy."""

from __future__ import annotations

import pytest
import torch
from peft import PeftModel

from llm_agents.agent.adapters import (
    add_adapter,
    attach_lora,
    load_adapter,
    reference_policy,
    save_adapter,
    use_adapter,
)
from llm_agents.agent.config import LoRAConfig

SMALL = LoRAConfig(r=4, alpha=8, dropout=0.0)
BATCH = {"input_ids": torch.tensor([[4, 10, 12, 2, 5]]), "attention_mask": torch.ones(1, 5, dtype=torch.long)}


def logits(model) -> torch.Tensor:
    with torch.no_grad():
        return model(**BATCH).logits


def randomize(model: PeftModel, adapter_name: str, seed: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "lora_B" in name and f".{adapter_name}." in name:
                parameter.normal_(0, 0.5, generator=generator)


def test_a_new_adapter_starts_equal_to_the_base_model(make_tiny_llama):
    base_logits = logits(make_tiny_llama())
    model = attach_lora(make_tiny_llama(), SMALL)
    torch.testing.assert_close(logits(model), base_logits)
    trainable = [name for name, p in model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in name for name in trainable)
    assert not model.training


def test_paper_lora_targets_every_linear_layer_but_the_head(make_tiny_llama):
    model = attach_lora(make_tiny_llama())
    config = model.peft_config["default"]
    assert (config.r, config.lora_alpha, config.lora_dropout) == (64, 32, 0.05)
    assert {name.rsplit(".", 1)[-1] for name in config.target_modules} == {
        "q_proj",
        "k_proj",
        "v_proj",
        "o_proj",
        "gate_proj",
        "up_proj",
        "down_proj",
    }
    assert not any("lm_head" in name for name in config.target_modules)


@pytest.mark.parametrize("adapter_name", ["default", "opponent"])
def test_save_then_peft_from_pretrained_reproduces_the_logits(make_tiny_llama, tmp_path, adapter_name):
    model = attach_lora(make_tiny_llama(), SMALL, adapter_name=adapter_name)
    randomize(model, adapter_name, seed=1)
    expected = logits(model)
    save_adapter(model, tmp_path)
    assert {"adapter_config.json", "adapter_model.safetensors"} <= {p.name for p in tmp_path.iterdir()}
    reloaded = PeftModel.from_pretrained(make_tiny_llama(), tmp_path)  # peft's own reader, no help from us
    torch.testing.assert_close(logits(reloaded), expected)
    ours = load_adapter(make_tiny_llama(), tmp_path, adapter_name="mine")
    torch.testing.assert_close(logits(ours), expected)
    assert any(p.requires_grad for p in ours.parameters())  # trainable by default (peft's default is not)


def test_two_adapters_share_one_base_and_the_reference_is_the_base(make_tiny_llama, tmp_path):
    base_logits = logits(make_tiny_llama())
    model = attach_lora(make_tiny_llama(), SMALL, adapter_name="player_0")
    add_adapter(model, "player_1", SMALL)
    randomize(model, "player_0", seed=1)
    randomize(model, "player_1", seed=2)
    assert model.active_adapter == "player_0"
    first = logits(model)
    use_adapter(model, "player_1")
    second = logits(model)
    assert not torch.allclose(first, second)
    with reference_policy(model) as reference:
        torch.testing.assert_close(logits(reference), base_logits)
    torch.testing.assert_close(logits(model), second)  # adapters back on after the block
    base_parameters = {id(p) for n, p in model.named_parameters() if "lora_" not in n}
    assert len(base_parameters) == sum(1 for n, _ in make_tiny_llama().named_parameters())  # one copy of the base

    save_adapter(model, tmp_path / "p0", "player_0")
    other = attach_lora(make_tiny_llama(), SMALL, adapter_name="fresh")
    load_adapter(other, tmp_path / "p0", adapter_name="player_0")
    assert other.active_adapter == "player_0"
    torch.testing.assert_close(logits(other), first)


def test_reference_policy_of_a_plain_model_is_the_model(tiny_llama):
    with reference_policy(tiny_llama) as reference:
        assert reference is tiny_llama


def test_clear_errors(make_tiny_llama, tmp_path):
    model = attach_lora(make_tiny_llama(), SMALL)
    with pytest.raises(ValueError, match="No adapter 'ghost'"):
        use_adapter(model, "ghost")
    with pytest.raises(ValueError, match="exists already"):
        add_adapter(model, "default", SMALL)
    with pytest.raises(TypeError, match="already has LoRA"):
        attach_lora(model, SMALL)
    with pytest.raises(FileNotFoundError, match=r"adapter_config\.json"):
        load_adapter(make_tiny_llama(), tmp_path)
    with pytest.raises(TypeError, match="PeftModel"):
        save_adapter(make_tiny_llama(), tmp_path)
