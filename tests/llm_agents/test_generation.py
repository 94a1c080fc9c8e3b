"""Prompts and batched sampling on the tiny offline llama: chat template, padding, seeding, lengths, log-probs."""

from __future__ import annotations

import copy

import pytest
import torch

from llm_agents.agent.adapters import attach_lora
from llm_agents.agent.chat import build_messages, chat_text, encode_prompts
from llm_agents.agent.config import GenerationConfig, LoRAConfig, PromptConfig
from llm_agents.agent.generation import (
    completion_logprobs,
    filter_logits,
    label_token_count,
    left_pad,
    sample_completions,
)

LABELS = ("action1", "action2")
TEXTS = [
    "round 1 . your action ?",
    "you are playing the iterated prisoner's dilemma . last round the opponent played action1 . your action ?",
    "answer with one letter : C or D",
]


def seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_messages_and_chat_template(tiny_tokenizer):
    config = PromptConfig(system="answer", preface="history none . ")
    assert build_messages("round 1", config) == [
        {"role": "system", "content": "answer"},
        {"role": "user", "content": "history none . round 1"},
    ]
    assert chat_text("round 1", tiny_tokenizer) == "<|user|> round 1 <eos> <|assistant|> "
    assert chat_text("round 1", tiny_tokenizer, config) == (
        "<|system|> answer <eos> <|user|> history none . round 1 <eos> <|assistant|> "
    )


def test_no_chat_template_gives_the_raw_text(tiny_tokenizer):
    plain = copy.deepcopy(tiny_tokenizer)
    plain.chat_template = None
    assert chat_text("round 1", plain) == "round 1"
    assert chat_text("round 1", plain, PromptConfig(preface="history none . ")) == "history none . round 1"
    assert chat_text("round 1", tiny_tokenizer, PromptConfig(use_chat_template=False)) == "round 1"


def test_encode_prompts_does_not_add_special_tokens_twice(tiny_tokenizer):
    rendered, ids = encode_prompts(["round 1"], tiny_tokenizer)
    assert tiny_tokenizer.convert_ids_to_tokens(ids[0]) == ["<|user|>", "round", "1", "<eos>", "<|assistant|>"]
    assert rendered == ["<|user|> round 1 <eos> <|assistant|> "]


def test_label_token_count_takes_the_longest_label(tiny_tokenizer):
    assert label_token_count(tiny_tokenizer, LABELS) == 1
    assert label_token_count(tiny_tokenizer, ("action1", "round last opponent")) == 3


def test_left_pad():
    input_ids, mask = left_pad([[5, 6, 7], [8]], pad_id=0, device=torch.device("cpu"))
    assert input_ids.tolist() == [[5, 6, 7], [0, 0, 8]]
    assert mask.tolist() == [[1, 1, 1], [0, 0, 1]]
    with pytest.raises(ValueError, match="at least one token"):
        left_pad([[1], []], pad_id=0, device=torch.device("cpu"))


def test_filter_logits_golden():
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    inf = float("-inf")
    assert torch.equal(filter_logits(logits, top_k=2)[0, 2:], torch.tensor([inf, inf]))
    assert torch.isfinite(filter_logits(logits, top_k=2)[0, :2]).all()
    kept = torch.isfinite(filter_logits(logits, top_p=0.7)[0]).tolist()
    assert kept == [True, True, False, False]  # 0.5 < 0.7, then 0.5 + 0.3 >= 0.7 stops
    assert torch.isfinite(filter_logits(logits, top_p=0.1)[0]).tolist() == [True, False, False, False]
    assert torch.equal(filter_logits(logits), logits)  # the paper's defaults filter nothing
    shuffled = logits[:, [2, 0, 3, 1]]
    assert torch.isfinite(filter_logits(shuffled, top_p=0.7)[0]).tolist() == [False, True, False, True]


def test_samples_are_reproducible_from_the_generator(tiny_llama, tiny_tokenizer):
    _, ids = encode_prompts(TEXTS * 3, tiny_tokenizer)
    config = GenerationConfig(max_new_tokens=4)
    first = sample_completions(tiny_llama, tiny_tokenizer, ids, generator=seeded(1), config=config)
    again = sample_completions(tiny_llama, tiny_tokenizer, ids, generator=seeded(1), config=config)
    other = sample_completions(tiny_llama, tiny_tokenizer, ids, generator=seeded(2), config=config)
    assert [s.completion_ids.tolist() for s in first] == [s.completion_ids.tolist() for s in again]
    assert [s.completion_ids.tolist() for s in first] != [s.completion_ids.tolist() for s in other]
    torch.manual_seed(123)  # global state plays no part
    assert [
        s.text for s in sample_completions(tiny_llama, tiny_tokenizer, ids, generator=seeded(1), config=config)
    ] == [s.text for s in first]


