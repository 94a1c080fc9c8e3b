"""The pure tensor maths of GRPO (group-relative policy optimisation), critic-free, with TRL's loss variants.

GRPO (Shao et al. 2024, DeepSeekMath) replaces PPO's value function by a group baseline: the advantage of an answer is
its reward minus the mean reward of the answers in its group, optionally divided by the group's standard deviation.
In our games states repeat exactly, so a group is the set of answers given to the same prompt state (step-level
groups, as GiGPO does; ``group_ids``), or ``num_generations`` answers sampled for one state. A group of one answer has
no baseline: its advantage is 0 (it teaches nothing), which ``group_advantages`` reports in its count of singletons.

The loss is the clipped ratio objective per response token, plus ``beta`` times the k3 KL estimate to the reference
(``exp(ref - logp) - (ref - logp) - 1``, TRL's), normalised as TRL's ``loss_type`` names it:

- ``grpo``: each answer's tokens averaged, then the answers averaged (the paper's);
- ``bnpo`` / ``dapo``: every token of the batch averaged together (DAPO's token-level normalisation; the two are one
  in a single process);
- ``dr_grpo``: the token sum divided by ``answers x max_length`` (Dr. GRPO: no length bias).

Why by hand: TRL's ``GRPOTrainer`` computes these inside its training step on its own batches; they are a few lines
each and pinned here by golden tests against hand-computed numbers (``tests/llm_agents/test_grpo_maths.py``).
"""

from __future__ import annotations

from typing import get_args

import torch

from llm_agents.grpo.config import LossType, ScaleRewards

LOSS_TYPES: tuple[str, ...] = get_args(LossType)
STD_EPS = 1e-4
"""Added to a group's standard deviation before dividing by it (TRL's value)."""


def group_advantages(
    rewards: torch.Tensor, group_ids: torch.Tensor, scale: ScaleRewards = "group"
) -> tuple[torch.Tensor, int]:
    """Each answer's reward minus its group's mean (divided by the group's unbiased std + ``STD_EPS`` when
    ``scale="group"``), and how many answers were alone in their group (advantage 0).

    Example:
        >>> advantages, alone = group_advantages(torch.tensor([1.0, 3.0, 5.0]), torch.tensor([0, 0, 1]), "none")
        >>> advantages.tolist(), alone
        ([-1.0, 1.0, 0.0], 1)
    """
    if rewards.shape != group_ids.shape or rewards.dim() != 1:
        raise ValueError(f"rewards {tuple(rewards.shape)} and group_ids {tuple(group_ids.shape)} must be equal 1-d.")
    if scale not in get_args(ScaleRewards):
        raise ValueError(f"Invalid scale {scale!r}: expected one of {list(get_args(ScaleRewards))}.")
    _, inverse, counts = torch.unique(group_ids, return_inverse=True, return_counts=True)
    rewards = rewards.float()
    sums = torch.zeros(len(counts)).index_add_(0, inverse, rewards)
    means = sums / counts
    centred = rewards - means[inverse]
    if scale == "group":
        squares = torch.zeros(len(counts)).index_add_(0, inverse, centred**2)
        std = torch.sqrt(squares / (counts - 1).clamp(min=1))
        centred = centred / (std[inverse] + STD_EPS)
    alone = counts[inverse] == 1
    return torch.where(alone, torch.zeros_like(centred), centred), int(alone.sum())


def k3_kl(logprobs: torch.Tensor, ref_logprobs: torch.Tensor) -> torch.Tensor:
    """The per-token k3 estimate of KL(policy || reference): ``exp(ref - logp) - (ref - logp) - 1`` (>= 0)."""
    delta = ref_logprobs - logprobs
    return torch.exp(delta) - delta - 1


def grpo_loss(
    logprobs: torch.Tensor,
    old_logprobs: torch.Tensor,
    advantages: torch.Tensor,
    mask: torch.Tensor,
    *,
    ref_logprobs: torch.Tensor | None = None,
    beta: float = 0.0,
    epsilon_low: float = 0.2,
    epsilon_high: float = 0.2,
    loss_type: LossType = "grpo",
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """The GRPO loss of a batch of answers ``(answers, length)`` with a 0/1 ``mask`` on the response tokens.

    ``advantages`` is one per answer; ``weights`` (optional, one per answer) counts duplicate answers computed once,
    so a batch packed to its distinct rows gives the loss (and gradient) of the full batch.
    """
    if loss_type not in LOSS_TYPES:
        raise ValueError(f"Unknown loss_type {loss_type!r}: expected one of {list(LOSS_TYPES)} (TRL's names).")
    if beta < 0:
        raise ValueError(f"beta (the KL coefficient) must be >= 0, got {beta!r}.")
    if beta > 0 and ref_logprobs is None:
        raise ValueError("beta > 0 needs ref_logprobs (the reference policy's log-probabilities).")
    ratio = torch.exp(logprobs - old_logprobs)
    advantage = advantages.float()[:, None]
    clipped = torch.clamp(ratio, 1 - epsilon_low, 1 + epsilon_high)
    per_token = -torch.minimum(ratio * advantage, clipped * advantage)
    if beta > 0:
        per_token = per_token + beta * k3_kl(logprobs, ref_logprobs)  # type: ignore[arg-type]
    mask = mask.float()
    count = torch.ones(len(mask)) if weights is None else weights.float()
    answers = count.sum()
    if loss_type == "grpo":
        per_answer = (per_token * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)
        return (per_answer * count).sum() / answers
    token_sum = ((per_token * mask).sum(dim=1) * count).sum()
    if loss_type == "dr_grpo":
        return token_sum / (answers * mask.shape[1])
    return token_sum / ((mask.sum(dim=1) * count).sum()).clamp(min=1)
