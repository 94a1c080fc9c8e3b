"""``GRPOTrainer``: GRPO on one named LoRA adapter of a peft model, with ``PPOTrainer``'s interface.

The runner calls ``step(queries, responses, scores)`` after each episode, as it does PPO's. GRPO has no critic: an
answer's advantage is its reward against the other answers to the same prompt (the batch's answers are grouped by
their query token ids: in our games the same state gives the same prompt, so the rounds that share a state are a
group; ``grpo.maths``). Each epoch is one forward and backward pass over the whole update through the batch layout
PPO uses (``sequences.forward``: the prefix tree by default, so shared prompts are computed once); the reference
log-probs come from the same run-long memo as PPO's (``policy_update``, with the optimiser step and the checks both
share). With one iteration the first training forward is the old policy's pass (the ratio is exactly 1), so no
separate pass is made.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from llm_agents.grpo import maths
from llm_agents.grpo.config import GRPOConfig
from llm_agents.policy_update import (
    ReferenceMemo,
    adapter_in_eval_mode,
    adapter_parameters,
    check_batch,
    check_loss,
    check_scores,
    make_optimizer,
    memoised_logprobs,
    optimizer_step,
)
from llm_agents.sequences import Batching
from llm_agents.sequences.forward import PaddedBatch, TreeBatch, make_batch

STATISTICS = "grpo"
"""The name GRPO's statistics are logged under (``grpo.jsonl``, ``grpo/...``)."""


