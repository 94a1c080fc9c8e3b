"""``GRPOConfig``: the settings of GRPO training (``TrainConfig.grpo``, used when ``algorithm: grpo``).

Loads without torch. The names follow TRL's ``GRPOConfig`` where the idea is the same (``beta``, ``epsilon``,
``epsilon_high``, ``loss_type``, ``scale_rewards``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal, get_args

from matrix_games.core.validation import check_choice, check_finite, check_int

MAX_COUNT = 2**31 - 1
MAX_COEFFICIENT = 1e6
"""The largest clip range, KL coefficient and gradient norm accepted (as PPO's): larger ones overflow."""

LossType = Literal["grpo", "bnpo", "dapo", "dr_grpo"]
ScaleRewards = Literal["group", "none"]


@dataclass(frozen=True)
class GRPOConfig:
    """GRPO on one adapter: group-relative advantages, the clipped ratio objective, a fixed KL coefficient.

    Attributes:
        learning_rate: Adam learning rate (the same optimizer as PPO's).
        num_iterations: Passes over each update's answers (TRL's name); with 1 the ratio is exactly 1.
        epsilon: The lower clip range of the ratio (and the upper one unless ``epsilon_high`` is set, as DAPO).
        epsilon_high: The upper clip range, or None for ``epsilon``.
        beta: The coefficient of the k3 KL estimate to the reference (the model with adapters off); 0 turns it off
            and skips the reference pass.
        loss_type: How token losses are normalised: ``grpo``, ``bnpo``, ``dapo`` or ``dr_grpo`` (``grpo.maths``).
        scale_rewards: ``group`` divides each advantage by its group's reward std, ``none`` only centres (Dr. GRPO).
        max_grad_norm: Clip the gradient norm to this, or None.
        num_generations: Answers sampled per learner and state in every round (TRL's name). 1: groups are the
            rounds of an update that share a prompt (step-level); more gives every state a group of its own, the
            extra answers scored against the others' actual moves in that round.

    Every number must be finite: the learning rate in (0, 1], the clip ranges, ``beta`` and ``max_grad_norm`` at most
    1e6, the counts at most 2**31 - 1.
    """

    learning_rate: float = 1.41e-5
    num_iterations: int = 1
    epsilon: float = 0.2
    epsilon_high: float | None = None
    beta: float = 0.04
    loss_type: LossType = "grpo"
    scale_rewards: ScaleRewards = "group"
    max_grad_norm: float | None = None
    num_generations: int = 1

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        learning_rate = check_finite("grpo.learning_rate", self.learning_rate, example="5e-4", maximum=1.0)
        if learning_rate <= 0:
            raise ValueError(f"grpo.learning_rate must be positive, got {self.learning_rate!r}; e.g. 5e-4.")
        set_(self, "learning_rate", learning_rate)
        iterations = check_int("grpo.num_iterations", self.num_iterations, minimum=1, example=1, maximum=MAX_COUNT)
        set_(self, "num_iterations", iterations)
        bounded = {"minimum": 0.0, "maximum": MAX_COEFFICIENT}
        set_(self, "epsilon", check_finite("grpo.epsilon", self.epsilon, example="0.2", **bounded))
        if self.epsilon_high is not None:
            set_(self, "epsilon_high", check_finite("grpo.epsilon_high", self.epsilon_high, **bounded))
        set_(self, "beta", check_finite("grpo.beta", self.beta, example="0.04", **bounded))
        check_choice("grpo.loss_type", self.loss_type, get_args(LossType))
        check_choice("grpo.scale_rewards", self.scale_rewards, get_args(ScaleRewards))
        if self.max_grad_norm is not None:
            set_(self, "max_grad_norm", check_finite("grpo.max_grad_norm", self.max_grad_norm, **bounded))
        check_int("grpo.num_generations", self.num_generations, minimum=1, example=4, maximum=MAX_COUNT)

    @property
    def upper_epsilon(self) -> float:
        return self.epsilon if self.epsilon_high is None else self.epsilon_high

    def replace(self, **changes: Any) -> GRPOConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
