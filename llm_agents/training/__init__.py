"""PPO fine-tuning of LLM agents on iterated matrix games: ``train(TrainConfig) -> TrainResult`` and its run folder."""

from llm_agents.training.config import LLM_OPPONENT, TrainConfig
from llm_agents.training.config_io import config_from_dict, config_to_dict, load_config, save_config
from llm_agents.training.runner import TrainResult, train

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
