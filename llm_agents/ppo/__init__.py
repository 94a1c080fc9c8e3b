"""Token-level PPO on a LoRA adapter of a peft model, with the semantics of trl 0.11's ``PPOTrainer.step``.

The update reads top to bottom in ``trainer.py`` (the trainer and its value head), its pure maths in ``maths.py``;
what it shares with GRPO is ``llm_agents.policy_update``. ``PPOConfig`` loads without torch (the training config
holds one); the rest loads torch on first use.
"""

from __future__ import annotations

from llm_agents.lazy import lazy_exports
from llm_agents.ppo.config import PPOConfig
from matrix_games.compat import moved_modules

_LAZY = {
    "AdaptiveKLController": "llm_agents.ppo.maths",
    "FixedKLController": "llm_agents.ppo.maths",
    "RunningMoments": "llm_agents.ppo.maths",
    "NonFiniteError": "llm_agents.policy_update",
    "PPOTrainer": "llm_agents.ppo.trainer",
    "adapter_parameters": "llm_agents.policy_update",
    "ValueHead": "llm_agents.ppo.trainer",
    "value_head_state_from_trl": "llm_agents.ppo.trainer",
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

moved_modules(
    {
        "llm_agents.ppo.controllers": "llm_agents.ppo.maths",
        "llm_agents.ppo.value_head": "llm_agents.ppo.trainer",
        "llm_agents.ppo.stats": "llm_agents.ppo.trainer",
        "llm_agents.ppo.optimise": "llm_agents.ppo.trainer",
        "llm_agents.ppo.checks": "llm_agents.policy_update",
        "llm_agents.ppo.parameters": "llm_agents.policy_update",
    }
)

__getattr__ = lazy_exports(__name__, _LAZY)
