"""The names of trained models in reports: the paper's name of the training reward (or schedule) and the opponent.

Training runs with the same name are seeds of one model; the test bench names its evaluations the same way, so the
report groups a model's training runs and evaluations together.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from matrix_games.label_pools import pool_of
from matrix_games.wrappers import as_schedule

PAPER_MODEL_NAMES: Mapping[str, str] = {
    "game": "Game payoffs",
    "deontological": "Deontological",
    "utilitarian": "Utilitarian",
    "game_deontological": "Game + Deontological",
}
"""The paper's names for the models trained on each reward (its Fig. 4 columns)."""

NO_FINE_TUNING = "No fine-tuning"
"""The name of the base model, evaluated without training."""

PAPER_MODEL_ORDER = (
    NO_FINE_TUNING,
    "Game payoffs",
    "Deontological",
    "Utilitarian",
    "Game + Deontological",
    "Game payoffs, then Deontological",
    "Game payoffs, then Utilitarian",
)
"""The order of the paper's Fig. 4 columns; a label starting with one of these sorts with it."""


def model_label(run_config: Mapping[str, Any]) -> str:
    """The model name of a training run (its config as plain data): the paper's name of its reward, its opponent,
    its game when it is not the Prisoner's Dilemma, its label pool if it trained on one, and GRPO when it was trained
    with it (PPO is the paper's), with its answers per state when more than one.

    Example:
        >>> model_label({"reward": "game:500,deontological:500", "opponent": "tit_for_tat"})
        'Game payoffs, then Deontological (vs tit_for_tat)'
        >>> model_label({"reward": "utilitarian", "opponent": "conditional_cooperator", "game": "PublicGoods-v0"})
        'Utilitarian (vs conditional_cooperator, PublicGoods-v0)'
        >>> model_label({"reward": "utilitarian", "opponent": "tit_for_tat", "algorithm": "grpo"})
        'Utilitarian (vs tit_for_tat, GRPO)'
        >>> model_label({"reward": "game", "algorithm": "grpo", "grpo": {"num_generations": 4}})
        'Game payoffs (vs tit_for_tat, GRPO G=4)'
        >>> model_label({"reward": "utilitarian", "labels": {"pairs": [], "generator": "letters"}})
        'Utilitarian (vs tit_for_tat, letters label pool)'
    """
    reward = str(run_config.get("reward", "game"))
    phases = [name for name, _ in as_schedule(reward).phases]
    name = ", then ".join(PAPER_MODEL_NAMES.get(phase, phase) for phase in phases)
    game = str(run_config.get("game", "IPD-v0"))
    where = "" if game in ("IPD-v0", "matrix_games/IPD-v0", "prisoners_dilemma") else f", {game}"
    return f"{name} (vs {run_config.get('opponent', 'tit_for_tat')}{where}{_pool(run_config)}{_algorithm(run_config)})"


def _pool(run_config: Mapping[str, Any]) -> str:
    """A label pool's name; none for one fixed pair (the test bench names the labels it tests with)."""
    pool = pool_of(run_config.get("labels"))
    if pool is None:
        return ""
    return f", {pool.generator} label pool" if pool.generator else f", pool of {len(pool.pairs)} label pairs"


def _algorithm(run_config: Mapping[str, Any]) -> str:
    """GRPO, and its answers per state when more than one (PPO, the paper's, is not named)."""
    if run_config.get("algorithm", "ppo") != "grpo":
        return ""
    generations = int((run_config.get("grpo") or {}).get("num_generations", 1))
    return ", GRPO" if generations == 1 else f", GRPO G={generations}"
