"""Token-level PPO on a LoRA adapter of a peft model, with the semantics of trl 0.11's ``PPOTrainer.step``.

``PPOConfig`` loads without torch (the training config holds one); the trainer, the maths and the value head load
torch on first use.
"""

from __future__ import annotations

from llm_agents.lazy import lazy_exports
from llm_agents.ppo.config import PPOConfig

_LAZY = {
    "AdaptiveKLController": "llm_agents.ppo.controllers",
    "FixedKLController": "llm_agents.ppo.controllers",
    "RunningMoments": "llm_agents.ppo.controllers",
    "NonFiniteError": "llm_agents.ppo.optimise",
    "PPOTrainer": "llm_agents.ppo.trainer",
    "adapter_parameters": "llm_agents.ppo.parameters",
    "ValueHead": "llm_agents.ppo.value_head",
    "value_head_state_from_trl": "llm_agents.ppo.value_head",
}

__all__ = [
    "AdaptiveKLController",
    "FixedKLController",
    "NonFiniteError",
    "PPOConfig",
    "PPOTrainer",
    "RunningMoments",
    "ValueHead",
    "adapter_parameters",
    "value_head_state_from_trl",
]


__getattr__ = lazy_exports(__name__, _LAZY)
