"""Moral rewards: pure functions of one round (``frameworks``), by name and as weighted sums (``registry``), and
switched by episode (``schedule``). docs/rewards.md gives each formula and its source.
"""

from matrix_games.rewards.frameworks import (
    DEFAULT_DEONTOLOGICAL_PENALTY,
    DEFAULT_ILLEGAL_REWARD,
    DEFAULT_INEQUITY_ALPHA,
    DEFAULT_INEQUITY_BETA,
    DEFAULT_KINDNESS,
    deontological,
    game,
    game_deontological,
    inequity_aversion,
    is_betrayal,
    utilitarian,
    virtue_equality,
    virtue_kindness,
)
from matrix_games.rewards.registry import (
    REWARD_NAMES,
    RewardFn,
    RewardParameters,
    check_reward_name,
    make_reward_fn,
    parse_reward,
    register_reward,
    reward_names,
)
from matrix_games.rewards.schedule import RewardSchedule, as_schedule

__all__ = [
    "DEFAULT_DEONTOLOGICAL_PENALTY",
    "DEFAULT_ILLEGAL_REWARD",
    "DEFAULT_INEQUITY_ALPHA",
    "DEFAULT_INEQUITY_BETA",
    "DEFAULT_KINDNESS",
    "REWARD_NAMES",
    "RewardFn",
    "RewardParameters",
    "RewardSchedule",
    "as_schedule",
    "check_reward_name",
    "deontological",
    "game",
    "game_deontological",
    "inequity_aversion",
    "is_betrayal",
    "make_reward_fn",
    "parse_reward",
    "register_reward",
    "reward_names",
    "utilitarian",
    "virtue_equality",
    "virtue_kindness",
]
