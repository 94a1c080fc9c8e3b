"""LLM agents for the matrix_games environments: model loading, generation, parsing and PPO on LoRA adapters.

``import llm_agents`` stays light (no torch): the configuration and ``parse_action`` load at once, while
``LLMAgent``, ``StepRecord``, ``load_model``, ``PPOConfig``, ``PPOTrainer``, ``TrainConfig`` and ``train`` load
torch and transformers on first use.
"""

from __future__ import annotations

from llm_agents.agent.config import GenerationConfig, LoRAConfig, ModelConfig, PromptConfig
from llm_agents.agent.parsing import parse_action
from llm_agents.lazy import lazy_exports

_LAZY = {
    "LLMAgent": "llm_agents.agent.llm_agent",
    "StepRecord": "llm_agents.agent.llm_agent",
    "load_model": "llm_agents.agent.models",
    "PPOConfig": "llm_agents.ppo",
    "PPOTrainer": "llm_agents.ppo",
    "TrainConfig": "llm_agents.training",
    "train": "llm_agents.training",
}

__all__ = [
    "GenerationConfig",
    "LLMAgent",
    "LoRAConfig",
    "ModelConfig",
    "PPOConfig",
    "PPOTrainer",
    "PromptConfig",
    "StepRecord",
    "TrainConfig",
    "load_model",
    "parse_action",
    "train",
]


__getattr__ = lazy_exports(__name__, _LAZY)
