"""The test bench: the paper's evaluation protocol (bugs fixed) for LLM and non-LLM agents alike.

- ``Policy``: the one interface (``reset(batch_size)``, ``act(observations) -> decisions``); ``StrategyPolicy`` wraps a
  baseline strategy, ``llm_policy.LLMPolicy`` an LLM with or without an adapter or a value preface.
- ``EvaluationConfig`` and ``play``: E episodes of N rounds on each game against a seeded random opponent, plus the
  other prompts.
- ``evaluate``: play, then write ``rounds.csv``, ``summary.json`` and figures (``folder.py`` reads them back).

Importing this package does not import torch; only ``llm_policy`` does.
"""

from llm_agents.evaluation.evaluate import evaluate
from llm_agents.evaluation.folder import read_rounds_csv, read_summary, write_rounds_csv
from llm_agents.evaluation.policies import Decision, Observation, Policy, StrategyPolicy
from llm_agents.evaluation.protocol import GAME_IDS, OTHER_PROMPTS, EvaluationConfig, episode_seeds, play
from llm_agents.evaluation.summary import summarize_evaluation

__all__ = [
    "GAME_IDS",
    "OTHER_PROMPTS",
    "Decision",
    "EvaluationConfig",
    "Observation",
    "Policy",
    "StrategyPolicy",
    "episode_seeds",
    "evaluate",
    "play",
    "read_rounds_csv",
    "read_summary",
    "summarize_evaluation",
    "write_rounds_csv",
]
