"""Attention over a packed prefix tree that computes only the (query, key) pairs the tree allows.

Why: a ``TreeBatch`` packs the distinct tokens of a batch into one row with a dense T x T tree-shaped mask, and
SDPA computes every one of the T^2 pairs, masked or not, so attention grows with T^2 (nearly half of a tree forward's
time at T ~ 900 on CPU). But a node attends only to its own path from the root: the demo's trees allow about a quarter
of the pairs.

How: the tree's nodes are cut into *chunks*, runs of consecutive packed nodes (insertion order keeps every chain of
the tree contiguous). A chunk's queries attend only to the union of its nodes' paths, under the tree mask restricted
to those keys; the chunks' outputs, concatenated, are the dense result. Which chains form a chunk is chosen by a small
dynamic programme (``chunk_bounds``) that minimises the pairs computed plus a fixed cost per chunk, so a few dozen
short chains (one-token answers) share one product instead of each paying for its own. A chunk's attention is the
eager one (matmul, float32 softmax, matmul): on CPU it beats SDPA per chunk, whose backward is slow there
(``benchmarks/tree_attention.py``).

It is exact: each query row sees the same keys, values and mask values as in the dense call (only fully masked
columns are left out, which weigh exactly zero after the softmax), so the outputs agree to float rounding, with or
without gradients, on any device. (In bfloat16 the softmax weights are rounded to bfloat16 before the value product,
as in transformers' eager attention: one rounding more than SDPA, of the size of the tree-vs-padded differences.) It
runs as a transformers attention function (``ATTENTION``) for the length of one forward (``tree_attention``), reading
the layout from a keyword argument of the forward.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from transformers import AttentionInterface
from transformers.integrations.sdpa_attention import sdpa_attention_forward

from llm_agents.sequences.prefix_tree import ROOT, PrefixTree

ATTENTION = "prefix_tree_chunked"
"""The name the chunked attention is registered under in transformers' ``AttentionInterface``."""

LAYOUT_KWARG = "prefix_tree_layout"
"""The forward keyword argument that carries the ``TreeLayout`` down to every attention layer."""

REPLACES = ("sdpa", "eager")
"""The attention implementations the chunked one stands in for (others, e.g. flash kernels, keep the dense path)."""

CALL_COST = 16384
"""The fixed cost of one chunk in (query, key) pairs, for choosing chunks. On a 2-core CPU with SmolLM2-135M and the
demo's trees, 1024, 4096 and 16384 time the same within noise (``benchmarks/tree_attention.py --call-cost``); the
largest gives the fewest chunks (4-6 for 550-800 nodes), so the fewest calls per layer."""


@dataclass(frozen=True)
class Chunk:
    """Packed rows ``start:stop`` attending to the key nodes ``keys`` (``None``: the nodes ``0:stop``, a chain from the
    root) under the additive ``mask`` ``(rows, keys)``: 0 where a row's node may attend a key, the dtype's lowest
    value elsewhere."""

    start: int
    stop: int
    keys: torch.Tensor | None
    mask: torch.Tensor


@dataclass(frozen=True)
class TreeLayout:
    """How one packed tree's attention is cut into chunks (see the module docstring)."""

    chunks: tuple[Chunk, ...]
    length: int

    @property
    def pairs(self) -> int:
        """The (query, key) pairs the chunks compute (the dense mask computes ``length ** 2``)."""
        return sum(chunk.mask.numel() for chunk in self.chunks)

    @classmethod
    def of(
        cls, tree: PrefixTree, *, dtype: torch.dtype, device: torch.device, call_cost: int | None = None
    ) -> TreeLayout:
        """The layout of all of ``tree``'s nodes in packed order, masks in ``dtype`` on ``device``; chunks chosen with
        ``call_cost`` (``CALL_COST`` by default)."""
        call_cost = CALL_COST if call_cost is None else call_cost
        chunks = []
        lowest = torch.finfo(dtype).min
        for start, stop in chunk_bounds(tree, call_cost):
            allowed = np.zeros((stop - start, stop), dtype=bool)  # a node's path holds no later node
            for row, node in enumerate(range(start, stop)):
                allowed[row, tree.path(node)] = True
            keys = np.flatnonzero(allowed.any(axis=0))
            mask = torch.full((stop - start, keys.size), lowest, dtype=dtype)
            mask.masked_fill_(torch.from_numpy(allowed[:, keys]), 0.0)
            index = None if keys.size == stop else torch.from_numpy(keys).to(device)
            chunks.append(Chunk(start, stop, index, mask.to(device)))
        return cls(tuple(chunks), len(tree))


def chains(tree: PrefixTree) -> list[tuple[int, int]]:
    """The tree's maximal chains (a node and its only child, and so on) as packed ranges ``(start, stop)``.

    A node starts a chain when it is a root or its parent has other children; insertion order makes each chain
    contiguous (a chain's nodes are created by one ``add``, one after the other)."""
    children = np.zeros(len(tree) + 1, dtype=np.int64)  # the last slot counts the roots
    np.add.at(children, np.asarray(tree.parents, dtype=np.int64), 1)
    starts = [node for node, parent in enumerate(tree.parents) if parent == ROOT or children[parent] > 1]
    return list(zip(starts, [*starts[1:], len(tree)], strict=True))


