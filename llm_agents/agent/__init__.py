"""The LLM player: which model, how it is loaded, its LoRA adapters, chat prompts, sampling, parsing and the agent.

``llm_agents.agent.config`` and ``llm_agents.agent.parsing`` are light (no torch); the rest loads torch and
transformers, so this package exports those names lazily: ``from llm_agents.agent import LLMAgent`` imports torch on
first use only.
"""

from __future__ import annotations

from llm_agents.agent.config import AgentConfig, GenerationConfig, LoRAConfig, ModelConfig, PromptConfig
from llm_agents.agent.parsing import parse_action
from llm_agents.lazy import lazy_exports

_LAZY = {
    "LLMAgent": "llm_agents.agent.llm_agent",
    "StepRecord": "llm_agents.agent.llm_agent",
    "load_model": "llm_agents.agent.models",
    "attach_lora": "llm_agents.agent.adapters",
    "load_adapter": "llm_agents.agent.adapters",
    "save_adapter": "llm_agents.agent.adapters",
}

__all__ = [
    "AgentConfig",
    "GenerationConfig",
    "LLMAgent",
    "LoRAConfig",
    "ModelConfig",
    "PromptConfig",
    "StepRecord",
    "attach_lora",
    "load_adapter",
    "load_model",
    "parse_action",
    "save_adapter",
]


__getattr__ = lazy_exports(__name__, _LAZY)
