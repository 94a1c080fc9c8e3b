"""Moral reward wrappers and the reward schedule."""

from __future__ import annotations

import gymnasium
import pytest
from gymnasium.utils.env_checker import check_env
from pettingzoo.test import parallel_api_test

import matrix_games  # noqa: F401 - registers the ids
from matrix_games import IteratedMatrixGameEnv, IteratedMatrixGameVsStrategy
from matrix_games.envs.wrappers import EpisodeRewards, MoralReward, MoralRewardParallel, RewardSchedule
from matrix_games.rewards import make_reward_fn


def play(env, actions):
    env.reset(seed=0)
    return [env.step(action) for action in actions]


def test_gym_wrapper_replaces_the_reward_and_keeps_the_game_payoff():
    base = IteratedMatrixGameVsStrategy(opponent="always_cooperate", initial_state="none", observation_type="numeric")
    env = MoralReward(base, "deontological")
    steps = play(env, [0, 1, 1])
    assert [s[1] for s in steps] == [0.0, -3.0, -3.0]
    assert [s[4]["game_reward"] for s in steps] == [3.0, 4.0, 4.0]
    assert [s[4]["moral_reward"] for s in steps] == [0.0, -3.0, -3.0]
    assert steps[1][4]["reward_name"] == "deontological"


def test_gym_wrapper_takes_any_reward_function_and_penalty():
    def double_game(outcome):
        return 2 * outcome.game_reward

    env = MoralReward(IteratedMatrixGameVsStrategy(opponent="always_defect", observation_type="numeric"), double_game)
    step = play(env, [1])[0]
    assert step[1] == 2.0 and step[4]["reward_name"] == "double_game"
    harsh = MoralReward(
        IteratedMatrixGameVsStrategy(opponent="always_cooperate", initial_state="none", observation_type="numeric"),
        "game_deontological",
        reward_parameters={"deontological_penalty": 10.0},
    )
    assert [s[1] for s in play(harsh, [1, 1])] == [4.0, -6.0]


def test_gym_wrapper_records_its_arguments_in_the_spec():
    env = MoralReward(gymnasium.make("matrix_games/IPD-v0", observation_type="numeric"), "utilitarian")
    check_env(env.unwrapped)
    assert env.spec.additional_wrappers[-1].kwargs["reward"] == "utilitarian"


def test_wrapper_uses_the_envs_illegal_reward():
    base = IteratedMatrixGameVsStrategy(allow_illegal=True, illegal_reward=-15.0, observation_type="numeric")
    assert play(MoralReward(base, "utilitarian"), [2])[0][1] == -15.0


def test_parallel_wrapper_rewards_both_players():
    env = MoralRewardParallel(IteratedMatrixGameEnv(initial_state="none", observation_type="numeric"), "utilitarian")
    env.reset(seed=0)
    _, rewards, _, _, infos = env.step({"player_0": 1, "player_1": 0})
    assert rewards == {"player_0": 4.0, "player_1": 4.0}
    assert (infos["player_0"]["game_reward"], infos["player_1"]["game_reward"]) == (4.0, 0.0)
    env = MoralRewardParallel(IteratedMatrixGameEnv(initial_state="none", observation_type="numeric"), "deontological")
    env.reset(seed=0)
    env.step({"player_0": 0, "player_1": 0})
    rewards = env.step({"player_0": 1, "player_1": 0})[1]
    assert rewards == {"player_0": -3.0, "player_1": 0.0}


def test_parallel_wrapper_passes_the_api_test():
    parallel_api_test(MoralRewardParallel(IteratedMatrixGameEnv(), "game_deontological"), num_cycles=20)


def test_schedule_parsing_and_lookup():
    schedule = RewardSchedule.parse("game:500, deontological:500")
    assert schedule.phases == (("game", 500), ("deontological", 500))
    assert [schedule.reward_name(e) for e in (0, 499, 500, 999, 5000)] == ["game"] * 2 + ["deontological"] * 3
    open_ended = RewardSchedule.parse("game:2,utilitarian")
    assert open_ended.reward_name(10**6) == "utilitarian" and str(open_ended) == "game:2,utilitarian"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "expected e.g. 'game:500,deontological:500'"),
        ("game:many", "episode count must be an integer"),
        ("game:0", "expected a positive integer"),
        ("game,deontological:5", "Only the last phase"),
        ("gaem:5", "Did you mean 'game'"),
    ],
)
def test_schedule_errors_are_clear(text, message):
    with pytest.raises(ValueError, match=message):
        RewardSchedule.parse(text)


def test_scheduled_wrapper_switches_by_episode_count():
    base = IteratedMatrixGameVsStrategy(opponent="always_cooperate", num_rounds=1, observation_type="numeric")
    env = MoralReward(base, "game:2,utilitarian")
    rewards = []
    for episode in range(4):
        env.reset(seed=episode)
        rewards.append(env.step(0)[1])
    assert rewards == [3.0, 3.0, 6.0, 6.0]
    assert env.rewards.episode == 3 and env.rewards.name == "utilitarian"


def test_episode_rewards_need_an_outcome():
    rewards = EpisodeRewards(make_reward_fn("deontological"))
    with pytest.raises(ValueError, match="info has no 'outcome'"):
        rewards({"game_reward": 1.0})