def test_batched_logprobs_match_one_prompt_at_a_time(tiny_llama, tiny_tokenizer):
    _, ids = encode_prompts(TEXTS, tiny_tokenizer)
    assert len({len(i) for i in ids}) == 3  # different lengths, so the batch is left-padded
    samples = sample_completions(
        tiny_llama, tiny_tokenizer, ids, generator=seeded(0), config=GenerationConfig(max_new_tokens=5)
    )
    for prompt, sample in zip(ids, samples, strict=True):
        alone = completion_logprobs(tiny_llama, tiny_tokenizer, [sample.prompt_ids], [sample.completion_ids])[0]
        torch.testing.assert_close(sample.logprobs, alone, atol=1e-5, rtol=1e-5)
        assert sample.prompt_ids.tolist() == prompt
        assert sample.text == tiny_tokenizer.decode(sample.completion_ids, skip_special_tokens=True)


def test_default_length_comes_from_the_labels(tiny_llama, tiny_tokenizer):
    _, ids = encode_prompts(TEXTS, tiny_tokenizer)
    two_word = ("action1", "action2 now")  # "now" is unknown: <unk>, still a token
    samples = sample_completions(tiny_llama, tiny_tokenizer, ids * 8, generator=seeded(0), labels=two_word)
    assert max(len(s.completion_ids) for s in samples) == 2
    with pytest.raises(ValueError, match="labels"):
        sample_completions(tiny_llama, tiny_tokenizer, ids, generator=seeded(0))


def test_eos_stops_a_sample_and_is_kept(tiny_llama, tiny_tokenizer):
    _, ids = encode_prompts(TEXTS * 20, tiny_tokenizer)
    max_new = 8
    samples = sample_completions(
        tiny_llama, tiny_tokenizer, ids, generator=seeded(0), config=GenerationConfig(max_new_tokens=max_new)
    )
    eos = tiny_tokenizer.eos_token_id
    stopped = [s for s in samples if len(s.completion_ids) < max_new]
    assert stopped, "with ~45 tokens and 480 draws some sample must hit EOS"
    for sample in samples:
        tokens = sample.completion_ids.tolist()
        assert eos not in tokens[:-1] and len(sample.logprobs) == len(tokens)
    assert all(s.completion_ids[-1].item() == eos for s in stopped)


def test_sampling_runs_in_eval_mode_and_restores_the_mode(make_tiny_llama, tiny_tokenizer):
    model = attach_lora(make_tiny_llama(), LoRAConfig(r=4, alpha=8, dropout=0.5))
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "lora_B" in name:
                parameter.normal_(0, 0.5, generator=seeded(3))  # a non-trivial adapter, so dropout would matter
    _, ids = encode_prompts(TEXTS, tiny_tokenizer)
    config = GenerationConfig(max_new_tokens=4)
    model.eval()
    in_eval = sample_completions(model, tiny_tokenizer, ids, generator=seeded(0), config=config)
    model.train()
    in_train = sample_completions(model, tiny_tokenizer, ids, generator=seeded(0), config=config)
    assert model.training
    for a, b in zip(in_eval, in_train, strict=True):
        assert torch.equal(a.completion_ids, b.completion_ids)
        torch.testing.assert_close(a.logprobs, b.logprobs)


def test_top_k_one_is_greedy(tiny_llama, tiny_tokenizer):
    _, ids = encode_prompts(TEXTS, tiny_tokenizer)
    config = GenerationConfig(max_new_tokens=3, top_k=1, stop_at_eos=False)
    samples = sample_completions(tiny_llama, tiny_tokenizer, ids, generator=seeded(0), config=config)
    greedy = tiny_llama.generate(
        torch.tensor([ids[0]]),
        attention_mask=torch.ones(1, len(ids[0]), dtype=torch.long),
        max_new_tokens=3,
        do_sample=False,
        min_new_tokens=3,
        pad_token_id=tiny_tokenizer.pad_token_id,
    )
    assert samples[0].completion_ids.tolist() == greedy[0, len(ids[0]) :].tolist()


def test_bad_generator_is_rejected(tiny_llama, tiny_tokenizer):
    with pytest.raises(TypeError, match=r"torch\.Generator"):
        sample_completions(tiny_llama, tiny_tokenizer, [[1, 2]], generator=0, labels=LABELS)  # type: ignore[arg-type]
