"""Stable-Baselines3 and SuperSuit train on our environments as their users would run them (the ``rl`` extra)."""

from __future__ import annotations

import gymnasium
import numpy as np
import pettingzoo
import pytest

import matrix_games  # noqa: F401 - registers the ids
from matrix_games.envs.wrappers import MoralRewardParallel

sb3 = pytest.importorskip("stable_baselines3")
from stable_baselines3.common.env_checker import check_env  # noqa: E402


@pytest.mark.parametrize("observation_type", ["numeric", "one_hot"])
def test_sb3_checker_accepts_the_gymnasium_view(observation_type):
    env = gymnasium.make(
        "matrix_games/PublicGoods-v0", opponent="conditional_cooperator", observation_type=observation_type
    )
    check_env(env.unwrapped, warn=True)
    check_env(gymnasium.make("matrix_games/IPD-v0", reward="deontological", observation_type=observation_type))


def greedy_actions(model, observations) -> list[int]:
    return [int(model.predict(np.asarray(o), deterministic=True)[0]) for o in observations]


def test_sb3_ppo_learns_what_each_reward_asks_against_tit_for_tat():
    """gamma = 0, as the paper: the utilitarian reward makes C best in every state, the game payoff D."""
    states = [[own, other] for own in (0, 1) for other in (0, 1)]
    learned = {}
    for reward in ("utilitarian", "game"):
        env = sb3.common.env_util.make_vec_env(
            lambda reward=reward: gymnasium.make(
                "matrix_games/IPD-v0", opponent="tit_for_tat", reward=reward, observation_type="numeric"
            ),
            n_envs=4,
            seed=0,
        )
        model = sb3.PPO("MlpPolicy", env, n_steps=128, batch_size=256, gamma=0.0, seed=0, device="cpu")
        model.learn(total_timesteps=6_000)
        learned[reward] = greedy_actions(model, states)
    assert learned == {"utilitarian": [0, 0, 0, 0], "game": [1, 1, 1, 1]}


def test_supersuit_self_play_with_a_shared_policy():
    supersuit = pytest.importorskip("supersuit")
    env = MoralRewardParallel(
        pettingzoo.make("parallel", "matrix_games/IPD-v0", observation_type="one_hot"), "utilitarian"
    )
    vector = supersuit.pettingzoo_env_to_vec_env_v1(env)
    vector = supersuit.concat_vec_envs_v1(vector, 4, num_cpus=0, base_class="stable_baselines3")
    assert vector.num_envs == 8 and vector.observation_space.shape == (8,)
    # SuperSuit 3.11's ConcatVecEnv has no seed(), which PPO(seed=...) calls: seed torch and the envs directly
    sb3.common.utils.set_random_seed(0)
    vector.venv.reset(seed=0)
    model = sb3.PPO("MlpPolicy", vector, n_steps=64, batch_size=256, gamma=0.0, device="cpu")
    model.learn(total_timesteps=4_096)
    one_hot = np.eye(4, dtype=np.float32)
    states = [np.concatenate((one_hot[own], one_hot[other])) for own in (0, 1) for other in (0, 1)]
    assert greedy_actions(model, states) == [0, 0, 0, 0]  # the joint payoff is higher after C whatever the other does
