"""The PPO epochs of one step: shuffled minibatches, the clipped losses, accumulation, clipping, the ratio valve, and a
guard that stops at the first non-finite number instead of writing it into the weights.

Kept apart from the trainer's bookkeeping so the loop reads top to bottom. Every forward here goes through the
batch's own layout (``sequences.forward``), so the tree and the padded layouts train the same way.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import torch
from torch import nn

from llm_agents.ppo import maths
from llm_agents.ppo.config import PPOConfig
from llm_agents.ppo.stats import minibatch_stats
from llm_agents.sequences.forward import ForwardOutput, PaddedBatch, TreeBatch


class NonFiniteError(FloatingPointError):
    """A PPO statistic became NaN or infinite; the weights were not updated with it.

    Attributes:
        statistic: Which number: ``"loss"``, ``"gradient norm"`` or ``"updated weights"``.
        value: Its value (NaN or an infinity; for weights, how many of them).
    """

    def __init__(self, statistic: str, value: float) -> None:
        self.statistic, self.value = statistic, value
        super().__init__(f"the PPO {statistic} is not finite ({value})")


@dataclass
class Targets:
    """What the epochs train towards, per answer position ``(B, R)``: the old policy's log-probs and values, the
    (whitened) advantages and the returns."""

    old_logprobs: torch.Tensor
    old_values: torch.Tensor
    advantages: torch.Tensor
    returns: torch.Tensor

    def rows(self, indices: torch.Tensor) -> Targets:
        return Targets(*(t[indices] for t in (self.old_logprobs, self.old_values, self.advantages, self.returns)))


def run_epochs(
    config: PPOConfig,
    model: nn.Module,
    value_head: nn.Module,
    optimizer: torch.optim.Optimizer,
    parameters: list[nn.Parameter],
    generator: torch.Generator,
    batch: PaddedBatch | TreeBatch,
    targets: Targets,
    first_forward: ForwardOutput | None = None,
) -> dict[str, float]:
    """The PPO epochs; returns the train statistics averaged over every minibatch, as trl's.

    ``first_forward``, when given, is a whole-batch forward at the current weights with its graph, used (in the
    first minibatch's row order) instead of a new forward for the very first minibatch.
    """
    accumulation = config.gradient_accumulation_steps
    device = targets.old_logprobs.device
    every_stat: list[dict[str, torch.Tensor]] = []
    optimizer.zero_grad(set_to_none=True)
    epochs_run = 0
    for _ in range(config.ppo_epochs):
        epochs_run += 1
        order = torch.randperm(config.batch_size, generator=generator).to(device)
        for start in range(0, config.batch_size, config.backward_batch_size):
            step_rows = order[start : start + config.backward_batch_size]
            for mini_start in range(0, config.backward_batch_size, config.mini_batch_size):
                rows = step_rows[mini_start : mini_start + config.mini_batch_size]
                forward = None if first_forward is None else first_forward.rows(rows)
                first_forward = None
                loss, stats = minibatch_loss(config, model, value_head, batch.select(rows), targets.rows(rows), forward)
                if not bool(torch.isfinite(loss)):
                    raise NonFiniteError("loss", float(loss))
                (loss / accumulation).backward()
                every_stat.append(stats)
            optimizer_step(config, optimizer, parameters)
        if config.early_stopping and every_stat[-1]["policy/policykl"] > 1.5 * config.target_kl:
            break
    stats = {key: torch.stack([s[key] for s in every_stat]).mean() for key in every_stat[0]}
    result = {f"ppo/{key}": float(value) for key, value in stats.items()}
    result["ppo/epochs"] = float(epochs_run)  # fewer than ppo_epochs after an early stop
    return result


def optimizer_step(config: PPOConfig, optimizer: torch.optim.Optimizer, parameters: list[nn.Parameter]) -> None:
    """Check the gradients, clip them if asked, step, and check the weights the step wrote."""
    gradients = [p.grad for p in parameters if p.grad is not None]
    norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in gradients])) if gradients else 0
    if not math.isfinite(float(norm)):
        raise NonFiniteError("gradient norm", float(norm))
    if config.max_grad_norm is not None:
        torch.nn.utils.clip_grad_norm_(parameters, config.max_grad_norm)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    bad = sum(int((~torch.isfinite(p.detach())).sum()) for p in parameters)
    if bad:
        raise NonFiniteError("updated weights", float(bad))


def minibatch_loss(
    config: PPOConfig,
    model: nn.Module,
    value_head: nn.Module,
    batch: PaddedBatch | TreeBatch,
    targets: Targets,
    forward: ForwardOutput | None = None,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The clipped policy loss plus ``vf_coef`` times the clipped value loss of one minibatch, and its statistics."""
    mask = batch.mask
    new = forward if forward is not None else batch.forward(model, value_head)
    pg_loss, pg_clipfrac, ratio = maths.policy_loss(
        new.logprobs, targets.old_logprobs, targets.advantages, mask, config.cliprange
    )
    vf_loss, vf_clipfrac = maths.value_loss(
        new.values, targets.old_values, targets.returns, mask, config.cliprange_value
    )
    loss = pg_loss + config.vf_coef * vf_loss
    average_ratio = maths.masked_mean(ratio, mask).item()
    if average_ratio > config.ratio_threshold:
        warnings.warn(
            f"The average ratio of the minibatch ({average_ratio:.2f}) exceeds ratio_threshold "
            f"{config.ratio_threshold:.2f}; its loss is zeroed (as trl).",
            stacklevel=3,
        )
        pg_loss, vf_loss, loss = pg_loss * 0.0, vf_loss * 0.0, loss * 0.0
    stats = minibatch_stats(
        pg_loss,
        vf_loss,
        loss,
        new,
        targets.old_logprobs,
        targets.old_values,
        targets.advantages,
        targets.returns,
        ratio,
        mask,
        pg_clipfrac,
        vf_clipfrac,
    )
    return loss, stats
