"""Register the five games' environment ids in PettingZoo's and Gymnasium's registries (run by ``import matrix_games``).

- ``pettingzoo.make("parallel", "matrix_games/IPD-v0", **kwargs)``: ``IteratedMatrixGameEnv``.
- ``pettingzoo.make("aec", "matrix_games/IPD-v0", **kwargs)``: the same env turned into AEC by ``parallel_to_aec``.
- ``gymnasium.make("matrix_games/IPD-v0", opponent="tit_for_tat", reward="deontological", **kwargs)``: the
  single-agent view ``IteratedMatrixGameVsStrategy``. ``gymnasium.make("matrix_games:matrix_games/IPD-v0")`` works
  without importing first: Gymnasium imports the module named before the colon, which registers the ids.

Registering twice (e.g. after ``importlib.reload``) is a no-op: ids already present are left alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import gymnasium
import pettingzoo
from pettingzoo.utils.conversions import parallel_to_aec

from matrix_games.parallel_env import IteratedMatrixGameEnv

NAMESPACE = "matrix_games"

ENV_IDS: Mapping[str, str] = MappingProxyType(
    {
        f"{NAMESPACE}/IPD-v0": "prisoners_dilemma",
        f"{NAMESPACE}/StagHunt-v0": "stag_hunt",
        f"{NAMESPACE}/Chicken-v0": "chicken",
        f"{NAMESPACE}/BachOrStravinsky-v0": "bach_or_stravinsky",
        f"{NAMESPACE}/DefectiveCoordination-v0": "defective_coordination",
    }
)
"""Each registered id and the game it plays."""


def make_aec_env(**kwargs: Any) -> pettingzoo.AECEnv:
    """``IteratedMatrixGameEnv(**kwargs)`` as an AEC env (PettingZoo's ``parallel_to_aec``)."""
    return parallel_to_aec(IteratedMatrixGameEnv(**kwargs))


def register_envs() -> None:
    """Register every id of ``ENV_IDS`` in PettingZoo (parallel and AEC) and Gymnasium, skipping ids already there."""
    for env_id, game in ENV_IDS.items():
        kwargs = {"game": game}
        if env_id not in pettingzoo.parallel_registry:
            pettingzoo.register(
                "parallel", env_id, entry_point="matrix_games.parallel_env:IteratedMatrixGameEnv", kwargs=kwargs
            )
        if env_id not in pettingzoo.aec_registry:
            pettingzoo.register("aec", env_id, entry_point="matrix_games.registration:make_aec_env", kwargs=kwargs)
        if env_id not in gymnasium.registry:
            gymnasium.register(
                id=env_id, entry_point="matrix_games.single_agent_env:IteratedMatrixGameVsStrategy", kwargs=kwargs
            )
