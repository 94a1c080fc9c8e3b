"""``PPOTrainer``: trl 0.11's ``PPOTrainer.step`` on one named LoRA adapter of a peft model, with its value head.

``step(queries, responses, scores)`` reads top to bottom, in trl's order:

1. scores: optional running scaling/normalisation (``maths.RunningMoments``), optional clipping;
2. in eval mode: the policy's log-probs and values (adapter on) and the reference log-probs (the same model under
   ``disable_adapter()``, from the run-long memo), on the answer positions only (``sequences.forward``). With one
   minibatch per epoch the policy pass keeps its graph and doubles as the first training forward (identical
   numbers, one pass fewer);
3. per-token rewards ``-beta * KL`` plus the score on the last answer token; GAE; returns; whitened advantages;
4. ``ppo_epochs`` passes over the batch in shuffled minibatches: clipped policy loss + ``vf_coef`` x clipped value
   loss, summed over ``gradient_accumulation_steps`` minibatches (each loss divided by that number) before each
   optimizer step (``policy_update.optimizer_step``: clipping and the non-finite stop), trl's ``ratio_threshold``
   valve and optional early stopping;
5. trl's statistics (the train ones averaged over all minibatches), then the adaptive KL controller's update.

The maths of each line is ``maths.py`` (pinned by golden tests); what PPO shares with GRPO is ``policy_update.py``.

Deliberate differences from trl 0.11.4, none of which changes a recorded parity case:
- padding is on the left with positions from the mask (the same computation as trl's right padding);
- minibatch order comes from a ``torch.Generator`` seeded by ``config.seed`` (trl: the global ``np.random``);
- ``max_grad_norm`` clips at every optimizer step (trl clipped through a one-shot ``filter`` iterator, so only its
  very first step was ever clipped);
- ``use_score_scaling`` works (trl 0.11.4 crashes on it: its ``RunningMoments.std`` became a float; the maths are
  trl's ``RunningMoments``);
- gradient accumulation is real on its own terms (the paper's trl setting was not, docs/paper.md).
Like trl 0.11 and 0.9.6 (``batched_forward_pass`` calls ``model.eval()``), every forward, the training ones
included, runs in eval mode, so LoRA and value-head dropout never act; the previous modes are restored after each
step (trl left the model in train mode after a step, so sampling after it ran with dropout unless the caller
switched back to eval).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from llm_agents.policy_update import (
    OptimizerFactory,
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
from llm_agents.ppo import maths
from llm_agents.ppo.config import PPOConfig
from llm_agents.ppo.maths import AdaptiveKLController, FixedKLController, RunningMoments
from llm_agents.sequences import Batching
from llm_agents.sequences.forward import ForwardOutput, PaddedBatch, TreeBatch, make_batch

STATISTICS = "ppo"
"""The name PPO's statistics are logged under (``ppo.jsonl``, ``ppo/...``)."""


