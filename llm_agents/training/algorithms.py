"""The training algorithms: the ``Trainer`` protocol the runner calls, and the registry that builds one per learner.

A trainer updates one learner's LoRA adapter from the (query, response, score) samples of an update. PPO
(``llm_agents.ppo``, the paper's, with a value head) and GRPO (``llm_agents.grpo``, critic-free) implement it; the
runner calls ``ALGORITHMS[config.algorithm]`` and never asks which one it has. A third algorithm is a module with
its trainer and one entry here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from llm_agents.training.config import TrainConfig


class Trainer(Protocol):
    """One learner's update rule, as the runner uses it."""

    statistics_name: str
    """Its statistics' name: the run's log is ``<name>.jsonl``."""

    def step(self, queries: Sequence[Any], responses: Sequence[Any], scores: Sequence[float]) -> dict[str, float]:
        """One update on an episode's samples; its statistics."""

    def state_dict(self) -> dict[str, Any]:
        """Everything a checkpoint needs to resume it exactly."""

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a ``state_dict``."""

    def reset_at_switch(self, what: str) -> None:
        """Apply ``TrainConfig.reset_at_switch`` when the reward changes."""


@dataclass(frozen=True)
class Algorithm:
    """How a run builds one learner's trainer and which of its settings are the algorithm's.

    Attributes:
        build: ``build(model, config, index, player)``: learner ``index``'s trainer on adapter ``player``.
        learning_rate: The run's learning rate for this algorithm (named in the divergence message).
    """

    build: Callable[[Any, TrainConfig, int, str], Trainer]
    learning_rate: Callable[[TrainConfig], float]


def _ppo(model: Any, config: TrainConfig, index: int, player: str) -> Trainer:
    from llm_agents.ppo.trainer import PPOTrainer

    return PPOTrainer(model, config.ppo_for(index), adapter_name=player, batching=config.batching)


def _grpo(model: Any, config: TrainConfig, index: int, player: str) -> Trainer:
    from llm_agents.grpo.trainer import GRPOTrainer

    return GRPOTrainer(model, config.grpo, adapter_name=player, batching=config.batching)


ALGORITHMS: dict[str, Algorithm] = {
    "ppo": Algorithm(_ppo, lambda config: config.ppo.learning_rate),
    "grpo": Algorithm(_grpo, lambda config: config.grpo.learning_rate),
}
