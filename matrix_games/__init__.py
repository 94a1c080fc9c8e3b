"""Iterated social dilemmas (the paper's five 2x2 games) as PettingZoo and Gymnasium environments, with moral rewards.

Importing the package registers the environment ids (``registration.ENV_IDS``) and nothing else; it never imports
torch.
"""

from matrix_games.actions import DEFAULT_LABELS, ILLEGAL, TEST_LABELS, Action, C, D
from matrix_games.games import GAMES, Game, MatrixGame, get_game
from matrix_games.parallel_env import IteratedMatrixGameEnv
from matrix_games.records import RoundLog
from matrix_games.registration import ENV_IDS, register_envs
from matrix_games.rewards import REWARD_NAMES, make_reward_fn
from matrix_games.rounds import History, RoundOutcome, play_round
from matrix_games.settings import GameSettings
from matrix_games.single_agent_env import IteratedMatrixGameVsStrategy
from matrix_games.strategies import STRATEGIES, Strategy, make_strategy
from matrix_games.text import DEONTOLOGICAL_PREFACE, PROMPT_KINDS, UTILITARIAN_PREFACE, render_prompt
from matrix_games.wrappers import EpisodeRewards, MoralReward, MoralRewardParallel, RewardSchedule

register_envs()

__all__ = [
    "DEFAULT_LABELS",
    "DEONTOLOGICAL_PREFACE",
    "ENV_IDS",
    "GAMES",
    "ILLEGAL",
    "PROMPT_KINDS",
    "REWARD_NAMES",
    "STRATEGIES",
    "TEST_LABELS",
    "UTILITARIAN_PREFACE",
    "Action",
    "C",
    "D",
    "EpisodeRewards",
    "Game",
    "GameSettings",
    "History",
    "IteratedMatrixGameEnv",
    "IteratedMatrixGameVsStrategy",
    "MatrixGame",
    "MoralReward",
    "MoralRewardParallel",
    "RewardSchedule",
    "RoundLog",
    "RoundOutcome",
    "Strategy",
    "get_game",
    "make_reward_fn",
    "make_strategy",
    "play_round",
    "render_prompt",
]
