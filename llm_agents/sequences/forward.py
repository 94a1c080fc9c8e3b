"""(prompt, answer) sequences as a batch for a causal LM, and the one forward pass that reads the answer positions.

Two layouts, one result (``ForwardOutput``, answer positions right-aligned in ``(B, R)`` tensors):

- ``PaddedBatch`` (``batching="padded"``, the plain path): each sequence is a row, **left**-padded so every answer
  ends at the last column, ``position_ids`` counted from each row's first real token. One ``logits_to_keep=R+1``
  slice (R = the longest answer) then holds every position that predicts an answer token, so the vocabulary
  projection runs on those positions only. The same numbers as right padding (causal attention never looks at pads).
- ``TreeBatch`` (``batching="tree"``): the *distinct* sequences packed as a prefix tree (``prefix_tree.py``) into one
  row with a tree-shaped mask: a repeated sequence or a shared prefix is computed once, and every row reads its
  positions from the shared nodes. Reading through an index keeps the mathematics: a duplicated row's loss and
  gradient flow back through the same node as often as it is read, exactly as if it had been computed twice. Its
  attention computes only the pairs the tree allows (``tree_attention.py``), not the dense T x T mask's, on CPU.

We chose the tree packing over a shared-prefix KV cache because one packed forward serves the training passes
(with gradients) as well as sampling, and the tree captures every shared prefix, not only a common first part: the
IPD training prompts share 39 tokens with all others and their whole payoff table within one option order.

The logits at position ``t`` predict token ``t + 1``, so the ``r`` answer tokens are predicted by the ``r`` positions
before the last one; the value of an answer token is the value head on that same position's last hidden state
(trl's alignment).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, get_args

import torch
from torch import nn

from llm_agents.sequences import Batching
from llm_agents.sequences.prefix_tree import PrefixTree
from llm_agents.sequences.tree_attention import chunked_forward, supports_tree_attention
from matrix_games.core.validation import check_choice

TreeAttention = Literal["auto", "chunked", "dense"]
TREE_ATTENTIONS: tuple[str, ...] = get_args(TreeAttention)


def at_least_float32(tensor: torch.Tensor) -> torch.Tensor:
    """``tensor`` in float32, or in float64 when it is float64 (a float64 model is computed in float64 throughout,
    so that the tests can compare layouts far below float32's rounding)."""
    return tensor if tensor.dtype == torch.float64 else tensor.float()


def logprobs_of_tokens(logits: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """Log-probability of each of ``tokens`` under ``logits`` (``(..., vocab)`` and ``(...)``), in float32 (float64
    for float64 logits): ``logit[token] - logsumexp(logits)``, without materialising the log-softmax of the whole
    vocabulary."""
    logits = at_least_float32(logits)
    picked = torch.gather(logits, -1, tokens.unsqueeze(-1)).squeeze(-1)
    return picked - torch.logsumexp(logits, dim=-1)


def model_dtype(model: nn.Module) -> torch.dtype:
    """The dtype the model computes in (its input embeddings'), for attention masks."""
    return model.get_input_embeddings().weight.dtype


@dataclass
class ForwardOutput:
    """What one forward pass gives, all ``(B, R)`` (``logits`` is ``(B, R, vocab)``), float32."""

    logprobs: torch.Tensor
    logits: torch.Tensor
    values: torch.Tensor | None

    def detached(self) -> ForwardOutput:
        """The same numbers, cut from the autograd graph."""
        values = None if self.values is None else self.values.detach()
        return ForwardOutput(self.logprobs.detach(), self.logits.detach(), values)

    def rows(self, indices: torch.Tensor) -> ForwardOutput:
        """The rows ``indices`` (still attached to the graph, if any)."""
        values = None if self.values is None else self.values[indices]
        return ForwardOutput(self.logprobs[indices], self.logits[indices], values)


def _answer_layout(
    responses: Sequence[torch.Tensor], pad_token_id: int, width: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The right-aligned ``(B, R)`` answer tokens (pad elsewhere) and their float mask; R is the longest answer unless
    ``width`` is given (a minibatch keeps its batch's width, so its rows line up with the batch's)."""
    width = max(len(r) for r in responses) if width is None else width
    tokens = torch.full((len(responses), width), pad_token_id, dtype=torch.long)
    mask = torch.zeros((len(responses), width), dtype=torch.float32)
    for row, response in enumerate(responses):
        tokens[row, width - len(response) :] = response
        mask[row, width - len(response) :] = 1.0
    return tokens, mask


@dataclass(frozen=True)
class PaddedBatch:
    """A left-padded batch of ``query + response`` sequences (see the module docstring)."""

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    position_ids: torch.Tensor
    response_tokens: torch.Tensor
    mask: torch.Tensor

    @property
    def response_width(self) -> int:
        return self.response_tokens.shape[1]

    def select(self, indices: torch.Tensor) -> PaddedBatch:
        """The rows ``indices``, with the pad columns that all of them share trimmed off the left."""
        attention_mask = self.attention_mask[indices]
        first_real = int(attention_mask.argmax(dim=1).min())
        return PaddedBatch(
            input_ids=self.input_ids[indices, first_real:],
            attention_mask=attention_mask[:, first_real:],
            position_ids=self.position_ids[indices, first_real:],
            response_tokens=self.response_tokens[indices],
            mask=self.mask[indices],
        )

    def sizes(self) -> dict[str, float]:
        """``batch/tokens`` (real tokens of all rows) and ``batch/computed_tokens`` (what a forward computes)."""
        return {
            "batch/tokens": float(self.attention_mask.sum()),
            "batch/computed_tokens": float(self.input_ids.numel()),
        }

    def forward(self, model: nn.Module, value_head: nn.Module | None) -> ForwardOutput:
        width = self.response_width
        output = model(
            input_ids=self.input_ids,
            attention_mask=self.attention_mask,
            position_ids=self.position_ids,
            use_cache=False,
            output_hidden_states=value_head is not None,
            logits_to_keep=width + 1,
        )
        logits = at_least_float32(output.logits[:, -(width + 1) : -1])
        values = None if value_head is None else value_head(output.hidden_states[-1][:, -(width + 1) : -1])
        return ForwardOutput(logprobs_of_tokens(logits, self.response_tokens), logits, values)


def pack(
    queries: Sequence[torch.Tensor], responses: Sequence[torch.Tensor], pad_token_id: int, device: torch.device
) -> PaddedBatch:
    """Concatenate each query with its response and left-pad them into one batch."""
    width = max(len(q) + len(r) for q, r in zip(queries, responses, strict=True))
    input_ids = torch.full((len(queries), width), pad_token_id, dtype=torch.long)
    attention_mask = torch.zeros((len(queries), width), dtype=torch.long)
    for row, (query, response) in enumerate(zip(queries, responses, strict=True)):
        sequence = torch.cat([query, response]).to(torch.long)
        input_ids[row, width - len(sequence) :] = sequence
        attention_mask[row, width - len(sequence) :] = 1
    position_ids = (attention_mask.cumsum(dim=1) - 1).clamp(min=0)
    tokens, mask = _answer_layout(responses, pad_token_id)
    return PaddedBatch(
        input_ids.to(device), attention_mask.to(device), position_ids.to(device), tokens.to(device), mask.to(device)
    )


@dataclass(frozen=True)
class TreeBatch:
    """The distinct ``query + response`` sequences of a batch as one prefix tree (see the module docstring).

    Attributes:
        queries, responses: The batch's rows (kept to build minibatches).
        tree: The prefix tree of every row's sequence.
        keep: ``(K,)`` the nodes whose outputs some answer position reads, in packed order.
        gather: ``(B, R)`` for each right-aligned answer position, its index in ``keep`` (0 where ``mask`` is 0).
        response_tokens, mask: as ``PaddedBatch``'s.
        attention: ``"chunked"`` computes only the (query, key) pairs the tree allows (``tree_attention.py``,
            where the model runs SDPA or eager attention; else dense); ``"dense"`` is the model's own attention under
            the whole T x T tree mask; ``"auto"`` is chunked on CPU, where it was measured faster, and dense
            elsewhere. The same numbers up to float rounding; the dense one is kept for comparison.
    """

    queries: list[torch.Tensor] = field(repr=False)
    responses: list[torch.Tensor] = field(repr=False)
    tree: PrefixTree = field(repr=False)
    keep: torch.Tensor
    gather: torch.Tensor
    response_tokens: torch.Tensor
    mask: torch.Tensor
    attention: TreeAttention = "auto"

    @property
    def response_width(self) -> int:
        return self.response_tokens.shape[1]

    def sizes(self) -> dict[str, float]:
        """``batch/tokens`` (real tokens of all rows) and ``batch/computed_tokens`` (the distinct ones computed)."""
        tokens = sum(len(q) + len(r) for q, r in zip(self.queries, self.responses, strict=True))
        return {"batch/tokens": float(tokens), "batch/computed_tokens": float(len(self.tree))}

    def select(self, indices: torch.Tensor) -> TreeBatch:
        """The rows ``indices`` as a tree of their own."""
        rows = indices.tolist()
        queries, responses = [self.queries[i] for i in rows], [self.responses[i] for i in rows]
        return pack_tree(
            queries, responses, 0, self.response_tokens.device, width=self.response_width, attention=self.attention
        )

    def forward(self, model: nn.Module, value_head: nn.Module | None) -> ForwardOutput:
        device, dtype = self.response_tokens.device, model_dtype(model)
        nodes = range(len(self.tree))
        input_ids, position_ids = self.tree.inputs(nodes, device)
        inputs = dict(
            input_ids=input_ids,
            position_ids=position_ids,
            use_cache=False,
            output_hidden_states=value_head is not None,
            logits_to_keep=self.keep,
        )
        chunked = self.attention == "chunked" or (self.attention == "auto" and device.type == "cpu")
        if chunked and supports_tree_attention(model):
            output = chunked_forward(model, self.tree, dtype, device, **inputs)
        else:
            mask = self.tree.attention_mask(nodes, len(self.tree), dtype=dtype, device=device)
            output = model(attention_mask=mask, **inputs)
        logits = at_least_float32(output.logits[0][self.gather])
        values = None
        if value_head is not None:
            values = value_head(output.hidden_states[-1][0, self.keep][self.gather])
        return ForwardOutput(logprobs_of_tokens(logits, self.response_tokens), logits, values)


def pack_tree(
    queries: Sequence[torch.Tensor],
    responses: Sequence[torch.Tensor],
    pad_token_id: int,
    device: torch.device,
    *,
    width: int | None = None,
    attention: TreeAttention = "auto",
) -> TreeBatch:
    """The batch as a ``TreeBatch``: one prefix tree of its sequences and where each answer position reads."""
    attention = check_choice("attention", attention, TREE_ATTENTIONS)
    tree = PrefixTree()
    reads: list[list[int]] = []  # per row, the nodes that predict its answer tokens
    for query, response in zip(queries, responses, strict=True):
        path = tree.add([*query.tolist(), *response.tolist()])
        start = len(query) - 1
        reads.append(path[start : start + len(response)])
    keep = sorted({node for row in reads for node in row})
    index = {node: i for i, node in enumerate(keep)}
    tokens, mask = _answer_layout(responses, pad_token_id, width)
    gather = torch.zeros(tokens.shape, dtype=torch.long)
    for row, nodes in enumerate(reads):
        gather[row, tokens.shape[1] - len(nodes) :] = torch.tensor([index[n] for n in nodes], dtype=torch.long)
    return TreeBatch(
        list(queries),
        list(responses),
        tree,
        torch.tensor(keep, dtype=torch.long, device=device),
        gather.to(device),
        tokens.to(device),
        mask.to(device),
        attention,
    )


def make_batch(
    queries: Sequence[torch.Tensor],
    responses: Sequence[torch.Tensor],
    pad_token_id: int,
    device: torch.device,
    batching: Batching = "tree",
) -> PaddedBatch | TreeBatch:
    """The batch in the layout ``batching`` names."""
    if batching == "tree":
        return pack_tree(queries, responses, pad_token_id, device)
    return pack(queries, responses, pad_token_id, device)


def response_forward(
    model: nn.Module, batch: PaddedBatch | TreeBatch, value_head: nn.Module | None = None
) -> ForwardOutput:
    """One forward of ``model`` on ``batch``: log-probs of the answer tokens, their logits and (optionally) values."""
    return batch.forward(model, value_head)
