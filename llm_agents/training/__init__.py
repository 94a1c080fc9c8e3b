"""PPO fine-tuning of LLM agents on iterated matrix games: ``train(TrainConfig) -> TrainResult`` and its run folder.

The configuration loads without torch; ``train`` and ``TrainResult`` load torch and transformers on first use.
"""

from __future__ import annotations

from llm_agents.lazy import lazy_exports
from llm_agents.training.config import LLM_OPPONENT, TrainConfig
from llm_agents.training.config_io import config_from_dict, config_to_dict, load_config, save_config

_LAZY = {"TrainResult": "llm_agents.training.runner", "train": "llm_agents.training.runner"}

__all__ = [
    "LLM_OPPONENT",
    "TrainConfig",
    "TrainResult",
    "config_from_dict",
    "config_to_dict",
    "load_config",
    "save_config",
    "train",
]


__getattr__ = lazy_exports(__name__, _LAZY)
