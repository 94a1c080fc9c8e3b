"""The exact answer distribution of an LLM policy: P(C label), P(D label) and P(illegal) for each prompt, computed
from the model's next-token distributions instead of sampled.

Sampling draws up to ``max_new_tokens`` tokens, each from ``agent.generation.sampling_probabilities`` (temperature,
top-k, top-p), stops at an EOS token when ``stop_at_eos``, decodes the tokens and parses the text (strict or
lenient). The probability of an outcome is the sum, over the token sequences that decode to it, of the product of
their tokens' probabilities. ``exact_answers`` walks that tree of sequences breadth first: at each node it takes the
model's next-token distribution, filtered exactly as sampling filters it, and splits the node's probability among its
children (``token_texts.ChildClassifier``):

- a child after which the answer surely parses as a label (or, at the last step, does) adds its mass to that label;
- a child after which no continuation can parse as a label adds its mass to nothing: illegal;
- a child that is still open, and can still become a label in the tokens left (``can_finish``), is expanded at the
  next step: one more forward of one token; one that cannot is illegal.

So only the few sequences that can still become a label cost a forward pass; the tens of thousands of others are
settled by their text. Probabilities are accumulated in float64; P(illegal) is 1 - P(C) - P(D). Forward passes go
through the prefix-tree decoder of ``sequences.decoding`` with one KV cache for the whole walk: shared prompt prefixes
are computed once, and each expanded node is one token attending to its path.

A tokenizer whose decoding is not a join of token bytes (``TokenTexts.of`` is None) is walked without pruning: every
child of every node is expanded and every leaf decoded with the tokenizer, which is exact but only affordable for
small vocabularies (tests); a large one is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from transformers import PreTrainedTokenizerBase

from llm_agents.agent.config import GenerationConfig
from llm_agents.agent.generation import eos_token_ids, label_token_count, sampling_probabilities
from llm_agents.agent.parsing import ParseMode, parse_action
from llm_agents.analysis.token_texts import ChildClassifier, Children, TokenTexts
from llm_agents.sequences.decoding import PrefixCache, TreeDecoder

UNPRUNED_VOCABULARY_LIMIT = 4096
"""The largest vocabulary walked without pruning (a tokenizer ``TokenTexts`` does not cover)."""

MAX_EXPANSIONS = 50_000
"""The most answer nodes one walk runs by default. Strict parsing with answers as long as the labels needs a few per
prompt; lenient parsing of long answers can keep thousands of punctuation openings alive at every step."""


@dataclass(frozen=True)
class AnswerProbabilities:
    """The exact answer distribution of each prompt (arrays of shape ``(prompts,)``, float64).

    Attributes:
        p_c: P(the answer parses as the C label).
        p_d: P(it parses as the D label).
        p_illegal: 1 - p_c - p_d (it includes ``p_unresolved``).
        p_unresolved: The mass of answers left unexpanded below ``min_probability`` (0 for an exact walk): each
            of p_c and p_d is exact up to it.
        expanded: How many answer nodes needed a forward pass (the prompts' own ends included).
        max_new_tokens: The answer length walked.
    """

    p_c: np.ndarray
    p_d: np.ndarray
    p_illegal: np.ndarray
    p_unresolved: np.ndarray
    expanded: int
    max_new_tokens: int


@dataclass(frozen=True)
class _Node:
    prompt: int
    tokens: tuple[int, ...]
    data: bytes
    probability: float


def answer_length(
    tokenizer: PreTrainedTokenizerBase, generation: GenerationConfig, labels: Sequence[tuple[str, str]]
) -> int:
    """The number of tokens sampling draws for a batch with these label pairs (as ``sample_completions``)."""
    if generation.max_new_tokens is not None:
        return generation.max_new_tokens
    return label_token_count(tokenizer, sorted({label for pair in labels for label in pair}))


@torch.no_grad()
def exact_answers(
    model: nn.Module,
    tokenizer: PreTrainedTokenizerBase,
    prompt_ids: Sequence[Sequence[int]],
    labels: Sequence[tuple[str, str]],
    *,
    generation: GenerationConfig | None = None,
    parse_mode: ParseMode = "strict",
    max_new_tokens: int | None = None,
    chunk: int = 256,
    min_probability: float = 0.0,
    max_expansions: int = MAX_EXPANSIONS,
) -> AnswerProbabilities:
    """P(C), P(D) and P(illegal) of the answer to each prompt under the model as it is (its active adapter, or the
    base model inside ``disable_adapter()``), sampled as ``generation`` says and parsed with ``parse_mode``.

    Args:
        model: The causal LM (run in eval mode, as sampling does; its mode is restored).
        tokenizer: Its tokenizer.
        prompt_ids: Each prompt's token ids, chat template included (``chat.encode_prompts``).
        labels: Each prompt's (C, D) labels.
        generation: The sampling settings (the paper's by default).
        parse_mode: ``"strict"`` or ``"lenient"``.
        max_new_tokens: The answer length; by default the one sampling uses for a batch of these labels.
        chunk: The most answer nodes per forward pass.
        min_probability: Answers still open with a probability below this are not expanded (their mass is
            ``p_unresolved``); 0, the default, walks everything: exact.
        max_expansions: Refuse (with the fix) a walk that would run more answer nodes than this.
    """
    generation = generation or GenerationConfig()
    labels = [tuple(pair) for pair in labels]
    if len(labels) != len(prompt_ids):
        raise ValueError(f"exact_answers got {len(prompt_ids)} prompts but {len(labels)} label pairs; give one each.")
    length = max_new_tokens or answer_length(tokenizer, generation, labels)
    stop = sorted(eos_token_ids(model, tokenizer)) if generation.stop_at_eos else []
    walker = _Walker(tokenizer, labels, parse_mode, stop)
    p_c, p_d, unresolved = (np.zeros(len(prompt_ids)) for _ in range(3))
    frontier = [_Node(index, (), b"", 1.0) for index in range(len(prompt_ids))]
    cache = PrefixCache(max_nodes=1 << 15, max_logits=chunk)
    decoder = TreeDecoder(model, cache)
    expanded = 0
    was_training = model.training
    model.eval()
    try:
        for step in range(length):
            last = step == length - 1
            following: list[_Node] = []
            for start in range(0, len(frontier), chunk):
                part = frontier[start : start + chunk]
                logits = decoder.start([[*prompt_ids[node.prompt], *node.tokens] for node in part])
                cache.logits.clear()  # each node is read once: keep only the KV cache
                probabilities = sampling_probabilities(logits, generation, torch.float64).cpu().numpy()
                expanded += len(part)
                for node, q in zip(part, probabilities, strict=True):
                    for token in stop:  # the answer ends here (with the EOS token's text, if it has one)
                        _add(p_c, p_d, node, walker.ended(node, token), q[token])
                    children = walker.children(node, last)
                    p_c[node.prompt] += node.probability * q[children.c].sum()
                    p_d[node.prompt] += node.probability * q[children.d].sum()
                    for token in children.open[q[children.open] > 0].tolist():
                        child = walker.child(node, token, node.probability * q[token])
                        if not walker.can_finish(child, length - step - 1):
                            continue
                        if child.probability < min_probability:
                            unresolved[node.prompt] += child.probability
                            continue
                        following.append(child)
                        if expanded + len(following) > max_expansions:
                            _too_many(max_expansions, step, length, parse_mode)
            frontier = following
    finally:
        model.train(was_training)
    return AnswerProbabilities(p_c, p_d, 1.0 - p_c - p_d, unresolved, expanded, length)


def _too_many(limit: int, step: int, length: int, mode: str) -> None:
    raise ValueError(
        f"The exact walk would run over {limit:,} answer nodes (max_expansions): answers are still open after "
        f"{step + 1} of {length} tokens with {mode} parsing. Shorten max_new_tokens, parse strictly or sample with "
        "top-k, raise max_expansions, or set min_probability (e.g. 1e-9) to bound the error instead."
    )


def _add(p_c: np.ndarray, p_d: np.ndarray, node: _Node, outlook: int | None, mass: float) -> None:
    if outlook == 0:
        p_c[node.prompt] += node.probability * mass
    elif outlook == 1:
        p_d[node.prompt] += node.probability * mass


class _Walker:
    """Where each child of a node leads: by its text (``ChildClassifier``), or, for a tokenizer ``TokenTexts`` does
    not cover, by decoding every child (no pruning)."""

    def __init__(
        self, tokenizer: PreTrainedTokenizerBase, labels: list[tuple[str, str]], mode: ParseMode, stop: list[int]
    ) -> None:
        self.tokenizer, self.labels, self.mode, self.stop = tokenizer, labels, mode, stop
        self.texts = TokenTexts.of(tokenizer)
        if self.texts is None and len(tokenizer) > UNPRUNED_VOCABULARY_LIMIT:
            raise ValueError(
                f"The exact analysis cannot read this tokenizer's decoding ({type(tokenizer).__name__}, "
                f"{len(tokenizer)} tokens) as a join of token bytes, and walking every sequence of a vocabulary "
                f"over {UNPRUNED_VOCABULARY_LIMIT} tokens is out of reach. Byte-level BPE and SentencePiece "
                "tokenizers are supported; sample instead (llm-agents evaluate without --exact)."
            )
        self.classifiers = {
            pair: ChildClassifier(self.texts, pair, mode, stop) for pair in set(labels) if self.texts is not None
        }
        self._decoded: dict[tuple, Children] = {}

    def ended(self, node: _Node, stop: int) -> int | None:
        """The parse of the answer ``node`` ended by the stop token ``stop``."""
        pair = self.labels[node.prompt]
        if self.texts is None:
            return parse_action(self._decode((*node.tokens, stop)), pair, self.mode)
        return self.classifiers[pair].outlook(node.data + self.texts.token_bytes[stop], last=True)  # type: ignore[return-value]

    def children(self, node: _Node, last: bool) -> Children:
        if self.texts is not None:
            return self.classifiers[self.labels[node.prompt]].children(node.data, last)
        key = (node.tokens, self.labels[node.prompt], last)  # the answer so far, not the prompt, decides
        if key not in self._decoded:
            tokens = np.setdiff1d(np.arange(len(self.tokenizer)), np.array(self.stop, dtype=np.int64))
            if not last:
                self._decoded[key] = Children(open=tokens, c=np.zeros(0, np.int64), d=np.zeros(0, np.int64))
            else:
                pair = self.labels[node.prompt]
                parsed = [parse_action(self._decode((*node.tokens, t)), pair, self.mode) for t in tokens]
                outcome = np.array([-1 if p is None else p for p in parsed])
                self._decoded[key] = Children(np.zeros(0, np.int64), tokens[outcome == 0], tokens[outcome == 1])
        return self._decoded[key]

    def can_finish(self, node: _Node, remaining: int) -> bool:
        if self.texts is None:
            return True
        return self.classifiers[self.labels[node.prompt]].can_finish(node.data, remaining)

    def child(self, node: _Node, token: int, probability: float) -> _Node:
        added = self.texts.token_bytes[token] if self.texts is not None else b""
        return _Node(node.prompt, (*node.tokens, token), node.data + added, probability)

    def _decode(self, tokens: Sequence[int]) -> str:
        return self.tokenizer.decode(list(tokens), skip_special_tokens=True)
