"""``PPOTrainer``: trl 0.11's ``PPOTrainer.step`` on one named LoRA adapter of a peft model, with its value head.

What one ``step(queries, responses, scores)`` does, in trl's order:

1. scores: optional running scaling/normalisation (``RunningMoments``), optional clipping;
2. in eval mode, without grad: the policy's log-probs and values (adapter on) and the reference log-probs (the same
   model under ``disable_adapter()``), on the response positions only (``batch.py``). With one minibatch per epoch
   the policy pass keeps its graph and doubles as the first training forward (identical numbers, one pass fewer);
3. per-token rewards ``-beta * KL`` plus the score on the last response token; GAE; returns; whitened advantages;
4. ``ppo_epochs`` passes over the batch in shuffled minibatches: clipped policy loss + ``vf_coef`` x clipped value
   loss, summed over ``gradient_accumulation_steps`` minibatches (each loss divided by that number) before each
   optimizer step, optional gradient-norm clipping, trl's ``ratio_threshold`` valve and optional early stopping;
5. trl's statistics (the train ones averaged over all minibatches), then the KL controller update.

Deliberate differences from trl 0.11.4, none of which changes a recorded parity case:
- padding is on the left with positions from the mask (the same computation as trl's right padding, see batch.py);
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
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from llm_agents.ppo import maths
from llm_agents.ppo.checks import check_batch, check_scores
from llm_agents.ppo.config import PPOConfig
from llm_agents.ppo.controllers import AdaptiveKLController, FixedKLController, RunningMoments
from llm_agents.ppo.optimise import Targets, run_epochs
from llm_agents.ppo.parameters import OptimizerFactory, adapter_in_eval_mode, adapter_parameters, make_optimizer
from llm_agents.ppo.stats import step_stats
from llm_agents.ppo.value_head import ValueHead
from llm_agents.sequences.forward import ForwardOutput, make_batch
from llm_agents.sequences.reference import ReferenceMemo, memoised_logprobs


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
    """

    def __init__(
        self,
        model: nn.Module,
        config: PPOConfig,
        *,
        adapter_name: str = "default",
        value_head: nn.Module | None = None,
        optimizer: torch.optim.Optimizer | OptimizerFactory | None = None,
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
        self.model = model
        self.config = config
        self.adapter_name = adapter_name
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

    # ------------------------------------------------------------------ step

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
        scores = check_scores(scores, config.batch_size, self.device)
        scores = maths.scale_scores(
            scores, self.running_moments, use_score_norm=config.use_score_norm, score_clip=config.score_clip
        )
        batch = make_batch(queries, responses, self._pad_token_id, self.device, config.batching)
        timing: dict[str, float] = {}
        with self._this_adapter_in_eval_mode():
            # With a single minibatch, the first training forward would recompute the old pass exactly (same weights,
            # eval mode): keep its graph and let the first minibatch backpropagate through it (one forward saved).
            reuse = config.mini_batch_size == config.batch_size
            live, ref = self._passes(config, batch, queries, responses, reuse, timing)
            old = live.detached()
            targets, kls, non_score_rewards, kl_coef = self._targets(config, scores, old, ref, batch.mask)
            t = time.perf_counter()
            train_stats = run_epochs(
                config,
                self.model,
                self.value_head,
                self.optimizer,
                self.trainable_parameters,
                self.generator,
                batch,
                targets,
                first_forward=live if reuse else None,
            )
            del live
            timing["time/ppo/optimize_step"] = time.perf_counter() - t
        stats = step_stats(scores, old.logprobs, kls, non_score_rewards, batch.mask, kl_coef, queries, responses)
        stats.update(train_stats)
        stats.update(self._derived_stats(stats), **batch.sizes())
        self.kl_controller.update(stats["objective/kl"], config.batch_size)
        self.step_count += 1
        timing["time/ppo/total"] = time.perf_counter() - t_start
        stats.update(timing)
        return stats

    def _derived_stats(self, stats: dict[str, float]) -> dict[str, float]:
        # trl divides tensors for the explained variance, giving nan or inf when every return is equal (e.g. a first
        # batch of identical illegal answers); report nan rather than raise.
        returns_var = stats["ppo/returns/var"]
        return {
            "ppo/val/var_explained": 1.0 - stats["ppo/val/error"] / returns_var if returns_var else math.nan,
            "ppo/learning_rate": float(self.optimizer.param_groups[0]["lr"]),
        }

    def _passes(self, config: PPOConfig, batch, queries, responses, keep_graph: bool, timing: dict[str, float]):
        """The old policy's pass (with its graph when ``keep_graph``) and the reference pass, timed into ``timing``."""
        t = time.perf_counter()
        with torch.set_grad_enabled(keep_graph):
            live = batch.forward(self.model, self.value_head)
        timing["time/ppo/old_forward_pass"] = time.perf_counter() - t
        t = time.perf_counter()
        ref = self._reference(config, batch, queries, responses)
        timing["time/ppo/ref_forward_pass"] = time.perf_counter() - t
        timing["time/ppo/forward_pass"] = timing["time/ppo/old_forward_pass"] + timing["time/ppo/ref_forward_pass"]
        return live, ref

    def _reference(self, config: PPOConfig, batch, queries, responses) -> ForwardOutput:
        """The reference policy's log-probs (adapters off) of the batch's answers: from the run's memo with the tree
        layout; the full-vocabulary KL needs the reference logits, so ``kl_penalty="full"`` and the padded layout
        compute the whole batch every step, as trl did."""
        with torch.no_grad(), self.model.disable_adapter():
            if config.batching == "padded" or config.kl_penalty == "full":
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

    def reset_score_statistics(self) -> None:
        """Forget the running mean and std of the scores (e.g. when the reward changes to another scale)."""
        if self.running_moments is not None:
            self.running_moments = RunningMoments()

    def reset_optimizer(self) -> None:
        """Give the adapter and value head a fresh Adam optimizer (its moments forgotten), at the same learning rate."""
        self.optimizer = torch.optim.Adam(self.trainable_parameters, lr=self.config.learning_rate)

    # ------------------------------------------------------------------ input checks and modes

    def _this_adapter_in_eval_mode(self):
        """Activate this trainer's adapter (trainable) and eval mode; restore the previous adapter and modes."""
        return adapter_in_eval_mode(self.model, self.adapter_name, self.adapter_params, self.value_head)

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