def chunk_bounds(tree: PrefixTree, call_cost: int, window: int = 64) -> list[tuple[int, int]]:
    """Runs of consecutive chains ``(start, stop)`` that cover the tree, chosen to minimise the pairs they compute
    (rows x the union of the rows' paths) plus ``call_cost`` per run; runs span at most ``window`` chains."""
    runs = chains(tree)
    if not runs:
        return []
    # each chain's keys: its first node's path and its own nodes
    reach = np.zeros((len(runs), len(tree)), dtype=bool)
    for index, (start, stop) in enumerate(runs):
        reach[index, tree.path(start)] = True
        reach[index, start:stop] = True
    best = np.full(len(runs) + 1, np.inf)
    best[0] = 0.0
    cut = np.zeros(len(runs) + 1, dtype=np.int64)
    for first in range(len(runs)):
        keys = np.zeros(len(tree), dtype=bool)
        for last in range(first, min(first + window, len(runs))):
            keys |= reach[last]
            rows = runs[last][1] - runs[first][0]
            cost = best[first] + rows * int(keys.sum()) + call_cost
            if cost < best[last + 1]:
                best[last + 1], cut[last + 1] = cost, first
    bounds, end = [], len(runs)
    while end > 0:
        first = int(cut[end])
        bounds.append((runs[first][0], runs[end - 1][1]))
        end = first
    return bounds[::-1]


def chunked_attention(
    module: nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    *,
    dropout: float = 0.0,
    scaling: float | None = None,
    **kwargs,
) -> tuple[torch.Tensor, None]:
    """Attention over the ``TreeLayout`` in ``kwargs[LAYOUT_KWARG]``, chunk by chunk; without one (a forward outside
    ``TreeBatch``), transformers' SDPA attention.

    Each chunk is the eager (matmul, float32 softmax, matmul) attention of its rows against its keys, the query heads
    that share a key-value head stacked as rows of one product (no repeated keys). Measured on CPU, this beats SDPA
    per chunk, whose backward is slow there (``benchmarks/tree_attention.py``)."""
    layout: TreeLayout | None = kwargs.pop(LAYOUT_KWARG, None)
    if layout is None:
        return sdpa_attention_forward(
            module, query, key, value, attention_mask, dropout=dropout, scaling=scaling, **kwargs
        )
    if kwargs.get("sliding_window") or kwargs.get("softcap"):
        raise NotImplementedError("The chunked tree attention has no sliding window or soft cap; use the dense one.")
    batch, heads, length, width = query.shape
    key_heads = key.shape[1]
    if batch != 1 or length != layout.length or key.shape[2] != layout.length:
        raise ValueError(f"A tree layout of {layout.length} nodes needs one packed row of them, got {query.shape}.")
    scaling = width**-0.5 if scaling is None else scaling
    groups = heads // key_heads
    softmax_dtype = torch.promote_types(query.dtype, torch.float32)  # float32, or float64 for a float64 model
    outputs = []
    for chunk in layout.chunks:
        rows = chunk.stop - chunk.start
        if chunk.keys is None:
            keys, values = key[:, :, : chunk.stop], value[:, :, : chunk.stop]
        else:
            keys, values = key.index_select(2, chunk.keys), value.index_select(2, chunk.keys)
        stacked = query[:, :, chunk.start : chunk.stop].reshape(1, key_heads, groups * rows, width)
        scores = torch.matmul(stacked, keys.transpose(2, 3)) * scaling
        scores = (scores.view(1, key_heads, groups, rows, -1) + chunk.mask).view(1, key_heads, groups * rows, -1)
        weights = torch.softmax(scores, dim=-1, dtype=softmax_dtype).to(query.dtype)
        weights = nn.functional.dropout(weights, p=dropout, training=module.training)
        output = torch.matmul(weights, values).view(1, heads, rows, width)
        outputs.append(output.transpose(1, 2))
    return torch.cat(outputs, dim=1), None


AttentionInterface.register(ATTENTION, chunked_attention)


def supports_tree_attention(model: nn.Module) -> bool:
    """Whether ``model`` computes attention through transformers' interface with an implementation ours replaces,
    without what the chunks do not implement: a soft cap on the attention logits or a sliding window (Gemma-2 has
    both; such models keep the dense tree mask)."""
    config = getattr(model, "config", None)
    if getattr(config, "attn_logit_softcapping", None):
        return False
    if getattr(config, "sliding_window", None) and getattr(config, "use_sliding_window", True):
        return False
    return getattr(config, "_attn_implementation", None) in REPLACES


@contextlib.contextmanager
def tree_attention(model: nn.Module) -> Iterator[None]:
    """Inside this block ``model``'s attention layers run ``chunked_attention`` (the dense SDPA or eager one again
    after it, even on an error). Only the forward runs inside: autograd keeps what each call computed."""
    config = model.config
    previous = config._attn_implementation
    config._attn_implementation = ATTENTION
    try:
        yield
    finally:
        config._attn_implementation = previous


def chunked_forward(model: nn.Module, tree: PrefixTree, dtype: torch.dtype, device: torch.device, **inputs):
    """``model(**inputs)`` over all of ``tree``'s nodes, packed in one row, with the chunked attention: the layout
    goes down to every attention layer, and a placeholder 4D mask (transformers passes a 4D mask through untouched)
    stands in for the dense one. ``dtype`` is the model's."""
    placeholder = torch.zeros((1, 1, 1, 1), dtype=dtype, device=device)
    layout = TreeLayout.of(tree, dtype=dtype, device=device)
    with tree_attention(model):
        return model(attention_mask=placeholder, **inputs, **{LAYOUT_KWARG: layout})
