"""The configuration dataclasses: paper defaults and clear errors on bad values."""

from __future__ import annotations

import contextlib
import itertools
import signal
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


# Issue 26: no traceback is reachable from a config file; every value is type- and range-checked at load, and the
# error names the YAML key.


@contextlib.contextmanager
def returns_within(seconds: int):
    """Fail a call that does not return (a hang guard, not a timing measurement)."""

    def stop(signum, frame):
        raise TimeoutError(f"did not return within {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def load_text(tmp_path, text: str):
    from llm_agents.training import load_config

    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def test_output_dir_that_can_never_be_a_folder_is_refused_at_load(tmp_path):
    from llm_agents.training import config_from_dict

    file = tmp_path / "a_file"
    file.write_text("x")
    cases = [
        (file, "is a file, not a folder"),
        (file / "run", "lies under .*a_file.*, which is a file"),
        (tmp_path / ("x" * 300), "has a folder name of 300 bytes"),
        (tmp_path / "/".join(["y" * 200] * 25), "passes this filesystem's limit"),
    ]
    for output_dir, message in cases:
        with pytest.raises(ValueError, match=f"output_dir.*{message}"):
            config_from_dict({"output_dir": str(output_dir)})
    assert config_from_dict({"output_dir": str(tmp_path / "new" / "run")}).output_dir == tmp_path / "new" / "run"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"model": {"lora": {"target_modules": [1, 2]}}}, r"model\.lora\.target_modules must be 'all-linear' or a"),
        ({"model": {"lora": {"target_modules": ""}}}, r"model\.lora\.target_modules"),
        ({"game_parameters": True}, "game_parameters must be a mapping of the public goods game's parameters"),
        ({"game": "PublicGoods-v0", "game_parameters": {"num_players": 10**9}}, r"game_parameters\.num_players"),
        ({"ppo": {"seed": 2**64}}, r"ppo\.seed must be a whole number from 0 to 4294967295"),
        ({"ppo": {"seed": 1.7}}, r"ppo\.seed must be a whole number"),
        ({"seed": 2**64}, "seed must be an integer from 0 to 4294967295"),
        ({"seed": 1.7}, "seed must be an integer"),
        ({"model": {"lora": {"alpha": 1e300}}}, r"model\.lora\.alpha must be a finite number at most 10000"),
        ({"model": {"lora": {"alpha": 10**400}}}, r"model\.lora\.alpha must be a finite number"),
        ({"generation": {"top_p": 1e-300}}, r"generation\.top_p must be from 1e-06 to 1"),
        ({"generation": {"temperature": 1e300}}, r"generation\.temperature must be from 0\.01 to 100"),
        ({"generation": {"max_new_tokens": 10**9}}, r"generation\.max_new_tokens must be a whole number from 1"),
        ({"reward": "1e309*game"}, "The weight 1e309 in reward '1e309\\*game' is too large"),
        ({"reward": "game:500,2e6*utilitarian"}, "The weight 2e6"),
        ({"illegal_reward": 1e308}, "illegal_reward must be a finite number from -1e\\+06 to 1e\\+06"),
        ({"reward_parameters": {"kindness": 1e308}}, r"reward_parameters\.kindness must be a finite number"),
        ({"ppo": {"learning_rate": 1e300}}, r"ppo\.learning_rate must be a finite number > 0 \(at most 1\)"),
        ({"ppo": {"init_kl_coef": 1e300}}, r"ppo\.init_kl_coef must be a finite number >= 0"),
        ({"grpo": {"beta": 1e300}}, r"grpo\.beta must be a finite number from 0 to 1e\+06"),
        ({"episodes": 10**30}, "episodes must be an integer from 1 to 2147483647"),
        ({"reward": "game:99999999999999999999"}, "lasts 99999999999999999999 episodes"),
        ({"labels": ["C", 3]}, "labels must be exactly two strings"),
        ({"labels": {"generator": "letters", "size": []}}, "labels"),
        ({"model": {"cache_dir": "a\0b"}}, r"model\.cache_dir must be a folder path"),
        ({"opponent": ["tit_for_tat"]}, "opponent must be a strategy name"),
    ],
)
def test_bad_values_are_refused_at_load_naming_the_yaml_key(settings, message):
    from llm_agents.training import config_from_dict

    with pytest.raises(ValueError, match=message):
        config_from_dict(settings)


def test_label_errors_name_the_yaml_key_not_the_environments_argument():
    from llm_agents.training import config_from_dict

    with pytest.raises(ValueError) as error:
        config_from_dict({"labels": ["C"]})
    assert "labels" in str(error.value) and "action_labels" not in str(error.value)


def test_the_bounds_themselves_are_accepted():
    from llm_agents.training import config_from_dict

    config = config_from_dict(
        {
            "seed": 2**32 - 1,
            "illegal_reward": -1e6,
            "reward": "1e6*game",
            "model": {"lora": {"alpha": 1e4, "target_modules": ["q_proj", "v_proj"]}},
            "generation": {"temperature": 100, "top_p": 1e-6},
            "ppo": {"seed": 2**32 - 1, "learning_rate": 1.0},
        }
    )
    assert config.model.lora.target_modules == ("q_proj", "v_proj") and config.ppo_for(0).seed == 2**32 - 1


