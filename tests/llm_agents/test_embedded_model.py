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
from matrix_games.core.games import PRISONERS_DILEMMA
from matrix_games.envs.parallel_env import IteratedMatrixGameEnv
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


def test_one_demo_sized_ppo_step_is_the_same_in_both_layouts(embedded):
    """6 answers to 2 distinct paper prompts, float32, LoRA r=8: the tree layout's PPO step has the padded layout's
    statistics (1e-5) and updated weights (1e-5 relative, each layer's W + scale * B A).

    Six rows, not the demo's 20: a padded batch with gradients through the whole model holds about 0.4 GB per row of
    the paper's prompt, and 20 rows took the suite to 11 GB (it stays under 6 GB). Several minibatches would not do:
    after the first Adam step float rounding is amplified past 1e-5 in the next minibatch's statistics.

    Adam's first step moves each adapter entry by about lr * g / (|g| + eps), so an entry whose gradient is near 0
    turns float rounding into a visible difference of that entry (at most the two steps' distance, 2 lr); the weights
    the model computes with agree to 1e-5."""
    from llm_agents.agent.adapters import attach_lora
    from llm_agents.agent.config import LoRAConfig
    from llm_agents.ppo import PPOConfig, PPOTrainer

    _, tokenizer, cache_dir = embedded
    model, _ = load_model(ModelConfig(cache_dir=cache_dir, device="cpu", dtype="float32"))
    torch.manual_seed(0)
    peft_model = attach_lora(model, LoRAConfig(r=8, alpha=16, dropout=0.0))
    trainable = [p for p in peft_model.parameters() if p.requires_grad]
    start = [p.detach().clone() for p in trainable]
    _, ids = encode_prompts(paper_prompts(2, labels=("C", "D")), tokenizer)
    answer_ids = [tokenizer(label, add_special_tokens=False)["input_ids"] for label in ("C", "D", "C")]
    queries = [torch.tensor(ids[row % 2]) for row in range(6)]
    responses = [torch.tensor(answer_ids[row % 3]) for row in range(6)]
    scores = [float(row % 3) - 1.0 for row in range(6)]
    results = {}
    for batching in ("padded", "tree"):
        with torch.no_grad():
            for parameter, value in zip(trainable, start, strict=True):
                parameter.copy_(value)
        config = PPOConfig(learning_rate=5e-4, ppo_epochs=1, mini_batch_size=6, seed=1)
        stats = PPOTrainer(peft_model, config, batching=batching).step(queries, responses, scores)
        adapters = [p.detach().clone() for p in trainable]
        with torch.no_grad():
            layers = [m for m in peft_model.modules() if hasattr(m, "get_delta_weight") and "default" in m.lora_A]
            effective = [m.base_layer.weight + m.get_delta_weight("default") for m in layers]
        results[batching] = (stats, adapters, effective)
    (padded, padded_adapters, padded_weights), (tree, tree_adapters, tree_weights) = results["padded"], results["tree"]
    for key, value in padded.items():
        if not key.startswith(("time/", "batch/")):
            assert tree[key] == pytest.approx(value, abs=1e-5, nan_ok=True), key
    for a, b in zip(padded_weights, tree_weights, strict=True):
        assert float((a - b).norm()) <= 1e-5 * float(a.norm())
    for a, b in zip(padded_adapters, tree_adapters, strict=True):
        assert float((a - b).abs().max()) <= 2 * 5e-4 * 1.01  # at most one Adam step apart, entry by entry
    assert tree["batch/computed_tokens"] < padded["batch/computed_tokens"] / 2.5