class ValueHead(nn.Module):
    """The critic: ``Dropout -> Linear(hidden_size, 1)`` on the last (post-norm) hidden state, one value per position.

    The parameter names (``summary.weight``, ``summary.bias``) are those of trl's ``ValueHead``, so a trl state dict
    loads after stripping its ``v_head.`` prefix (``value_head_state_from_trl``). The head lives outside the peft
    model, in float32, whatever the model's dtype. Dropout only acts in train mode; every pass runs in eval mode.

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


class PPOTrainer:
    """PPO on one adapter of a peft ``PeftModel``; several trainers can share one model, one adapter each.

    Args:
        model: a ``peft.PeftModel`` (e.g. from ``get_peft_model``) holding the adapter ``adapter_name``. The reference
            policy is this model with its adapters disabled, so no second copy of the weights is made.
        config: the PPO settings.
        adapter_name: the adapter this trainer trains. It is made the active adapter during ``step`` and the
            previously active one is restored afterwards.
        value_head: the critic; by default a new ``ValueHead`` (initialised from ``config.seed``) on the model's device.
        optimizer: an optimizer over ``trainer.trainable_parameters``, or a factory taking that list; by default
            ``torch.optim.Adam(lr=config.learning_rate)`` as in trl.
        batching: ``"tree"`` computes each distinct (prompt, answer) sequence of a batch once, as a prefix tree, and
            the reference log-probs of a pair once per run (``sequences``); ``"padded"`` is the plain padded batch,
            every pass over every row. The same mathematics (losses, gradients, statistics) up to float rounding.
    """

    statistics_name = STATISTICS

    def __init__(
        self,
        model: nn.Module,
        config: PPOConfig,
        *,
        adapter_name: str = "default",
        value_head: nn.Module | None = None,
        optimizer: torch.optim.Optimizer | OptimizerFactory | None = None,
        batching: Batching = "tree",
    ) -> None:
        if not hasattr(model, "peft_config") or not hasattr(model, "disable_adapter"):
            raise TypeError(
                f"PPOTrainer needs a peft PeftModel (the reference is the model under disable_adapter()), got "
                f"{type(model).__name__}; wrap it with peft.get_peft_model(model, LoraConfig(...))."
            )
        if adapter_name not in model.peft_config:
            raise ValueError(
                f"The model has no adapter {adapter_name!r}; its adapters are {sorted(model.peft_config)}. "
                "Add it with model.add_adapter(name, config)."
            )
        if not isinstance(config, PPOConfig):
            raise TypeError(f"config must be a PPOConfig, got {type(config).__name__}.")
        self.model, self.config, self.adapter_name, self.batching = model, config, adapter_name, batching
        self.device = next(model.parameters()).device
        self.adapter_params = adapter_parameters(model, adapter_name)
        if not self.adapter_params:
            raise ValueError(f"Adapter {adapter_name!r} has no trainable parameters that PPOTrainer can find.")
        if value_head is None:
            hidden_size = model.config.get_text_config().hidden_size
            value_head = ValueHead(hidden_size, generator=torch.Generator().manual_seed(config.seed or 0))
        self.value_head = value_head.to(self.device)
        self.trainable_parameters: list[nn.Parameter] = [*self.adapter_params.values(), *value_head.parameters()]
        self.optimizer = make_optimizer(self.trainable_parameters, optimizer, config.learning_rate, adapter_name)
        self.kl_controller: AdaptiveKLController | FixedKLController = (
            AdaptiveKLController(config.init_kl_coef, config.target, config.horizon)
            if config.adap_kl_ctrl
            else FixedKLController(config.init_kl_coef)
        )
        self.running_moments = RunningMoments() if config.use_score_scaling else None
        self.generator = torch.Generator().manual_seed(config.seed or 0)
        self.reference_memo = ReferenceMemo()
        self.step_count = 0
        self._pad_token_id = getattr(model.config, "pad_token_id", None) or 0

    # ------------------------------------------------------------------ the step, top to bottom

    def step(
        self,
        queries: Sequence[torch.Tensor],
        responses: Sequence[torch.Tensor],
        scores: Sequence[float] | Sequence[torch.Tensor] | torch.Tensor,
    ) -> dict[str, float]:
        """One PPO update on a batch of (query, response, score) samples (``config.batch_size`` of them, if set).

        Args:
            queries: 1-D token-id tensors, the prompts (as the model saw them, special tokens included).
            responses: 1-D token-id tensors, the sampled answers (at least one token each).
            scores: one scalar reward per sample.

        Returns:
            trl's statistics as floats (``objective/kl``, ``objective/kl_coef`` before this step's update,
            ``ppo/loss/policy``, ``ppo/loss/value``, ``ppo/loss/total``, ``ppo/policy/clipfrac``, ...), plus the
            time spent in the reference pass, the old log-probs/values pass and the epochs (``time/ppo/*``) and how
            many tokens the passes computed (``batch/*``).

        Raises:
            NonFiniteError: when the loss, the gradients' norm or the updated weights become NaN or infinite.
        """
        t_start = time.perf_counter()
        queries, responses = check_batch(queries, responses, self.config.batch_size or len(queries))
        config = self.config.for_batch(len(queries))
        # 1. scores
        scores = check_scores(scores, config.batch_size, self.device)
        scores = maths.scale_scores(
            scores, self.running_moments, use_score_norm=config.use_score_norm, score_clip=config.score_clip
        )
        batch = make_batch(queries, responses, self._pad_token_id, self.device, self.batching)
        timing: dict[str, float] = {}
        with adapter_in_eval_mode(self.model, self.adapter_name, self.adapter_params, self.value_head):
            # 2. the old policy's log-probs and values, and the reference's. With a single minibatch the first
            # training forward would recompute the old pass exactly (same weights, eval mode): keep its graph and
            # let the first minibatch backpropagate through it (one forward saved).
            reuse = config.mini_batch_size == config.batch_size
            t = time.perf_counter()
            with torch.set_grad_enabled(reuse):
                live = batch.forward(self.model, self.value_head)
            timing["time/ppo/old_forward_pass"] = time.perf_counter() - t
            t = time.perf_counter()
            ref = self._reference(config, batch, queries, responses)
            timing["time/ppo/ref_forward_pass"] = time.perf_counter() - t
            timing["time/ppo/forward_pass"] = timing["time/ppo/old_forward_pass"] + timing["time/ppo/ref_forward_pass"]
            old = live.detached()
            # 3. rewards, advantages, returns
            targets, kls, non_score_rewards, kl_coef = self._targets(config, scores, old, ref, batch.mask)
            # 4. the epochs
            t = time.perf_counter()
            train_stats = self._epochs(config, batch, targets, first_forward=live if reuse else None)
            del live
            timing["time/ppo/optimize_step"] = time.perf_counter() - t
        # 5. statistics, then the KL controller
        stats = _step_stats(scores, old.logprobs, kls, non_score_rewards, batch.mask, kl_coef, queries, responses)
        stats.update(train_stats)
        returns_var = stats["ppo/returns/var"]
        # trl divides tensors for the explained variance, giving nan or inf when every return is equal (e.g. a first
        # batch of identical illegal answers); report nan rather than raise.
        stats["ppo/val/var_explained"] = 1.0 - stats["ppo/val/error"] / returns_var if returns_var else math.nan
        stats["ppo/learning_rate"] = float(self.optimizer.param_groups[0]["lr"])
        stats.update(batch.sizes())
        self.kl_controller.update(stats["objective/kl"], config.batch_size)
        self.step_count += 1
        timing["time/ppo/total"] = time.perf_counter() - t_start
        stats.update(timing)
        return stats

    def _reference(self, config: PPOConfig, batch, queries, responses) -> ForwardOutput:
        """The reference policy's log-probs (adapters off) of the batch's answers: from the run's memo with the tree
        layout; the full-vocabulary KL needs the reference logits, so ``kl_penalty="full"`` and the padded layout
        compute the whole batch every step, as trl did."""
        with torch.no_grad(), self.model.disable_adapter():
            if self.batching == "padded" or config.kl_penalty == "full":
                return batch.forward(self.model, None)
            logprobs = memoised_logprobs(self.model, self.reference_memo, queries, responses, batch.mask)
        return ForwardOutput(logprobs, logits=None, values=None)  # type: ignore[arg-type]

    @torch.no_grad()
    def _targets(self, config: PPOConfig, scores, old: ForwardOutput, ref: ForwardOutput, mask: torch.Tensor):
        """Per-token KL penalties and rewards, GAE advantages and returns, as trl computes them before the epochs."""
        full = config.kl_penalty == "full"
        kls = maths.kl_penalty(
            old.logprobs,
            ref.logprobs,
            config.kl_penalty,
            full_logprobs=torch.log_softmax(old.logits, dim=-1) if full else None,
            full_ref_logprobs=torch.log_softmax(ref.logits, dim=-1) if full else None,
        )
        kl_coef = self.kl_controller.value
        rewards, non_score_rewards = maths.per_token_rewards(scores, kls, mask, kl_coef)
        old_values, advantages, returns = maths.gae_advantages(
            old.values, rewards, mask, config.gamma, config.lam, whiten_rewards=config.whiten_rewards
        )
        return Targets(old.logprobs, old_values, advantages, returns), kls, non_score_rewards, kl_coef

    def _epochs(
        self,
        config: PPOConfig,
        batch: PaddedBatch | TreeBatch,
        targets: Targets,
        first_forward: ForwardOutput | None = None,
    ) -> dict[str, float]:
        """The PPO epochs; returns the train statistics averaged over every minibatch, as trl's.

        ``first_forward``, when given, is a whole-batch forward at the current weights with its graph, used (in the
        first minibatch's row order) instead of a new forward for the very first minibatch.
        """
        accumulation = config.gradient_accumulation_steps
        every_stat: list[dict[str, torch.Tensor]] = []
        self.optimizer.zero_grad(set_to_none=True)
        epochs_run = 0
        for _ in range(config.ppo_epochs):
            epochs_run += 1
            order = torch.randperm(config.batch_size, generator=self.generator).to(targets.old_logprobs.device)
            for start in range(0, config.batch_size, config.backward_batch_size):
                step_rows = order[start : start + config.backward_batch_size]
                for mini_start in range(0, config.backward_batch_size, config.mini_batch_size):
                    rows = step_rows[mini_start : mini_start + config.mini_batch_size]
                    forward = None if first_forward is None else first_forward.rows(rows)
                    first_forward = None
                    loss, stats = self._minibatch_loss(config, batch.select(rows), targets.rows(rows), forward)
                    check_loss(loss)
                    (loss / accumulation).backward()
                    every_stat.append(stats)
                optimizer_step(self.optimizer, self.trainable_parameters, config.max_grad_norm)
            if config.early_stopping and every_stat[-1]["policy/policykl"] > 1.5 * config.target_kl:
                break
        stats = {key: torch.stack([s[key] for s in every_stat]).mean() for key in every_stat[0]}
        result = {f"ppo/{key}": float(value) for key, value in stats.items()}
        result["ppo/epochs"] = float(epochs_run)  # fewer than ppo_epochs after an early stop
        return result

    def _minibatch_loss(
        self, config: PPOConfig, batch: PaddedBatch | TreeBatch, targets: Targets, forward: ForwardOutput | None
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The clipped policy loss plus ``vf_coef`` times the clipped value loss of one minibatch, and trl's
        statistics of ``PPOTrainer.loss`` for it (keys without the ``ppo/`` prefix)."""
        mask = batch.mask
        new = forward if forward is not None else batch.forward(self.model, self.value_head)
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
                stacklevel=4,
            )
            pg_loss, vf_loss, loss = pg_loss * 0.0, vf_loss * 0.0, loss * 0.0
        with torch.no_grad():
            new_logprobs, new_values = new.logprobs.detach(), new.values.detach()
            stats = {
                "loss/policy": pg_loss.detach(),
                "loss/value": vf_loss.detach(),
                "loss/total": loss.detach(),
                "policy/entropy": maths.masked_mean(maths.entropy_from_logits(new.logits.detach()), mask),
                "policy/approxkl": maths.approx_kl(new_logprobs, targets.old_logprobs, mask),
                "policy/policykl": maths.policy_kl(new_logprobs, targets.old_logprobs, mask),
                "policy/clipfrac": pg_clipfrac,
                "policy/advantages_mean": maths.masked_mean(targets.advantages, mask),
                "policy/ratio_mean": maths.masked_mean(ratio.detach(), mask),
                "returns/mean": maths.masked_mean(targets.returns, mask),
                "returns/var": maths.masked_var(targets.returns, mask),
                "val/vpred": maths.masked_mean(new_values, mask),
                "val/error": maths.masked_mean((new_values - targets.returns) ** 2, mask),
                "val/clipfrac": vf_clipfrac,
                "val/mean": maths.masked_mean(targets.old_values, mask),
                "val/var": maths.masked_var(targets.old_values, mask),
            }
        return loss, stats

    # ------------------------------------------------------------------ between steps

    def reset_at_switch(self, what: str) -> None:
        """At a reward switch: forget the running score statistics (``"score_stats"``), and also give the adapter and
        value head a fresh Adam optimizer (``"optimizer_and_score_stats"``); ``"nothing"`` keeps all (the paper)."""
        if what in ("score_stats", "optimizer_and_score_stats") and self.running_moments is not None:
            self.running_moments = RunningMoments()
        if what == "optimizer_and_score_stats":
            self.optimizer = torch.optim.Adam(self.trainable_parameters, lr=self.config.learning_rate)

    # ------------------------------------------------------------------ checkpoints

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume exactly: adapter weights, value head, optimizer, KL controller, running
        moments, the shuffling generator and the step counter (save it with ``torch.save``)."""
        return {
            "step_count": self.step_count,
            "adapter_name": self.adapter_name,
            "adapter": {name: p.detach().clone() for name, p in self.adapter_params.items()},
            "value_head": {k: v.detach().clone() for k, v in self.value_head.state_dict().items()},
            "optimizer": self.optimizer.state_dict(),
            "kl_controller": self.kl_controller.state_dict(),
            "running_moments": None if self.running_moments is None else self.running_moments.state_dict(),
            "generator": self.generator.get_state(),
            "reference_memo": self.reference_memo.state_dict(),
            "config": self.config.to_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a ``state_dict()`` taken from a trainer on the same model architecture and adapter config."""
        if state.get("algorithm") == "grpo":
            raise ValueError("This checkpoint was written by a GRPO run; resume it with algorithm: grpo.")
        missing = set(self.adapter_params) ^ set(state["adapter"])
        if missing:
            raise ValueError(
                f"The saved adapter parameters do not match adapter {self.adapter_name!r} of this model "
                f"(differing names, e.g. {sorted(missing)[:3]}); was it saved from another adapter or LoRA config?"
            )
        with torch.no_grad():
            for name, parameter in self.adapter_params.items():
                parameter.copy_(state["adapter"][name])
        self.value_head.load_state_dict(state["value_head"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.kl_controller.load_state_dict(state["kl_controller"])
        if (state["running_moments"] is None) != (self.running_moments is None):
            raise ValueError("The saved state and this config disagree on use_score_scaling.")
        if self.running_moments is not None:
            self.running_moments.load_state_dict(state["running_moments"])
        self.generator.set_state(state["generator"])
        if "reference_memo" in state:  # checkpoints of version 0.1 have none: it fills again
            self.reference_memo.load_state_dict(state["reference_memo"])
        self.step_count = int(state["step_count"])


def _step_stats(
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
