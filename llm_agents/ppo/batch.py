"""Packing ragged (query, response) pairs into one padded batch, and the one forward pass PPO needs.

Layout: each sample is ``query + response``, **left**-padded so every response ends at the last column, with
``position_ids`` taken from the attention mask (0, 1, ... from each sample's first real token). That is the same
computation as trl 0.11's right padding with positions ``0..n-1`` (causal attention never looks at pads in either
layout), but it lets one ``logits_to_keep=R+1`` slice (R = the longest response) hold every position that predicts a
response token. So the vocabulary projection and its log-softmax run on the response positions only, never over the
whole sequence.

Response tensors are ``(B, R)`` and right-aligned: sample ``i``'s ``r_i`` tokens sit in the last ``r_i`` columns and
``mask`` is 1 exactly there.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from llm_agents.ppo.maths import logprobs_of_tokens


@dataclass(frozen=True)
class PackedBatch:
    """A left-padded batch of ``query + response`` sequences.

    Attributes:
        input_ids: ``(B, L)`` token ids, pads on the left.
        attention_mask: ``(B, L)`` 1 on real tokens.
        position_ids: ``(B, L)`` positions counted from each sample's first real token (0 on pads).
        response_tokens: ``(B, R)`` the response tokens, right-aligned (pad id where ``mask`` is 0).
        mask: ``(B, R)`` float, 1 on response tokens.
    """

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    position_ids: torch.Tensor
    response_tokens: torch.Tensor
    mask: torch.Tensor

    @property
    def response_width(self) -> int:
        return self.response_tokens.shape[1]

    def select(self, indices: torch.Tensor) -> PackedBatch:
        """The rows ``indices``, with the pad columns that all of them share trimmed off the left."""
        attention_mask = self.attention_mask[indices]
        first_real = int(attention_mask.argmax(dim=1).min())
        return PackedBatch(
            input_ids=self.input_ids[indices, first_real:],
            attention_mask=attention_mask[:, first_real:],
            position_ids=self.position_ids[indices, first_real:],
            response_tokens=self.response_tokens[indices],
            mask=self.mask[indices],
        )


def pack(
    queries: list[torch.Tensor], responses: list[torch.Tensor], pad_token_id: int, device: torch.device
) -> PackedBatch:
    """Concatenate each query with its response and left-pad them into one batch (see the module docstring)."""
    lengths = [len(q) + len(r) for q, r in zip(queries, responses, strict=True)]
    width = max(lengths)
    response_width = max(len(r) for r in responses)
    batch_size = len(queries)
    input_ids = torch.full((batch_size, width), pad_token_id, dtype=torch.long)
    attention_mask = torch.zeros((batch_size, width), dtype=torch.long)
    response_tokens = torch.full((batch_size, response_width), pad_token_id, dtype=torch.long)
    mask = torch.zeros((batch_size, response_width), dtype=torch.float32)
    for row, (query, response) in enumerate(zip(queries, responses, strict=True)):
        sequence = torch.cat([query, response]).to(torch.long)
        input_ids[row, width - len(sequence) :] = sequence
        attention_mask[row, width - len(sequence) :] = 1
        response_tokens[row, response_width - len(response) :] = response
        mask[row, response_width - len(response) :] = 1.0
    position_ids = (attention_mask.cumsum(dim=1) - 1).clamp(min=0)
    return PackedBatch(
        input_ids=input_ids.to(device),
        attention_mask=attention_mask.to(device),
        position_ids=position_ids.to(device),
        response_tokens=response_tokens.to(device),
        mask=mask.to(device),
    )


@dataclass
class ForwardOutput:
    """What one forward pass gives PPO, all ``(B, R)`` (``logits`` is ``(B, R, vocab)``), float32."""

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


def accepts_logits_to_keep(model: nn.Module) -> bool:
    """Whether the underlying causal LM's ``forward`` takes ``logits_to_keep`` (transformers >= 4.50 models do)."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return "logits_to_keep" in inspect.signature(base.forward).parameters


def response_forward(
    model: nn.Module,
    batch: PackedBatch,
    value_head: nn.Module | None,
    *,
    use_logits_to_keep: bool = True,
) -> ForwardOutput:
    """One forward of ``model`` on ``batch``: log-probs of the response tokens, their logits and (optionally) values.

    The logits at position ``t`` predict token ``t + 1``, so the ``R`` response tokens are predicted by the ``R``
    positions before the last one; the value of a response token is the value head on that same position's last
    hidden state (trl's alignment). With ``use_logits_to_keep`` only those ``R + 1`` positions go through the LM head.
    """
    width = batch.response_width
    kwargs = {
        "input_ids": batch.input_ids,
        "attention_mask": batch.attention_mask,
        "position_ids": batch.position_ids,
        "use_cache": False,
        "output_hidden_states": value_head is not None,
    }
    if use_logits_to_keep:
        kwargs["logits_to_keep"] = width + 1
    output = model(**kwargs)
    logits = output.logits[:, -(width + 1) : -1].float()
    logprobs = logprobs_of_tokens(logits, batch.response_tokens)
    values = None
    if value_head is not None:
        values = value_head(output.hidden_states[-1][:, -(width + 1) : -1])
    return ForwardOutput(logprobs=logprobs, logits=logits, values=values)


def check_batch(
    queries: Sequence[torch.Tensor], responses: Sequence[torch.Tensor], batch_size: int
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Check that there are ``batch_size`` non-empty 1-D token-id tensors of each; return them as CPU lists."""
    checked = []
    for name, tensors in (("queries", queries), ("responses", responses)):
        tensors = list(tensors)
        if len(tensors) != batch_size:
            raise ValueError(f"step() got {len(tensors)} {name} but config.batch_size is {batch_size}.")
        for i, tensor in enumerate(tensors):
            if not isinstance(tensor, torch.Tensor) or tensor.dim() != 1 or tensor.is_floating_point():
                raise ValueError(f"{name}[{i}] must be a 1-D tensor of token ids, got {tensor!r}.")
            if tensor.numel() == 0:
                raise ValueError(f"{name}[{i}] is empty; every query and response needs at least one token.")
        checked.append([t.cpu() for t in tensors])
    return checked[0], checked[1]


def check_scores(
    scores: Sequence[float] | Sequence[torch.Tensor] | torch.Tensor, batch_size: int, device: torch.device
) -> torch.Tensor:
    """``batch_size`` finite scores as a 1-D float tensor on ``device`` (a float list gives float32, as in trl)."""
    if isinstance(scores, torch.Tensor):
        tensor = scores.detach().reshape(-1)
    else:
        tensor = torch.stack([torch.as_tensor(s).detach().reshape(()) for s in scores])
    if not tensor.is_floating_point():
        tensor = tensor.float()
    if tensor.numel() != batch_size:
        raise ValueError(f"step() got {tensor.numel()} scores but config.batch_size is {batch_size}.")
    if not bool(torch.isfinite(tensor).all()):
        raise ValueError(f"Scores must be finite, got {tensor.tolist()}.")
    return tensor.to(device)
