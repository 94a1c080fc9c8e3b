"""The inputs of ``PPOTrainer.step`` checked: token-id tensors and finite scores, each problem named."""

from __future__ import annotations

from collections.abc import Sequence

import torch


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
