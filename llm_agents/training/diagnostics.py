"""A run's exact diagnostics: every ``analysis_every`` updates, each learner's P(C), P(D) and P(illegal) at every
state of its training game, computed from the token probabilities (``llm_agents.analysis``), not sampled.

A line of ``analysis.jsonl`` is ``{"episode": E, "player": P, "reward_name": R, "states": {state: {"p_c", "p_d",
"p_illegal"}}}``, where E counts the updates done (0: before training). The analysis reads the policy as it samples,
adapter active and in eval mode, with the run's labels (each pair of a label pool equally often), prompt and
sampling settings; it draws no random number, so a resumed run logs the same lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llm_agents.agent.llm_agent import LLMAgent
from llm_agents.analysis.table import analyse_policy
from llm_agents.training.config import TrainConfig


def analysis_due(config: TrainConfig, done: int) -> bool:
    """Whether the diagnostics run after ``done`` updates: at the start, every ``analysis_every``, and at the end."""
    every = config.analysis_every
    return bool(every) and (done % every == 0 or done == config.num_episodes)


def state_tables(config: TrainConfig, agents: Mapping[str, LLMAgent], done: int, reward_name: str) -> list[dict]:
    """One ``analysis.jsonl`` line per learner after ``done`` updates."""
    settings = config.game_settings
    pairs = config.label_pool.members if config.label_pool is not None else None
    lines: list[dict[str, Any]] = []
    for player, agent in agents.items():
        index = int(player.rsplit("_", 1)[1])
        table = analyse_policy(agent, settings, config.env_id, label_pairs=pairs, player=index)
        states = {s: {"p_c": c, "p_d": d, "p_illegal": i} for s, (c, d, i) in table.states().items()}
        lines.append({"episode": done, "player": player, "reward_name": reward_name, "states": states})
    return lines
