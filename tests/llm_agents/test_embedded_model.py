"""The real path on the embedded SmolLM2-135M-Instruct: GGUF -> cache -> chat prompt -> batched samples -> actions.

Slow (about a minute on two CPU cores): one module-scoped conversion into a fresh cache folder, then everything else
reuses that model.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from llm_agents.agent.chat import chat_text, encode_prompts
from llm_agents.agent.config import ModelConfig
from llm_agents.agent.generation import completion_logprobs, label_token_count, sample_completions
from llm_agents.agent.llm_agent import LLMAgent
from llm_agents.agent.models import CACHE_MARKER, SMOLLM2_SHA256, embedded_cache_path, load_model
from llm_agents.agent.parsing import parse_action
from matrix_games.games import PRISONERS_DILEMMA
from matrix_games.parallel_env import IteratedMatrixGameEnv
from matrix_games.text import render_prompt as render_game_prompt

pytestmark = pytest.mark.slow

LABELS = ("action1", "action2")


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    cache_dir = tmp_path_factory.mktemp("model_cache")
    model, tokenizer = load_model(ModelConfig(cache_dir=cache_dir, device="cpu", dtype="float32"))
    return model, tokenizer, cache_dir


def paper_prompts(count: int, labels=LABELS) -> list[str]:
    rng = np.random.default_rng(0)
    return [
        render_game_prompt(PRISONERS_DILEMMA, i % 2, (i // 2) % 2, option_rng=rng, answer_rng=rng, labels=labels)
        for i in range(count)
    ]


def test_cache_is_complete_and_reloads_the_same_model(embedded):
    model, _, cache_dir = embedded
    folder = embedded_cache_path(cache_dir)
    record = json.loads((folder / CACHE_MARKER).read_text())
    assert record["source_sha256"] == SMOLLM2_SHA256
    assert (folder / "model.safetensors").stat().st_size == record["file_sizes"]["model.safetensors"]
    assert not [p for p in cache_dir.iterdir() if p.name.startswith(".staging-")]
    reloaded, _ = load_model(ModelConfig(cache_dir=cache_dir, device="cpu", dtype="float32"))
    assert not getattr(reloaded, "is_quantized", False)
    batch = {"input_ids": torch.tensor([[1, 9690, 198, 2683]])}
    with torch.no_grad():
        torch.testing.assert_close(reloaded(**batch).logits, model(**batch).logits)


def test_tokenizer_chat_template_and_label_length(embedded):
    _, tokenizer, _ = embedded
    assert tokenizer.eos_token == "<|im_end|>" and tokenizer.padding_side == "left"
    prompt = chat_text("Your answer: ", tokenizer)
    assert prompt.startswith("<|im_start|>system\n") and prompt.endswith(
        "<|im_start|>user\nYour answer: <|im_end|>\n<|im_start|>assistant\n"
    )
    assert label_token_count(tokenizer, LABELS) == 2  # "action" + "1", as for Gemma in the paper
    assert label_token_count(tokenizer, ("action3", "action4")) == 2


def test_a_batch_of_samples_on_the_paper_prompt(embedded):
    model, tokenizer, _ = embedded
    _, ids = encode_prompts(paper_prompts(4), tokenizer)
    samples = sample_completions(model, tokenizer, ids, generator=torch.Generator().manual_seed(0), labels=LABELS)
    assert len(samples) == 4
    assert all(1 <= len(s.completion_ids) <= 2 and torch.isfinite(s.logprobs).all() for s in samples)
    assert all(parse_action(s.text, LABELS) in (None, 0, 1) for s in samples)
    again = completion_logprobs(model, tokenizer, [s.prompt_ids for s in samples], [s.completion_ids for s in samples])
    for sample, logprobs in zip(samples, again, strict=True):
        torch.testing.assert_close(sample.logprobs, logprobs, atol=1e-4, rtol=1e-4)


def test_agent_plays_the_parallel_env(embedded):
    model, tokenizer, _ = embedded
    env = IteratedMatrixGameEnv("prisoners_dilemma", num_rounds=1, allow_illegal=True)
    agent = LLMAgent(model, tokenizer, seed=0)
    observations, _ = env.reset(seed=0)
    records = []
    while env.agents:
        names = list(observations)
        answered = agent.respond([observations[name] for name in names])
        records += answered
        observations, rewards, *_ = env.step({name: r.action for name, r in zip(names, answered, strict=True)})
        for name, record in zip(names, answered, strict=True):
            assert (rewards[name] == -6.0) == (not record.legal)
    assert len(records) == 2
    assert all("<|im_start|>assistant\n" in r.prompt_text for r in records)