def test_a_removed_grpo_seed_of_any_kind_is_ignored_with_a_warning_and_never_saved(tmp_path):
    from llm_agents.training import config_from_dict, config_to_dict

    for value in ([1], 1.7):
        with pytest.warns(FutureWarning, match="grpo.seed is deprecated: it had no effect and is ignored"):
            config = config_from_dict({"grpo": {"seed": value}})
        assert "seed" not in config_to_dict(config)["grpo"] and config.seed == 0


def test_a_2000_deep_mapping_is_refused_not_a_recursion_error(tmp_path):
    from llm_agents.runs.config_files import apply_overrides
    from llm_agents.training import config_from_dict

    deep: dict = {}
    node = deep
    for _ in range(2000):
        node["a"] = node = {}
    for load in (
        lambda: config_from_dict({"reward_parameters": deep}),
        lambda: config_from_dict(apply_overrides({}, {"model": deep})),
        lambda: load_text(tmp_path, "a:\n" + "".join("  " * i + "a:\n" for i in range(1, 2000))),
        lambda: load_text(tmp_path, "model: " + "{a: " * 2000 + "1" + "}" * 2000),
        lambda: load_text(tmp_path, "labels: " + "[" * 2000 + "]" * 2000),
    ):
        with pytest.raises(ValueError, match="nest"):
            load()


def test_a_yaml_alias_bomb_is_refused_at_once(tmp_path):
    """The D9 hang: 9 levels of mappings of 10 aliases each (a billion values once copied) from under 800 bytes."""
    names = "abcdefghi"
    text = "a: &a {" + ", ".join(f"k{i}: x" for i in range(10)) + "}\n"
    for previous, name in itertools.pairwise(names):
        text += f"{name}: &{name} {{" + ", ".join(f"k{i}: *{previous}" for i in range(10)) + "}\n"
    assert len(text) < 800
    with returns_within(5), pytest.raises(ValueError, match=r"line 1: anchors and aliases \(&name, \*name\)"):
        load_text(tmp_path, text)
    with pytest.raises(ValueError, match="anchors and aliases"):
        load_text(tmp_path, "labels: &pair [C, D]\n")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("? [a]\n: b\n", "a setting's name must be a word"),
        ("seed: " + "9" * 5000 + "\n", "holds a value that cannot be read"),
        ("output_dir: 2024-13-01\n", "holds a value that cannot be read"),
        ("output_dir: 2024-01-01\n", "output_dir must be a folder path"),
        ("seed: !!binary YQ==\n", "seed must be an integer"),
    ],
)
def test_odd_yaml_is_a_clear_error(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        load_text(tmp_path, text)


def test_numbers_written_as_strings_are_read_in_parameter_mappings(tmp_path):
    config = load_text(tmp_path, "reward_parameters: {deontological_penalty: 4e0}\n")  # PyYAML reads 4e0 as a string
    assert config.rewards_parameters.deontological_penalty == 4.0


def test_threads_is_checked_at_load_and_round_trips(tmp_path):
    from llm_agents.training import TrainConfig, config_from_dict, load_config, save_config

    assert TrainConfig().threads is None
    config = config_from_dict({"threads": 2})
    assert load_config(save_config(config, tmp_path / "config.yaml")).threads == 2
    assert load_config(save_config(TrainConfig(), tmp_path / "default.yaml")).threads is None
    for bad in (0, 5000, "two", True, 1.5):
        with pytest.raises(ValueError, match="threads must be a whole number of threads from 1 to 4096"):
            config_from_dict({"threads": bad})


def test_numbers_past_floats_range_are_refused_not_an_overflow():
    from matrix_games.core.validation import check_finite, check_probability

    with pytest.raises(ValueError, match="x must be a finite number"):
        check_finite("x", 10**400)
    with pytest.raises(ValueError, match="Invalid p"):
        check_probability("p", 10**400)


def test_labels_longer_than_max_new_tokens_are_refused_by_the_agent(tiny_llama, tiny_tokenizer):
    from llm_agents.agent.llm_agent import LLMAgent

    with pytest.raises(ValueError, match=r"generation\.max_new_tokens is 1, but the label 'C D' takes 2 tokens"):
        LLMAgent(tiny_llama, tiny_tokenizer, labels=("C D", "D"), generation=GenerationConfig(max_new_tokens=1))
    agent = LLMAgent(tiny_llama, tiny_tokenizer, labels=("C D", "D"), generation=GenerationConfig(max_new_tokens=2))
    with pytest.raises(ValueError, match="the label 'X Y Z' takes 3 tokens"):
        agent.with_labels(("X Y Z", "W"))
    LLMAgent(tiny_llama, tiny_tokenizer, labels=("C D", "D"))  # unset: the labels' own length


def test_a_folder_without_a_model_names_the_folder_and_the_files_it_needs(tmp_path):
    from llm_agents.agent.models import load_model

    with pytest.raises(FileNotFoundError, match=r"Model folder .* holds no model: it lacks config\.json, weights"):
        load_model(ModelConfig(name=str(tmp_path), device="cpu"))
    (tmp_path / "adapter_config.json").write_text("{}")
    (tmp_path / "adapter_model.safetensors").write_text("")
    with pytest.raises(FileNotFoundError, match="It holds a LoRA adapter"):
        load_model(ModelConfig(name=str(tmp_path), device="cpu"))
