"""trl 0.11's training statistics (the scalar ones), under trl's names.

``minibatch_stats`` is computed for every minibatch and averaged over all of them (trl's ``stack_dicts`` + mean);
``step_stats`` is trl's ``record_step_stats`` on the whole batch.
"""

from __future__ import annotations

import warnings

import torch

from llm_agents.ppo import maths
from llm_agents.sequences.forward import ForwardOutput


@torch.no_grad()
def minibatch_stats(
    pg_loss: torch.Tensor,
    vf_loss: torch.Tensor,
    loss: torch.Tensor,
    new: ForwardOutput,
    old_logprobs: torch.Tensor,
    old_values: torch.Tensor,
    advantages: torch.Tensor,
    returns: torch.Tensor,
    ratio: torch.Tensor,
    mask: torch.Tensor,
    pg_clipfrac: torch.Tensor,
    vf_clipfrac: torch.Tensor,
) -> dict[str, torch.Tensor]:
    """The statistics of trl's ``PPOTrainer.loss`` for one minibatch (keys without the ``ppo/`` prefix)."""
    new_logprobs = new.logprobs.detach()
    new_values = new.values.detach()
    return {
        "loss/policy": pg_loss.detach(),
        "loss/value": vf_loss.detach(),
        "loss/total": loss.detach(),
        "policy/entropy": maths.masked_mean(maths.entropy_from_logits(new.logits.detach()), mask),
        "policy/approxkl": maths.approx_kl(new_logprobs, old_logprobs, mask),
        "policy/policykl": maths.policy_kl(new_logprobs, old_logprobs, mask),
        "policy/clipfrac": pg_clipfrac,
        "policy/advantages_mean": maths.masked_mean(advantages, mask),
        "policy/ratio_mean": maths.masked_mean(ratio.detach(), mask),
        "returns/mean": maths.masked_mean(returns, mask),
        "returns/var": maths.masked_var(returns, mask),
        "val/vpred": maths.masked_mean(new_values, mask),
        "val/error": maths.masked_mean((new_values - returns) ** 2, mask),
        "val/clipfrac": vf_clipfrac,
        "val/mean": maths.masked_mean(old_values, mask),
        "val/var": maths.masked_var(old_values, mask),
    }


def step_stats(
    scores: torch.Tensor,
    logprobs: torch.Tensor,
    kls: torch.Tensor,
    non_score_rewards: torch.Tensor,
    mask: torch.Tensor,
    kl_coef: float,
    queries: list[torch.Tensor],
    responses: list[torch.Tensor],
) -> dict[str, float]:
    """trl's ``record_step_stats`` (the scalar ones)."""
    kl_per_sample = (kls * mask).sum(dim=-1)
    mean_kl = float(kl_per_sample.mean())
    if mean_kl < -1.0:
        warnings.warn(
            f"The KL to the reference is negative ({mean_kl:.2f}): responses may not have been sampled from "
            "this policy (check generation settings).",
            stacklevel=3,
        )
    query_lengths = torch.tensor([len(q) for q in queries], dtype=torch.float)
    response_lengths = torch.tensor([len(r) for r in responses], dtype=torch.float)
    return {
        "objective/kl": mean_kl,
        "objective/kl_coef": float(kl_coef),
        "objective/entropy": float((-logprobs * mask).sum(dim=-1).mean()),
        "ppo/mean_non_score_reward": float(maths.masked_mean(non_score_rewards, mask)),
        "ppo/mean_scores": float(scores.mean()),
        "ppo/std_scores": float(scores.std()) if scores.numel() > 1 else float("nan"),
        "tokens/queries_len_mean": float(query_lengths.mean()),
        "tokens/queries_len_std": float(query_lengths.std()) if len(queries) > 1 else float("nan"),
        "tokens/responses_len_mean": float(response_lengths.mean()),
        "tokens/responses_len_std": float(response_lengths.std()) if len(responses) > 1 else float("nan"),
    }
