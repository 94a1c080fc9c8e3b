"""LLM agents for the matrix_games environments: model loading, generation, parsing and PPO on LoRA adapters.

``import llm_agents`` stays light (no torch): the configuration and ``parse_action`` load at once, while
``LLMAgent``, ``StepRecord``, ``load_model``, ``PPOConfig``, ``PPOTrainer``, ``TrainConfig`` and ``train`` load
torch and transformers on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from llm_agents.config import GenerationConfig, LoRAConfig, ModelConfig, PromptConfig
from llm_agents.parsing import parse_action

_LAZY = {
    "LLMAgent": "llm_agents.agent",
    "StepRecord": "llm_agents.agent",
    "load_model": "llm_agents.models",
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


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'llm_agents' has no attribute {name!r}")
