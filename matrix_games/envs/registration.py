"""The environment ids: one table of them, their registration with PettingZoo and Gymnasium, and lookups.

- ``pettingzoo.make("parallel", "matrix_games/IPD-v0", **kwargs)``: ``IteratedMatrixGameEnv``.
- ``pettingzoo.make("aec", "matrix_games/IPD-v0", **kwargs)``: the same env turned into AEC by ``parallel_to_aec``.
- ``gymnasium.make("matrix_games/IPD-v0", opponent="tit_for_tat", reward="deontological", **kwargs)``: the
  single-agent view ``IteratedMatrixGameVsStrategy`` with the ``MoralReward`` wrapper applied
  (``single_agent_env.make_single_agent_env``). ``gymnasium.make("matrix_games:matrix_games/IPD-v0")`` works without
  importing first: Gymnasium imports the module named before the colon, which registers the ids.
- ``gymnasium.make_vec("matrix_games/IPD-v0", num_envs=B, ...)``: the vectorised engine's ``MatrixGameVectorEnv``
  (its default ``vectorization_mode``, ``"vector_entry_point"``; ``"sync"``/``"async"`` still step B single envs,
  which is how text observations are vectorised).

``register_envs`` runs when ``matrix_games`` is imported; registering twice (e.g. after ``importlib.reload``) is a
no-op. ``env_id`` and ``game_of`` are the one place that maps ids to games and back.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import gymnasium
import pettingzoo
from pettingzoo.utils.conversions import parallel_to_aec_wrapper
from pettingzoo.utils.wrappers import OrderEnforcingWrapper

from matrix_games.core.games import GAMES
from matrix_games.core.validation import close_match
from matrix_games.envs.parallel_env import IteratedMatrixGameEnv

NAMESPACE = "matrix_games"

ENV_IDS: Mapping[str, str] = MappingProxyType(
    {
        f"{NAMESPACE}/IPD-v0": "prisoners_dilemma",
        f"{NAMESPACE}/StagHunt-v0": "stag_hunt",
        f"{NAMESPACE}/Chicken-v0": "chicken",
        f"{NAMESPACE}/BachOrStravinsky-v0": "bach_or_stravinsky",
        f"{NAMESPACE}/DefectiveCoordination-v0": "defective_coordination",
        f"{NAMESPACE}/PublicGoods-v0": "public_goods",
    }
)
"""Each registered id and its game (``PublicGoods-v0`` takes ``num_players``, ``endowment``, ``multiplier``)."""

SHORT_IDS: tuple[str, ...] = tuple(full.split("/", 1)[1] for full in ENV_IDS)
"""The ids without namespace (``IPD-v0``, ...), as the command lines and logs write them."""

PAPER_IDS: tuple[str, ...] = SHORT_IDS[:5]
"""The paper's five 2x2 games."""


def env_id(game: str) -> str:
    """The short id (``"IPD-v0"``) of an id with or without namespace, or of a game name; else a ValueError that
    lists the registered ids.

    Example:
        >>> env_id("matrix_games/StagHunt-v0"), env_id("chicken")
        ('StagHunt-v0', 'Chicken-v0')
    """
    if not isinstance(game, str):
        raise ValueError(f"An environment id is a string such as 'IPD-v0', got {game!r}.")
    short = game.removeprefix(f"{NAMESPACE}/")
    if short in SHORT_IDS:
        return short
    by_game = {name: full.split("/", 1)[1] for full, name in ENV_IDS.items()}
    by_game.setdefault("public_goods", "PublicGoods-v0")
    if game in by_game:
        return by_game[game]
    raise ValueError(
        f"Unknown game {game!r}.{close_match(short, [*SHORT_IDS, *GAMES])} Registered environment ids: "
        f"{[f'{NAMESPACE}/{s}' for s in SHORT_IDS]} (or a game name from {sorted(GAMES)})."
    )


def game_of(game: str) -> str:
    """The ``GAMES`` name behind an environment id or a game name (``"IPD-v0"`` -> ``"prisoners_dilemma"``)."""
    return ENV_IDS[f"{NAMESPACE}/{env_id(game)}"]


class IteratedMatrixGameAEC(parallel_to_aec_wrapper):
    """PettingZoo's AEC view of the parallel env, with a clear error for an action after a player's game ended.

    PettingZoo's own conversion answers such an action with a bare ``AssertionError()`` (and drops the pending
    action first); the AEC convention is that a finished agent is stepped with ``None``.
    """

    def step(self, action: Any) -> None:
        agent = self.agent_selection
        if action is not None and (self.terminations.get(agent) or self.truncations.get(agent)):
            ended = "terminated" if self.terminations.get(agent) else "truncated"
            raise ValueError(
                f"{agent}'s game has {ended}, so its only valid action is None, got {action!r}: step(None) for each "
                "finished agent (env.agent_iter() then ends), or reset() to play again."
            )
        super().step(action)


def make_aec_env(**kwargs: Any) -> pettingzoo.AECEnv:
    """``IteratedMatrixGameEnv(**kwargs)`` as an AEC env (PettingZoo's ``parallel_to_aec``, with a clear error for an
    action after the end)."""
    return OrderEnforcingWrapper(IteratedMatrixGameAEC(IteratedMatrixGameEnv(**kwargs)))


def register_envs() -> None:
    """Register every id of ``ENV_IDS`` in PettingZoo (parallel and AEC) and Gymnasium, skipping ids already there."""
    for full_id, game in ENV_IDS.items():
        kwargs = {"game": game}
        if full_id not in pettingzoo.parallel_registry:
            entry_point = "matrix_games.envs.parallel_env:IteratedMatrixGameEnv"
            pettingzoo.register("parallel", full_id, entry_point=entry_point, kwargs=kwargs)
        if full_id not in pettingzoo.aec_registry:
            pettingzoo.register(
                "aec", full_id, entry_point="matrix_games.envs.registration:make_aec_env", kwargs=kwargs
            )
        if full_id not in gymnasium.registry:
            gymnasium.register(
                id=full_id,
                entry_point="matrix_games.envs.single_agent_env:make_single_agent_env",
                vector_entry_point="matrix_games.vector.gym_env:MatrixGameVectorEnv",
                kwargs=kwargs,
            )
