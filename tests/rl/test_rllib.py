"""Ray RLlib's PPO trains two separate policies on the PettingZoo IPD, as ``examples/rllib_multiagent.py`` does.

RLlib pins an older gymnasium than the main venv's, so this module runs in its own venv (``make test-rllib``) and is
skipped elsewhere.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest
import torch
from gymnasium import spaces

pytest.importorskip("ray.rllib", reason="RLlib runs in its own venv (it pins gymnasium 1.2.2): run `make test-rllib`")
import ray

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "rllib_multiagent.py"
PLAYERS = ("player_0", "player_1")


def load_example():
    """The example as a module (``examples/`` is no package)."""
    spec = importlib.util.spec_from_file_location("rllib_multiagent", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


example = load_example()


@pytest.fixture(scope="module")
def trained():
    """The example's utilitarian PPO after two iterations: the algorithm and each iteration's results."""
    torch.set_num_threads(1)
    algo = example.build_config("utilitarian", seed=0).build_algo()
    try:
        yield algo, [algo.train() for _ in range(2)]
    finally:
        algo.stop()
        ray.shutdown()


def test_each_player_has_its_own_module_on_the_one_hot_box(trained):
    algo, _ = trained
    modules = [algo.get_module(player) for player in PLAYERS]
    assert modules[0] is not modules[1]
    for module in modules:
        assert module.observation_space == spaces.Box(0.0, 1.0, (8,), "float32")
        assert module.action_space == spaces.Discrete(2)


def test_both_policies_are_trained_with_finite_losses(trained):
    _, results = trained
    for result in results:
        for player in PLAYERS:
            stats = result["learners"][player]
            assert stats["num_module_steps_trained"] > 0
            for name in ("policy_loss", "vf_loss", "entropy", "total_loss"):
                assert math.isfinite(stats[name]), (player, name, stats[name])


def test_returns_are_utilitarian_and_rise_as_both_learn_to_cooperate(trained):
    algo, results = trained
    returns = [result["env_runners"]["module_episode_returns_mean"] for result in results]
    for player in PLAYERS:
        # 5 rounds of the joint payoff, 2 (D, D) to 6 (C, C) a round
        assert all(10.0 <= r[player] <= 30.0 for r in returns), returns
        assert returns[1][player] > returns[0][player], returns
    cooperation = example.cooperation_rates(algo, episodes=50, greedy=True, seed=1)
    assert min(cooperation.values()) >= 0.9, cooperation
