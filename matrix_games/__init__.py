"""Iterated social dilemmas (the paper's five 2x2 games) as PettingZoo and Gymnasium environments, with moral rewards.

Importing the package registers the environment ids (``registration.ENV_IDS``) and the old paths of moved modules,
and nothing else; it never imports torch.

The layout shows the layers, each built only on those above it in this list:

- ``core/``: actions and labels, the games, one round (``rounds.play_round``), the round record and its codec, input
  checks, seeded streams: pure, no environment.
- ``rewards/``, ``text/`` (the prompts and label pools), ``strategies/``: moral rewards, what an LLM reads, baseline
  players; each on the core alone.
- ``metrics/``: rates, action types, regret and their plots, read from round records.
- ``envs/``: the PettingZoo and Gymnasium environments, their settings, observations, infos, wrappers and ids.
- ``play/``: matches, tournaments and Markov-chain expectations of strategies, without an environment.
- ``vector/``: the batched engine and its Gymnasium and PettingZoo faces.
- ``cli.py``: the ``matrix-games`` command.
"""

from matrix_games.compat import moved_modules
from matrix_games.core.actions import DEFAULT_LABELS, ILLEGAL, TEST_LABELS, Action, C, D
from matrix_games.core.games import GAMES, Game, MatrixGame, get_game
from matrix_games.core.records import RoundLog
from matrix_games.core.rounds import History, RoundOutcome, play_round
from matrix_games.envs.parallel_env import IteratedMatrixGameEnv
from matrix_games.envs.registration import ENV_IDS, register_envs
from matrix_games.envs.settings import GameSettings
from matrix_games.envs.single_agent_env import IteratedMatrixGameVsStrategy
from matrix_games.envs.wrappers import EpisodeRewards, MoralReward, MoralRewardParallel, RewardSchedule
from matrix_games.rewards import REWARD_NAMES, make_reward_fn
from matrix_games.strategies import STRATEGIES, Strategy, make_strategy
from matrix_games.text import DEONTOLOGICAL_PREFACE, PROMPT_KINDS, UTILITARIAN_PREFACE, render_prompt

register_envs()

# The package's modules sat flat in its root until they were grouped by layer; their old paths still import.
moved_modules(
    {
        f"matrix_games.{old}": f"matrix_games.{new}"
        for old, new in {
            "actions": "core.actions",
            "codec": "core.codec",
            "games": "core.games",
            "public_goods": "core.public_goods",
            "records": "core.records",
            "rounds": "core.rounds",
            "seeding": "core.seeding",
            "validation": "core.validation",
            "label_pools": "text.label_pools",
            "infos": "envs.infos",
            "observations": "envs.observations",
            "parallel_env": "envs.parallel_env",
            "registration": "envs.registration",
            "settings": "envs.settings",
            "single_agent_env": "envs.single_agent_env",
            "wrappers": "envs.wrappers",
            "markov": "play.markov",
            "matches": "play.matches",
            "tournament": "play.tournament",
            "plotting": "metrics.plotting",
        }.items()
    }
)

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