class GRPOTrainer:
    """GRPO on one adapter of a peft ``PeftModel`` (the reference is the model under ``disable_adapter()``).

    Args:
        model: the peft model holding ``adapter_name``.
        config: the GRPO settings.
        adapter_name: the adapter this trainer trains.
        batching: ``"tree"`` (each distinct sequence once) or ``"padded"``, as ``PPOTrainer``'s.
    """

    statistics_name = STATISTICS

    def __init__(
        self, model: nn.Module, config: GRPOConfig, *, adapter_name: str = "default", batching: Batching = "tree"
    ) -> None:
        if not hasattr(model, "peft_config") or adapter_name not in model.peft_config:
            raise ValueError(f"GRPOTrainer needs a peft PeftModel holding the adapter {adapter_name!r}.")
        self.model, self.config, self.adapter_name, self.batching = model, config, adapter_name, batching
        self.device = next(model.parameters()).device
        self.adapter_params = adapter_parameters(model, adapter_name)
        self.trainable_parameters: list[nn.Parameter] = list(self.adapter_params.values())
        self.optimizer = make_optimizer(self.trainable_parameters, None, config.learning_rate, adapter_name)
        self.reference_memo = ReferenceMemo()
        self.step_count = 0
        self._warned_alone = False
        self._pad_token_id = getattr(model.config, "pad_token_id", None) or 0

    def step(
        self, queries: Sequence[torch.Tensor], responses: Sequence[torch.Tensor], scores: Sequence[float]
    ) -> dict[str, float]:
        """One GRPO update on the episode's answers; returns its statistics (``grpo/*``, ``objective/kl``, and
        ``time/grpo/*``: the reference pass, the old-policy pass (``num_iterations`` > 1 only), the iterations and
        the total)."""
        started = time.perf_counter()
        queries, responses = check_batch(queries, responses, len(queries))
        scores = check_scores(scores, len(queries), torch.device("cpu"))
        group_ids = _group_ids(queries)
        advantages, alone = maths.group_advantages(scores, group_ids, self.config.scale_rewards)
        if alone == len(queries):
            self._warn_no_groups(alone)
        batch = make_batch(queries, responses, self._pad_token_id, self.device, self.batching)
        config = self.config
        with adapter_in_eval_mode(self.model, self.adapter_name, self.adapter_params):
            timing: dict[str, float] = {}
            t = time.perf_counter()
            reference = None
            if config.beta > 0:
                with torch.no_grad(), self.model.disable_adapter():
                    reference = memoised_logprobs(self.model, self.reference_memo, queries, responses, batch.mask)
            timing["time/grpo/ref_forward_pass"] = time.perf_counter() - t
            t = time.perf_counter()
            old = None
            if config.num_iterations > 1:
                with torch.no_grad():
                    old = batch.forward(self.model, None).logprobs
            timing["time/grpo/old_forward_pass"] = time.perf_counter() - t
            t = time.perf_counter()
            loss, logprobs = self._iterations(batch, advantages, reference, old)
            timing["time/grpo/optimize_step"] = time.perf_counter() - t
        self.step_count += 1
        kl = float("nan")
        if reference is not None:
            kl = float(maths.k3_kl(logprobs.detach(), reference).mul(batch.mask).sum() / batch.mask.sum())
        return {
            "grpo/loss": float(loss.detach()),
            "grpo/advantages/mean_abs": float(advantages.abs().mean()),
            "grpo/groups": float(len(torch.unique(group_ids))),
            "grpo/groups/alone": float(alone),
            "objective/kl": kl,
            "objective/kl_coef": config.beta,
            "env/reward_mean": float(scores.mean()),
            "env/reward_std": float(scores.std()) if len(scores) > 1 else 0.0,
            **batch.sizes(),
            **timing,
            "time/grpo/total": time.perf_counter() - started,
        }

    def _iterations(
        self,
        batch: PaddedBatch | TreeBatch,
        advantages: torch.Tensor,
        reference: torch.Tensor | None,
        old: torch.Tensor | None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The update's passes over the batch (``num_iterations`` of them); the last loss and log-probs."""
        config = self.config
        for _ in range(config.num_iterations):
            logprobs = batch.forward(self.model, None).logprobs
            loss = maths.grpo_loss(
                logprobs,
                logprobs.detach() if old is None else old,
                advantages.to(self.device),
                batch.mask,
                ref_logprobs=reference,
                beta=config.beta,
                epsilon_low=config.epsilon,
                epsilon_high=config.upper_epsilon,
                loss_type=config.loss_type,
            )
            check_loss(loss)
            loss.backward()
            optimizer_step(self.optimizer, self.trainable_parameters, config.max_grad_norm)
        return loss, logprobs

    def _warn_no_groups(self, answers: int) -> None:
        """Once per run: an update whose answers all had different prompts learns nothing but the KL term."""
        if not self._warned_alone:
            self._warned_alone = True
            warnings.warn(
                f"GRPO got {answers} answers to {answers} different prompts in update {self.step_count}: with "
                "grpo.num_generations 1 its groups are the rounds that share a prompt, and none did, so every "
                "advantage is 0. If this repeats (grpo/groups/alone in grpo.jsonl), set grpo.num_generations: 4 "
                "(several answers per state) or play more games per update.",
                stacklevel=3,
            )

    def reset_at_switch(self, what: str) -> None:
        """At a reward switch: GRPO keeps no score statistics (its baseline is each group's), so only
        ``"optimizer_and_score_stats"`` does something: a fresh Adam optimizer, at the same learning rate."""
        if what == "optimizer_and_score_stats":
            self.optimizer = torch.optim.Adam(self.trainable_parameters, lr=self.config.learning_rate)

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume exactly: adapter weights, optimizer, the reference memo, the step counter."""
        return {
            "algorithm": "grpo",
            "step_count": self.step_count,
            "adapter_name": self.adapter_name,
            "adapter": {name: p.detach().clone() for name, p in self.adapter_params.items()},
            "optimizer": self.optimizer.state_dict(),
            "reference_memo": self.reference_memo.state_dict(),
            "config": self.config.to_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("algorithm") != "grpo":
            raise ValueError("This checkpoint was written by a PPO run; resume it with algorithm: ppo.")
        with torch.no_grad():
            for name, parameter in self.adapter_params.items():
                parameter.copy_(state["adapter"][name])
        self.optimizer.load_state_dict(state["optimizer"])
        self.reference_memo.load_state_dict(state["reference_memo"])
        self.step_count = int(state["step_count"])


def _group_ids(queries: Sequence[torch.Tensor]) -> torch.Tensor:
    """One id per distinct query (token ids), in order of first appearance."""
    ids: dict[tuple[int, ...], int] = {}
    return torch.tensor([ids.setdefault(tuple(q.tolist()), len(ids)) for q in queries])
