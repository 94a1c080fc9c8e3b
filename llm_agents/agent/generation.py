"""Batched sampling of short answers, with the token ids and log-probabilities PPO needs.

Why a hand-written loop rather than ``model.generate``: transformers' ``generate`` draws its samples from torch's
global random state (it has no ``generator`` argument), and this project injects randomness from seeds. The loop is
the same algorithm: one forward over the prompts, then one token at a time through a KV cache. The forwards are a
decoder's (``sequences.decoding``): the prompts as a prefix tree whose shared prefixes are computed once (the
default), or the plain left-padded batch. The loop also keeps, for free, each sampled token's log-probability, which
``generate`` would only give back through a second pass.

Sampling always runs in eval mode, so LoRA dropout is off (the paper sampled with dropout on, docs/paper.md: a bug);
the model's previous mode is restored afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from transformers import PreTrainedTokenizerBase

from llm_agents.agent.config import GenerationConfig
from llm_agents.sequences import Batching
from llm_agents.sequences.decoding import (
    PaddedDecoder,
    PrefixCache,
    TreeDecoder,
    forward_keywords,
    left_pad,
    model_device,
)


@dataclass(frozen=True)
class Sample:
    """One sampled answer.

    Attributes:
        prompt_ids: The prompt's token ids, without padding (PPO's query), shape (P,).
        completion_ids: The sampled token ids, without padding, ending with the EOS token when one was sampled
            (PPO's response), shape (T,).
        logprobs: The log-probability of each completion token under the policy at temperature 1 with no filtering
            (what PPO recomputes; with the paper's defaults it is the sampling distribution itself), shape (T,).
        text: The completion decoded with special tokens skipped.
    """

    prompt_ids: torch.Tensor
    completion_ids: torch.Tensor
    logprobs: torch.Tensor
    text: str


def label_token_count(tokenizer: PreTrainedTokenizerBase, labels: Sequence[str]) -> int:
    """The most tokens any label takes, alone or after a space (``"action1"`` and ``" action1"``).

    This is the default answer length: enough for either label however the model starts it (the paper's 2 for
    Gemma's ``action`` + ``1``).
    """
    variants = [variant for label in labels for variant in (label, " " + label)]
    return max(len(tokenizer(variant, add_special_tokens=False)["input_ids"]) for variant in variants)


def eos_token_ids(model: torch.nn.Module, tokenizer: PreTrainedTokenizerBase) -> set[int]:
    """Every token that ends a sample: the tokenizer's EOS and the model's generation-config EOS ids."""
    ids = {tokenizer.eos_token_id} if tokenizer.eos_token_id is not None else set()
    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    ids.update(configured if isinstance(configured, (list, tuple)) else [] if configured is None else [configured])
    return ids


def filter_logits(logits: torch.Tensor, *, top_k: int = 0, top_p: float = 1.0) -> torch.Tensor:
    """Set to -inf the logits outside the top-k tokens and outside the top-p nucleus; 0 and 1.0 filter nothing."""
    if top_k > 0 and top_k < logits.shape[-1]:
        kth = torch.topk(logits, top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p < 1.0:
        sorted_logits, order = torch.sort(logits, descending=True, dim=-1)
        sorted_probs = sorted_logits.softmax(dim=-1)
        mass_before = sorted_probs.cumsum(dim=-1) - sorted_probs
        remove_sorted = mass_before >= top_p  # the most likely token always stays
        remove = remove_sorted.scatter(-1, order, remove_sorted)
        logits = logits.masked_fill(remove, float("-inf"))
    return logits


def sampling_probabilities(
    logits: torch.Tensor, config: GenerationConfig, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """The distribution each next token is drawn from: ``logits / temperature``, top-k and top-p filtered, softmaxed
    (in ``dtype``; the exact analysis asks for float64). The one definition sampling and the analysis share."""
    filtered = filter_logits(logits / config.temperature, top_k=config.top_k, top_p=config.top_p)
    return torch.softmax(filtered.to(dtype), dim=-1)


@torch.no_grad()
def sample_completions(
    model: torch.nn.Module,
    tokenizer: PreTrainedTokenizerBase,
    prompt_ids: Sequence[Sequence[int]],
    *,
    generator: torch.Generator,
    config: GenerationConfig | None = None,
    labels: Sequence[str] | None = None,
    cache: PrefixCache | None = None,
    batching: Batching = "tree",
) -> list[Sample]:
    """Sample one completion for each prompt, all in one batch.

    Args:
        model: A causal LM (a PeftModel samples with its active adapter).
        tokenizer: Its tokenizer (for the pad and EOS ids, and decoding).
        prompt_ids: Token ids of each prompt, unpadded (see ``chat.encode_prompts``).
        generator: The source of randomness, on the device where sampling happens (seed it for reproducibility).
        config: Sampling options; the paper's by default.
        labels: The action labels; with ``config.max_new_tokens=None`` they set the answer length.
        cache: With the tree layout, a ``PrefixCache`` shared with earlier calls under the same weights.
        batching: The layout: ``"tree"`` computes each distinct prompt prefix once, ``"padded"`` is the plain batch;
            both draw the same random numbers (the samples are the same up to float rounding).

    Returns:
        One ``Sample`` per prompt, in order.
    """
    config = config or GenerationConfig()
    if not isinstance(generator, torch.Generator):
        raise TypeError(
            f"generator must be a torch.Generator (e.g. torch.Generator().manual_seed(0)), got {generator!r}."
        )
    max_new_tokens = config.max_new_tokens
    if max_new_tokens is None:
        if labels is None:
            raise ValueError("Pass labels=(C label, D label) or set GenerationConfig.max_new_tokens.")
        max_new_tokens = label_token_count(tokenizer, labels)
    if not prompt_ids or any(len(p) == 0 for p in prompt_ids):
        raise ValueError("Every prompt needs at least one token, and the batch at least one prompt.")
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    decoder = TreeDecoder(model, cache) if batching == "tree" else PaddedDecoder(model, pad_id)
    was_training = model.training
    model.eval()
    try:
        tokens, logprobs, alive = _decode(decoder, prompt_ids, generator, config, max_new_tokens, model, tokenizer)
    finally:
        model.train(was_training)
    samples = []
    for row, prompt in enumerate(prompt_ids):
        keep = alive[row]
        completion = tokens[row][keep]
        samples.append(
            Sample(
                prompt_ids=torch.as_tensor(list(prompt), dtype=torch.long),
                completion_ids=completion,
                logprobs=logprobs[row][keep],
                text=tokenizer.decode(completion, skip_special_tokens=True),
            )
        )
    return samples


def _decode(
    decoder: PaddedDecoder | TreeDecoder,
    prompt_ids: Sequence[Sequence[int]],
    generator: torch.Generator,
    config: GenerationConfig,
    max_new_tokens: int,
    model: torch.nn.Module,
    tokenizer: PreTrainedTokenizerBase,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The sampling loop: ``(tokens, logprobs, alive)``, each ``(B, steps)`` on the CPU.

    Every row draws at every step, finished or not, so the random stream does not depend on the answers.
    """
    device = model_device(model)
    stop_ids = torch.tensor(sorted(eos_token_ids(model, tokenizer)), device=device, dtype=torch.long)
    finished = torch.zeros(len(prompt_ids), dtype=torch.bool, device=device)
    tokens, token_logprobs, alive = [], [], []
    logits = decoder.start(prompt_ids)
    for step in range(max_new_tokens):
        logprobs = torch.log_softmax(logits, dim=-1)
        probs = sampling_probabilities(logits, config).to(generator.device)
        next_token = torch.multinomial(probs, 1, generator=generator).squeeze(-1).to(device)
        alive.append(~finished)
        tokens.append(next_token)
        token_logprobs.append(logprobs.gather(-1, next_token[:, None]).squeeze(-1))
        if config.stop_at_eos:
            finished = finished | torch.isin(next_token, stop_ids)
        if bool(finished.all()) or step == max_new_tokens - 1:
            break
        logits = decoder.step(next_token, finished)
    return (
        torch.stack(tokens, dim=1).cpu(),
        torch.stack(token_logprobs, dim=1).cpu(),
        torch.stack(alive, dim=1).cpu(),
    )


@torch.no_grad()
def completion_logprobs(
    model: torch.nn.Module,
    tokenizer: PreTrainedTokenizerBase,
    prompt_ids: Sequence[Sequence[int]],
    completion_ids: Sequence[Sequence[int]],
) -> list[torch.Tensor]:
    """Teacher-forced log-probabilities (temperature 1) of given completions, in one left-padded batch.

    The same quantity ``Sample.logprobs`` holds, computed afresh: used to check sampling and for reference policies.
    """
    device = model_device(model)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    sequences = [list(p) + list(c) for p, c in zip(prompt_ids, completion_ids, strict=True)]
    input_ids, attention_mask = left_pad(sequences, pad_id, device)
    position_ids = (attention_mask.cumsum(dim=-1) - 1).clamp(min=0)
    # Completions end at the right edge, so only the last (longest completion + 1) positions' logits are needed.
    width = max(len(c) for c in completion_ids) + 1
    _, keep_keyword = forward_keywords(model)
    last_only = {keep_keyword: width} if keep_keyword else {}
    was_training = model.training
    model.eval()
    try:
        logits = model(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids, **last_only)
    finally:
        model.train(was_training)
    logits = logits.logits[:, -width:].float()
    targets = input_ids[:, -width + 1 :, None]
    logprobs = torch.log_softmax(logits[:, :-1], dim=-1).gather(-1, targets).squeeze(-1)
    return [logprobs[row, logprobs.shape[1] - len(c) :].cpu() for row, c in enumerate(completion_ids)]
