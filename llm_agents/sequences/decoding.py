"""Next-token logits for a batch of growing sequences: the padded layout, or a prefix tree whose work is shared.

Sampling (``agent.generation``) asks a decoder for the logits after each prompt, then after each token it appends.

- ``PaddedDecoder`` (the plain path): the prompts left-padded into a batch, one KV cache row per prompt.
- ``TreeDecoder``: the sequences as a prefix tree packed into one row (``prefix_tree.py``), the KV cache of that row
  grown by appending only the nodes no earlier sequence has computed, each attending to its own path. A prompt seen
  before, or a shared prefix, costs nothing again; with a ``PrefixCache`` kept across calls (``LLMAgent.sharing
  prefixes()``, while the policy stays fixed: one rollout, or a whole evaluation) a game's repeated prompts are
  computed once for all its rounds.

On CPU, a call that computes a whole tree (the first of a cache: a rollout's first prompts, the exact analysis's
prompts) runs the chunked attention of ``tree_attention.py``, which computes only the pairs the tree allows (23%
less time for the 16 prompts of one game's policy table, 978 distinct tokens, float32); later calls add a few nodes
against the cached keys through the dense mask, where little is masked.

A cache holds at most ``max_nodes`` nodes and ``max_logits`` stored logits; past that it starts afresh (the same
numbers up to float rounding). It must only be shared while the model's weights do not change.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence

import torch
from torch import nn

from llm_agents.sequences.forward import at_least_float32, model_dtype
from llm_agents.sequences.prefix_tree import PrefixTree
from llm_agents.sequences.tree_attention import chunked_forward, supports_tree_attention


def forward_keywords(model: nn.Module) -> tuple[str, str | None]:
    """The base model's name for the KV-cache argument, and for "logits of some positions only" (if any).

    transformers 5 renamed ``past_key_values`` to ``cache``; ``logits_to_keep`` was ``num_logits_to_keep`` before 4.50.
    """
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    parameters = inspect.signature(base.forward).parameters
    cache = "cache" if "cache" in parameters else "past_key_values"
    keep = next((name for name in ("logits_to_keep", "num_logits_to_keep") if name in parameters), None)
    return cache, keep


def model_device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def left_pad(prompts: Sequence[Sequence[int]], pad_id: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack prompts of different lengths, padded on the left; return ``(input_ids, attention_mask)``, (B, L)."""
    if not prompts or any(len(p) == 0 for p in prompts):
        raise ValueError("Every prompt needs at least one token, and the batch at least one prompt.")
    width = max(len(p) for p in prompts)
    input_ids = torch.full((len(prompts), width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for row, prompt in enumerate(prompts):
        input_ids[row, width - len(prompt) :] = torch.as_tensor(list(prompt), dtype=torch.long)
        attention_mask[row, width - len(prompt) :] = 1
    return input_ids.to(device), attention_mask.to(device)


class PaddedDecoder:
    """The plain path: a left-padded batch with a KV cache row per prompt (finished rows are fed the pad token)."""

    def __init__(self, model: nn.Module, pad_id: int) -> None:
        self.model, self.pad_id = model, pad_id
        self.cache_keyword, keep = forward_keywords(model)
        self.last_only = {keep: 1} if keep else {}

    def start(self, prompt_ids: Sequence[Sequence[int]]) -> torch.Tensor:
        input_ids, self.attention_mask = left_pad(prompt_ids, self.pad_id, model_device(self.model))
        self.position_ids = (self.attention_mask.cumsum(dim=-1) - 1).clamp(min=0)
        self.output = self.model(
            input_ids=input_ids,
            attention_mask=self.attention_mask,
            position_ids=self.position_ids,
            use_cache=True,
            **self.last_only,
        )
        return at_least_float32(self.output.logits[:, -1, :])

    def step(self, tokens: torch.Tensor, finished: torch.Tensor) -> torch.Tensor:
        fed = torch.where(finished, torch.full_like(tokens, self.pad_id), tokens)
        self.attention_mask = torch.cat([self.attention_mask, torch.ones_like(self.attention_mask[:, :1])], dim=-1)
        self.position_ids = self.position_ids[:, -1:] + 1
        self.output = self.model(
            input_ids=fed[:, None],
            attention_mask=self.attention_mask,
            position_ids=self.position_ids,
            use_cache=True,
            **{self.cache_keyword: self.output[self.cache_keyword]},
            **self.last_only,
        )
        return at_least_float32(self.output.logits[:, -1, :])


class PrefixCache:
    """Every sequence computed under one fixed policy: its prefix tree, the KV cache of the packed tree, and the
    next-token logits of the nodes sampled from."""

    def __init__(self, max_nodes: int = 16_384, max_logits: int = 4_096) -> None:
        self.max_nodes, self.max_logits = max_nodes, max_logits
        self.reset()

    def reset(self) -> None:
        self.tree = PrefixTree()
        self.kv = None
        self.computed = 0
        self.logits: dict[int, torch.Tensor] = {}

    @property
    def full(self) -> bool:
        return len(self.tree) > self.max_nodes or len(self.logits) > self.max_logits


class TreeDecoder:
    """The tree path: sequences share their prefixes' work (see the module docstring)."""

    def __init__(self, model: nn.Module, cache: PrefixCache | None = None) -> None:
        self.model = model
        self.cache = cache if cache is not None else PrefixCache()
        self.cache_keyword, self.keep_keyword = forward_keywords(model)

    def start(self, prompt_ids: Sequence[Sequence[int]]) -> torch.Tensor:
        if self.cache.full:
            self.cache.reset()
        self.current = [self.cache.tree.add(prompt)[-1] for prompt in prompt_ids]
        self._compute(self.current)
        self.latest = torch.stack([self.cache.logits[node] for node in self.current])
        return self.latest

    def step(self, tokens: torch.Tensor, finished: torch.Tensor) -> torch.Tensor:
        live = [row for row in range(len(self.current)) if not bool(finished[row])]
        for row in live:
            self.current[row] = self.cache.tree.add([int(tokens[row])], parent=self.current[row])[0]
        self._compute([self.current[row] for row in live])
        for row in live:
            self.latest[row] = self.cache.logits[self.current[row]]
        return self.latest.clone()

    def _compute(self, wanted: Sequence[int]) -> None:
        """Run the nodes not computed yet, keeping the logits of those in ``wanted``."""
        cache = self.cache
        if any(node < cache.computed and node not in cache.logits for node in wanted):
            self._restart(wanted)  # a node passed through earlier is now sampled from: rare, start the tree afresh
            return
        new = list(range(cache.computed, len(cache.tree)))
        if not new:
            return
        device = model_device(self.model)
        wanted_set = set(wanted)
        keep = [index for index, node in enumerate(new) if node in wanted_set]
        input_ids, position_ids = cache.tree.inputs(new, device)
        dtype = model_dtype(self.model)
        extra = {} if cache.kv is None else {self.cache_keyword: cache.kv}
        if self.keep_keyword and keep:
            extra[self.keep_keyword] = torch.tensor(keep, dtype=torch.long, device=device)
        if cache.kv is None and device.type == "cpu" and supports_tree_attention(self.model):
            # the whole tree at once: only the (query, key) pairs it allows (tree_attention.py), the KV cache as usual
            output = chunked_forward(
                self.model,
                cache.tree,
                dtype,
                device,
                input_ids=input_ids,
                position_ids=position_ids,
                use_cache=True,
                **extra,
            )
        else:
            mask = cache.tree.attention_mask(new, len(cache.tree), dtype=dtype, device=device)
            output = self.model(
                input_ids=input_ids, attention_mask=mask, position_ids=position_ids, use_cache=True, **extra
            )
        cache.kv = output[self.cache_keyword]
        cache.computed = len(cache.tree)
        logits = at_least_float32(output.logits[0])
        rows = range(len(keep)) if self.keep_keyword else keep
        for row, index in zip(rows, keep, strict=True):
            cache.logits[new[index]] = logits[row]

    def _restart(self, wanted: Sequence[int]) -> None:
        sequences = {node: [self.cache.tree.tokens[n] for n in self.cache.tree.path(node)] for node in self.current}
        self.cache.reset()
        remap = {node: self.cache.tree.add(tokens)[-1] for node, tokens in sequences.items()}
        self.current = [remap[node] for node in self.current]
        self._compute([remap.get(node, node) for node in wanted])
