"""LLMAgent on the tiny llama in the real environments: batching, records, illegal answers, shared adapters."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest
import torch

import matrix_games  # noqa: F401 - registers the environment ids
from llm_agents.agent.adapters import add_adapter, attach_lora
from llm_agents.agent.config import GenerationConfig, LoRAConfig
from llm_agents.agent.generation import completion_logprobs
from llm_agents.agent.llm_agent import LLMAgent, StepRecord, observation_texts
from matrix_games import get_game
from matrix_games.envs.parallel_env import IteratedMatrixGameEnv

SMALL = LoRAConfig(r=4, alpha=8, dropout=0.0)


def test_plays_a_parallel_episode_and_records_every_answer(tiny_llama, tiny_tokenizer):
    env = IteratedMatrixGameEnv("prisoners_dilemma", num_rounds=3, allow_illegal=True)
    agent = LLMAgent(tiny_llama, tiny_tokenizer, seed=0)
    observations, _ = env.reset(seed=0)
    rounds, records = 0, []
    while env.agents:
        names = list(observations)
        answered = agent.respond([observations[name] for name in names])
        records += answered
        actions = dict(zip(names, (record.action for record in answered), strict=True))
        assert set(actions) == {"player_0", "player_1"} and set(actions.values()) <= {0, 1, 2}
        observations, *_ = env.step(actions)
        rounds += 1
    assert rounds == 3 and len(records) == 6 and not hasattr(agent, "records")
    for record in records:
        assert isinstance(record, StepRecord)
        assert record.action == (record.parsed if record.legal else 2)
        assert record.prompt_ids.dtype == torch.long and record.completion_ids.dtype == torch.long
        assert record.prompt_ids.ndim == record.completion_ids.ndim == 1
        assert len(record.logprobs) == len(record.completion_ids) == 1  # "action1" is one token here
        assert record.prompt_text.startswith("<|user|> You are playing a game")
        assert record.completion_text == tiny_tokenizer.decode(record.completion_ids, skip_special_tokens=True)


def test_gymnasium_view_with_the_registered_id(tiny_llama, tiny_tokenizer):
    env = gymnasium.make("matrix_games/IPD-v0", opponent="tit_for_tat", num_rounds=2, allow_illegal=True)
    agent = LLMAgent(tiny_llama, tiny_tokenizer, seed=1)
    payoffs = get_game("prisoners_dilemma").payoffs
    seen = set()
    for seed in range(50):  # until both a legal and an illegal answer have been scored (seeded: the same every run)
        if seen == {True, False}:
            break
        observation, _ = env.reset(seed=seed)
        for _ in range(2):
            (action,) = agent.act([observation])
            observation, reward, _, _, info = env.step(action)
            outcome = info["outcome"]
            assert outcome.action == action and outcome.player == 0
            # the illegal reward, or the payoff of the moves played (an illegal answer keeps its last legal move)
            expected = -6.0 if action == 2 else payoffs[action][outcome.opponent_action][0]
            assert reward == expected == info["game_reward"]
            seen.add(action == 2)
    assert seen == {True, False}, "the seeds should give both a legal and an illegal answer"


def test_the_same_seed_gives_the_same_answers(tiny_llama, tiny_tokenizer):
    texts = ["round 1 . your action ?"] * 16
    first = LLMAgent(tiny_llama, tiny_tokenizer, seed=7, generation=GenerationConfig(max_new_tokens=3)).respond(texts)
    again = LLMAgent(tiny_llama, tiny_tokenizer, seed=7, generation=GenerationConfig(max_new_tokens=3)).respond(texts)
    assert [r.completion_text for r in first] == [r.completion_text for r in again]


def test_illegal_answers_raise_or_fall_back_as_asked(tiny_llama, tiny_tokenizer):
    texts = ["round 1 . your action ?"] * 32
    with pytest.raises(ValueError, match="neither label"):
        LLMAgent(tiny_llama, tiny_tokenizer, on_illegal="raise", seed=0).act(texts)
    agent = LLMAgent(tiny_llama, tiny_tokenizer, on_illegal="random", seed=0)
    records = agent.respond(texts)
    assert {r.action for r in records} <= {0, 1}
    illegal = [r for r in records if not r.legal]
    assert illegal and {r.action for r in illegal} == {0, 1}


def test_two_agents_share_one_base_model_with_their_own_adapters(make_tiny_llama, tiny_tokenizer):
    model = attach_lora(make_tiny_llama(), SMALL, adapter_name="player_0")
    add_adapter(model, "player_1", SMALL)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "lora_B" in name:
                parameter.normal_(0, 1.0, generator=generator)
    first = LLMAgent(model, tiny_tokenizer, adapter_name="player_0", seed=0)
    second = LLMAgent(model, tiny_tokenizer, adapter_name="player_1", seed=0)
    reference = LLMAgent(model, tiny_tokenizer, reference=True, seed=0)
    texts = ["round 1 . your action ?", "last opponent played action2 . your action ?"]
    records = {"player_0": first.respond(texts), "player_1": second.respond(texts), None: reference.respond(texts)}
    for adapter_name, answers in records.items():
        assert {r.adapter_name for r in answers} == {adapter_name}
        if adapter_name is None:
            with model.disable_adapter():
                expected = completion_logprobs(
                    model, tiny_tokenizer, [r.prompt_ids for r in answers], [r.completion_ids for r in answers]
                )
        else:
            model.set_adapter(adapter_name)
            expected = completion_logprobs(
                model, tiny_tokenizer, [r.prompt_ids for r in answers], [r.completion_ids for r in answers]
            )
        for record, logprobs in zip(answers, expected, strict=True):
            torch.testing.assert_close(record.logprobs, logprobs, atol=1e-5, rtol=1e-5)


def test_observation_texts_reads_every_text_form():
    assert observation_texts(["a", {"text": "b", "numeric": np.zeros(2)}]) == ["a", "b"]
    assert observation_texts({"text": ("a", "b"), "numeric": np.zeros((2, 2))}) == ["a", "b"]  # a vector batch
    with pytest.raises(TypeError, match="observation_type"):
        observation_texts([np.zeros(2)])
    with pytest.raises(TypeError, match="wrap a single observation"):
        observation_texts("a")


def test_bad_options_are_rejected(tiny_llama, tiny_tokenizer):
    with pytest.raises(ValueError, match="on_illegal"):
        LLMAgent(tiny_llama, tiny_tokenizer, on_illegal="ignore")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="parse_mode"):
        LLMAgent(tiny_llama, tiny_tokenizer, parse_mode="fuzzy")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="PeftModel"):
        LLMAgent(tiny_llama, tiny_tokenizer, adapter_name="default")
