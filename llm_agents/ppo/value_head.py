"""The critic: a linear value head on the policy's last hidden state, shaped like trl's ``v_head``."""

from __future__ import annotations

import math

import torch
from torch import nn


class ValueHead(nn.Module):
    """``Dropout -> Linear(hidden_size, 1)`` on the last (post-norm) hidden state, one value per position.

    The parameter names (``summary.weight``, ``summary.bias``) are those of trl's ``ValueHead``, so a trl state dict
    loads after stripping its ``v_head.`` prefix. The head lives outside the peft model, in float32, whatever the
    model's dtype. Dropout only acts in train mode; ``PPOTrainer`` runs every forward in eval mode, as trl 0.11 did.

    Args:
        hidden_size: the model's hidden size.
        dropout: dropout probability before the linear layer (trl's ``summary_dropout_prob``, default 0.1).
        generator: seeds the initialisation (``nn.Linear``'s default scheme) without touching the global RNG.
    """

    def __init__(self, hidden_size: int, dropout: float = 0.1, *, generator: torch.Generator | None = None) -> None:
        super().__init__()
        if isinstance(hidden_size, bool) or not isinstance(hidden_size, int) or hidden_size < 1:
            raise ValueError(f"ValueHead hidden_size must be a positive integer, got {hidden_size!r}.")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"ValueHead dropout must be in [0, 1), got {dropout!r}.")
        self.dropout = nn.Dropout(dropout) if dropout else nn.Identity()
        self.summary = nn.Linear(hidden_size, 1, dtype=torch.float32)
        if generator is not None:
            # nn.Linear.reset_parameters, drawn from the given generator.
            nn.init.kaiming_uniform_(self.summary.weight, a=math.sqrt(5), generator=generator)
            bound = 1.0 / math.sqrt(hidden_size)
            nn.init.uniform_(self.summary.bias, -bound, bound, generator=generator)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        """``(..., hidden_size)`` hidden states to ``(...)`` float32 values."""
        hidden_states = self.dropout(hidden_states)
        return self.summary(hidden_states.to(self.summary.weight.dtype)).squeeze(-1)


def value_head_state_from_trl(trl_state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Pick a trl ``AutoModelForCausalLMWithValueHead`` value head (``v_head.summary.*``) out of a trl state dict."""
    prefix = "v_head."
    state = {key[len(prefix) :]: value for key, value in trl_state.items() if key.startswith(prefix)}
    if set(state) != {"summary.weight", "summary.bias"}:
        raise ValueError(
            f"Expected v_head.summary.weight and v_head.summary.bias in the trl state dict, found {sorted(state)}."
        )
    return state
