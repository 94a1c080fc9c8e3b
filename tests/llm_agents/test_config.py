"""The configuration dataclasses: paper defaults and clear errors on bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from llm_agents.agent.config import (
    CACHE_ENV_VAR,
    EMBEDDED_MODEL,
    UTILITARIAN_PREFACE,
    GenerationConfig,
    LoRAConfig,
    ModelConfig,
    PromptConfig,
    default_cache_dir,
)


def test_paper_defaults():
    lora = LoRAConfig()
    assert (lora.r, lora.alpha, lora.dropout, lora.target_modules) == (64, 32, 0.05, "all-linear")
    generation = GenerationConfig()
    assert (generation.max_new_tokens, generation.temperature, generation.top_k, generation.top_p) == (
        None,
        1.0,
        0,
        1.0,
    )
    model = ModelConfig()
    assert model.name == EMBEDDED_MODEL and model.is_embedded
    assert (model.dtype, model.device, model.quantization, model.allow_cpu_4bit) == ("auto", "auto", "none", False)


def test_lora_to_peft_carries_every_field():
    peft_config = LoRAConfig(r=8, alpha=16, dropout=0.1, target_modules=("q_proj", "v_proj")).to_peft()
    assert (peft_config.r, peft_config.lora_alpha, peft_config.lora_dropout) == (8, 16, 0.1)
    assert set(peft_config.target_modules) == {"q_proj", "v_proj"}
    assert peft_config.task_type == "CAUSAL_LM"


def test_cache_dir_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path))
    assert default_cache_dir() == tmp_path
    assert ModelConfig().cache_dir == tmp_path
    monkeypatch.delenv(CACHE_ENV_VAR)
    assert default_cache_dir() == Path("~/.cache/moral-matrix-games").expanduser()


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (lambda: ModelConfig(dtype="float64"), "dtype"),
        (lambda: ModelConfig(quantization="8bit"), "quantization"),
        (lambda: ModelConfig(device="gpu"), "device"),
        (lambda: ModelConfig(name=""), "name"),
        (lambda: ModelConfig(lora={"r": 8}), "LoRAConfig"),
        (lambda: LoRAConfig(r=0), "r"),
        (lambda: LoRAConfig(dropout=1.0), "dropout"),
        (lambda: LoRAConfig(target_modules=()), "target_modules"),
        (lambda: GenerationConfig(max_new_tokens=0), "max_new_tokens"),
        (lambda: GenerationConfig(temperature=0.0), "temperature"),
        (lambda: GenerationConfig(top_k=-1), "top_k"),
        (lambda: GenerationConfig(top_p=0.0), "top_p"),
        (lambda: PromptConfig(preface=3), "preface"),
    ],
)
def test_bad_values_raise_clear_errors(factory, message):
    with pytest.raises(ValueError, match=message):
        factory()


def test_named_preface_resolves_to_the_paper_text():
    assert PromptConfig(preface="utilitarian").preface_text == UTILITARIAN_PREFACE
    assert PromptConfig(preface="Be kind. ").preface_text == "Be kind. "
    assert PromptConfig().preface_text == ""


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"game_parameters": {"num_players": 4}}, "belong to the public goods game, not to 'IPD-v0'"),
        ({"game": "PublicGoods-v0", "game_parameters": {"players": 4}}, r"Unknown game_parameters \['players'\]"),
        ({"game": "PublicGoods-v0", "game_parameters": {"num_players": 1}}, "num_players"),
        ({"game": "PublicGoods-v0", "game_parameters": {"endowment": -1}}, "endowment"),
        ({"reward": "0.5*game+utilitarain"}, "Did you mean 'utilitarian'"),
        ({"reward_parameters": {"kindnes": 1}}, "kindnes"),
    ],
)
def test_bad_games_and_rewards_are_named(changes, message):
    from llm_agents.training import TrainConfig

    with pytest.raises(ValueError, match=message):
        TrainConfig(**changes)


def test_public_goods_learners():
    from llm_agents.training import TrainConfig

    config = TrainConfig(game="PublicGoods-v0", game_parameters={"num_players": 5}, opponent="llm")
    assert config.learners == tuple(f"player_{i}" for i in range(5)) and config.num_rounds == 3
    assert TrainConfig(game="PublicGoods-v0").learners == ("player_0",)
    assert TrainConfig(game="PublicGoods-v0").stage_game.num_players == 4


def test_settings_that_moved_are_read_where_they_were_with_a_deprecation_message():
    from llm_agents.training import config_from_dict

    old = {"deontological_penalty": 4.0, "ppo": {"batching": "padded"}, "grpo": {"epochs": 2, "seed": 3}}
    with pytest.warns(FutureWarning, match="deontological_penalty is deprecated: now reward_parameters"):
        config = config_from_dict(old)
    assert config.rewards_parameters.deontological_penalty == 4.0
    assert config.batching == "padded" and config.grpo.num_iterations == 2
    assert config.reward_parameters == {"deontological_penalty": 4.0}
    new = {"reward_parameters": {"deontological_penalty": 2.0}, "deontological_penalty": 4.0}
    with pytest.warns(FutureWarning):
        assert config_from_dict(new).rewards_parameters.deontological_penalty == 2.0  # the new place wins
