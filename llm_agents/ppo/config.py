"""``PPOConfig``: the settings of one PPO learner, with trl 0.11's field names and the paper's values as defaults."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import asdict, dataclass
from typing import Any, Literal, get_args

KLPenalty = Literal["kl", "abs", "mse", "full"]
KL_PENALTIES: tuple[str, ...] = get_args(KLPenalty)

MAX_SEED = 2**32 - 1
"""The largest seed accepted (numpy's and torch's seeds all take 0 to 2**32 - 1)."""

MAX_COUNT = 2**31 - 1
"""The largest count (batch sizes, epochs, episodes) accepted: torch indexes tensors with it."""

MAX_COEFFICIENT = 1e6
"""The largest coefficient, clip range, target or horizon accepted: larger ones overflow the losses or mean nothing."""

MAX_LEARNING_RATE = 1.0


@dataclass(frozen=True)
class PPOConfig:
    """Hyperparameters of ``PPOTrainer.step`` (names as in trl 0.11's ``PPOConfig``; defaults the paper's,
    docs/paper.md).

    Attributes:
        learning_rate: Adam learning rate (trl's default optimizer: ``torch.optim.Adam``, no weight decay), at most 1.
        batch_size: samples per ``step`` call (the paper: 5 prompts per episode against a strategy, 3 against an LLM);
            None takes whatever number ``step`` is given (the training runner derives it from the episode).
        mini_batch_size: samples per forward/backward pass in the PPO epochs; None is the whole batch.
        gradient_accumulation_steps: minibatches whose gradients are summed (each loss divided by this number)
            before one optimizer step. ``batch_size`` must be a multiple of ``mini_batch_size *
            gradient_accumulation_steps``. The paper set 4 after construction, which in trl 0.11 made its 4 epochs
            one accumulated update on unchanged parameters: ``ppo_epochs=1`` reproduces that update.
        ppo_epochs: passes over the batch per ``step``.
        init_kl_coef: the initial KL coefficient beta.
        adap_kl_ctrl: adapt beta towards ``target`` (Ziegler et al.) or keep it fixed.
        target: the target of the mean summed per-sample KL.
        horizon: the adaptive controller's horizon, in samples.
        kl_penalty: the per-token KL estimate: ``"kl"``, ``"abs"``, ``"mse"`` or ``"full"``.
        gamma: GAE discount over response tokens.
        lam: GAE lambda.
        cliprange: PPO ratio clip epsilon.
        cliprange_value: value-prediction clip epsilon.
        vf_coef: weight of the value loss in the total loss.
        whiten_rewards: whiten the per-token rewards (keeping their mean) before GAE.
        use_score_scaling: divide scores by the running std of all scores seen so far.
        use_score_norm: also subtract the running mean (needs ``use_score_scaling``).
        score_clip: clip the (scaled) scores to ``[-score_clip, score_clip]``; None for no clipping.
        max_grad_norm: clip the gradient norm of the trainable parameters before each optimizer step; None for none.
        early_stopping: stop the epochs once the policy KL of the last minibatch exceeds ``1.5 * target_kl``.
        target_kl: see ``early_stopping``.
        ratio_threshold: a minibatch whose mean ratio exceeds this gets a zero loss (trl's safety valve).
        seed: seeds the minibatch shuffling and the value head's initialisation, 0 to 2**32 - 1; None is 0 for a bare
            trainer (the training runner derives it from the run seed).

    Every number must be finite; the coefficients, clip ranges, targets and the horizon at most 1e6, the counts at
    most 2**31 - 1 (``MAX_COEFFICIENT``, ``MAX_COUNT``).
    """

    learning_rate: float = 1.41e-5
    batch_size: int | None = None
    mini_batch_size: int | None = None
    gradient_accumulation_steps: int = 1
    ppo_epochs: int = 4
    init_kl_coef: float = 0.2
    adap_kl_ctrl: bool = True
    target: float = 6.0
    horizon: float = 10000.0
    kl_penalty: KLPenalty = "kl"
    gamma: float = 1.0
    lam: float = 0.95
    cliprange: float = 0.2
    cliprange_value: float = 0.2
    vf_coef: float = 0.1
    whiten_rewards: bool = False
    use_score_scaling: bool = True
    use_score_norm: bool = True
    score_clip: float | None = None
    max_grad_norm: float | None = None
    early_stopping: bool = False
    target_kl: float = 1.0
    ratio_threshold: float = 10.0
    seed: int | None = None

    def __post_init__(self) -> None:
        for name in ("batch_size", "mini_batch_size", "gradient_accumulation_steps", "ppo_epochs"):
            value = getattr(self, name)
            if value is None and name in ("batch_size", "mini_batch_size"):
                continue
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_COUNT:
                raise ValueError(f"ppo.{name} must be a positive integer (at most {MAX_COUNT}), got {value!r}.")
        if self.batch_size is not None and self.batch_size % self.backward_batch_size != 0:
            raise ValueError(
                f"ppo.batch_size ({self.batch_size}) must be a multiple of mini_batch_size * "
                f"gradient_accumulation_steps ({self.mini_batch_size} * {self.gradient_accumulation_steps} = "
                f"{self.backward_batch_size}); change one of them."
            )
        _check_positive("learning_rate", self.learning_rate, MAX_LEARNING_RATE)
        for name in ("target", "horizon", "cliprange", "cliprange_value", "target_kl"):
            _check_positive(name, getattr(self, name))
        for name in ("init_kl_coef", "vf_coef"):
            value = getattr(self, name)
            if not _is_real(value) or not 0 <= value <= MAX_COEFFICIENT:
                raise ValueError(
                    f"ppo.{name} must be a finite number >= 0 (at most {MAX_COEFFICIENT:g}), got {value!r}."
                )
        for name in ("gamma", "lam"):
            value = getattr(self, name)
            if not _is_real(value) or not 0.0 <= value <= 1.0:
                raise ValueError(f"ppo.{name} must be in [0, 1], got {value!r}.")
        if self.kl_penalty not in KL_PENALTIES:
            raise ValueError(f"ppo.kl_penalty must be one of {KL_PENALTIES}, got {self.kl_penalty!r}.")
        for name in ("adap_kl_ctrl", "whiten_rewards", "use_score_scaling", "use_score_norm", "early_stopping"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"ppo.{name} must be true or false, got {getattr(self, name)!r}.")
        if self.use_score_norm and not self.use_score_scaling:
            raise ValueError(
                "ppo.use_score_norm=True only has an effect with use_score_scaling=True (as in trl); "
                "set both, or neither."
            )
        for name in ("score_clip", "max_grad_norm"):
            value = getattr(self, name)
            if value is not None:
                _check_positive(name, value)
        if not _is_real(self.ratio_threshold) or not 1.0 < self.ratio_threshold <= MAX_COEFFICIENT:
            raise ValueError(
                f"ppo.ratio_threshold must be a number > 1 (at most {MAX_COEFFICIENT:g}), got {self.ratio_threshold!r}."
            )
        if self.seed is not None and (
            isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed <= MAX_SEED
        ):
            raise ValueError(
                f"ppo.seed must be a whole number from 0 to {MAX_SEED} (or unset: derived from the run's seed), "
                f"got {self.seed!r}."
            )

    @property
    def backward_batch_size(self) -> int:
        """Samples per optimizer step: ``mini_batch_size * gradient_accumulation_steps`` (of a resolved config)."""
        return (self.mini_batch_size or self.batch_size or 1) * self.gradient_accumulation_steps

    def for_batch(self, size: int) -> PPOConfig:
        """This config resolved for a batch of ``size`` samples: ``batch_size`` (checked if set) and
        ``mini_batch_size`` (the whole batch if unset) filled in."""
        if self.batch_size is not None and self.batch_size != size:
            raise ValueError(f"step() got {size} samples but config.batch_size is {self.batch_size}.")
        resolved = dataclasses.replace(self, batch_size=size, mini_batch_size=self.mini_batch_size or size)
        return resolved

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (for logs and run folders)."""
        return asdict(self)


def _is_real(value: object) -> bool:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int beyond float's range
        return False


def _check_positive(name: str, value: object, maximum: float = MAX_COEFFICIENT) -> None:
    if not _is_real(value) or not 0 < value <= maximum:  # type: ignore[operator]
        raise ValueError(f"ppo.{name} must be a finite number > 0 (at most {maximum:g}), got {value!r}.")
