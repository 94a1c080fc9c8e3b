"""Fine-tuning LLM agents on iterated matrix games: ``train(TrainConfig) -> TrainResult``, writing a run folder
(``llm_agents.runs``).

The configuration loads without torch; ``train`` and ``TrainResult`` load torch and transformers on first use.
"""

from __future__ import annotations

from llm_agents.lazy import lazy_exports
from llm_agents.training.config import LLM_OPPONENT, TrainConfig
from llm_agents.training.config_io import config_from_dict, config_to_dict, load_config, save_config
from llm_agents.training.trackers import Tracker
from matrix_games.compat import moved_modules

_LAZY = {"TrainResult": "llm_agents.training.runner", "train": "llm_agents.training.runner"}

__all__ = [
    "LLM_OPPONENT",
    "Tracker",
    "TrainConfig",
    "TrainResult",
    "config_from_dict",
    "config_to_dict",
    "load_config",
    "save_config",
    "train",
]


moved_modules(
    {
        "llm_agents.training.run_folder": "llm_agents.runs.folder",
        "llm_agents.training.naming": "llm_agents.runs.naming",
    }
)

__getattr__ = lazy_exports(__name__, _LAZY)
