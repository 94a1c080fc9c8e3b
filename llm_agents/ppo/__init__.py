"""Token-level PPO on a LoRA adapter of a peft model, with the semantics of trl 0.11's ``PPOTrainer.step``."""

from llm_agents.ppo.config import PPOConfig
from llm_agents.ppo.maths import AdaptiveKLController, FixedKLController, RunningMoments
from llm_agents.ppo.trainer import PPOTrainer, adapter_parameters
from llm_agents.ppo.value_head import ValueHead, value_head_state_from_trl

__all__ = [
    "AdaptiveKLController",
    "FixedKLController",
    "PPOConfig",
    "PPOTrainer",
    "RunningMoments",
    "ValueHead",
    "adapter_parameters",
    "value_head_state_from_trl",
]
