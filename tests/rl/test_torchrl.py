"""TorchRL wraps our PettingZoo env and our Gymnasium view, specs checked, rollouts as TensorDicts (the ``rl``
extra)."""

from __future__ import annotations

import warnings

import pettingzoo
import pytest

import matrix_games  # noqa: F401 - registers the ids
from matrix_games.envs.wrappers import MoralRewardParallel

torchrl = pytest.importorskip("torchrl")
from torchrl.envs import GymEnv  # noqa: E402
from torchrl.envs.libs.pettingzoo import PettingZooWrapper  # noqa: E402
from torchrl.envs.utils import check_env_specs  # noqa: E402


@pytest.mark.parametrize("env_id", ["matrix_games/IPD-v0", "matrix_games/PublicGoods-v0"])
def test_pettingzoo_wrapper_holds_every_info_and_the_moral_reward(env_id):
    env = MoralRewardParallel(pettingzoo.make("parallel", env_id, observation_type="numeric"), "deontological")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # TorchRL was tested with PettingZoo 1.24.3
        wrapped = PettingZooWrapper(env, return_state=False, use_mask=True)
    check_env_specs(wrapped)
    rollout = wrapped.rollout(50, break_when_any_done=False)
    info = rollout.get(("next", "player", "info"))
    reward = rollout.get(("next", "player", "reward")).squeeze(-1)
    assert (info.get("moral_reward") == reward).all()
    assert set(reward.unique().tolist()) <= {0.0, -3.0}  # the deontological reward: 0 or -xi
    assert (info.get("round") >= 1).all() and (info.get("round") <= 5).all()


def test_gym_env_takes_the_one_hot_view():
    env = GymEnv("matrix_games/IPD-v0", opponent="tit_for_tat", reward="utilitarian", observation_type="one_hot")
    check_env_specs(env)
    rollout = env.rollout(20, break_when_any_done=False)
    assert rollout.get("observation").shape == (20, 8)
    assert set(rollout.get(("next", "reward")).unique().tolist()) <= {2.0, 4.0, 6.0}
