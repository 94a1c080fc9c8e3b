"""Bad input at the environments' edges gets one clear error naming the value; good input of any numeric kind passes."""

from __future__ import annotations

import math

import gymnasium
import numpy as np
import pettingzoo
import pytest

import matrix_games  # noqa: F401 - registers the ids
from matrix_games import IteratedMatrixGameEnv, MatrixGame
from matrix_games.core.actions import validate_labels
from matrix_games.envs.registration import env_id
from matrix_games.envs.wrappers import MoralRewardParallel
from matrix_games.play.matches import iter_match
from matrix_games.rewards import make_reward_fn


@pytest.mark.parametrize(
    "table",
    [
        [[(math.nan, 3), (0, 4)], [(4, 0), (1, 1)]],
        [[(3, 3), (0, math.inf)], [(4, 0), (1, 1)]],
    ],
)
def test_non_finite_payoffs_are_refused(table):
    with pytest.raises(ValueError, match="finite number"):
        MatrixGame.from_table("broken", table)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"illegal_reward": math.nan}, "illegal_reward must be a finite number, got nan"),
        ({"illegal_reward": "x"}, "illegal_reward must be a finite number, got 'x'"),
        ({"noise": "0.1"}, "Invalid noise '0.1'"),
    ],
)
def test_environment_settings_name_the_bad_value(kwargs, message):
    with pytest.raises(ValueError, match=message):
        IteratedMatrixGameEnv(**kwargs)


def test_numpy_numbers_are_numbers():
    env = IteratedMatrixGameEnv(noise=np.float32(0.5), num_rounds=np.int64(3), illegal_reward=np.float64(-6))
    assert env.noise == 0.5 and env.num_rounds == 3


@pytest.mark.parametrize("penalty", [math.inf, -1.0, math.nan])
def test_a_bad_deontological_penalty_is_refused_everywhere(penalty):
    with pytest.raises(ValueError, match="deontological_penalty"):
        make_reward_fn("deontological", parameters={"deontological_penalty": penalty})
    parameters = {"deontological_penalty": penalty}
    with pytest.raises(ValueError, match="deontological_penalty"):
        gymnasium.make("matrix_games/IPD-v0", reward="deontological", reward_parameters=parameters)
    with pytest.raises(ValueError, match="deontological_penalty"):
        MoralRewardParallel(IteratedMatrixGameEnv(), "deontological", reward_parameters=parameters)


def test_the_old_deontological_penalty_keyword_still_works_with_a_deprecation_message():
    with pytest.warns(FutureWarning, match=r"reward_parameters=\{'deontological_penalty': 4.0\}"):
        env = gymnasium.make("matrix_games/IPD-v0", reward="deontological", deontological_penalty=4.0)
    moral = env
    while not hasattr(moral, "rewards"):  # below gymnasium's own wrappers
        moral = moral.env
    assert moral.rewards.parameters.deontological_penalty == 4.0


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ((" C", "D"), "surrounding whitespace"),
        (("C", ""), "must not be empty"),
        (("C", "C"), "two different labels"),
        (("C", "C."), "cannot be told apart"),
        (("go", "go on"), "cannot be told apart"),
    ],
)
def test_labels_that_could_not_be_parsed_apart_are_refused(labels, message):
    with pytest.raises(ValueError, match=message):
        validate_labels(labels)
    assert validate_labels(("C", "CD")) == ("C", "CD")  # "CD" is no word of "C": the answers stay distinct


@pytest.mark.parametrize("action", ["0", True, np.bool_(False), 1.0, None])
def test_actions_must_be_integers(action):
    env = IteratedMatrixGameEnv()
    env.reset(seed=0)
    with pytest.raises(ValueError, match="from player_0: expected an integer"):
        env.step({"player_0": action, "player_1": 0})
    single = gymnasium.make("matrix_games/IPD-v0")
    single.reset(seed=0)
    with pytest.raises(ValueError, match="expected an integer"):
        single.step(action)


def test_integer_kinds_are_accepted():
    env = IteratedMatrixGameEnv()
    env.reset(seed=0)
    _, rewards, _, _, infos = env.step({"player_0": np.int64(1), "player_1": np.array([0])})
    assert rewards == {"player_0": 4.0, "player_1": 0.0}  # D against C in the paper's IPD
    assert infos["player_0"]["action"] == 1 and type(infos["player_0"]["action"]) is int
    assert infos["player_1"]["action"] == 0 and type(infos["player_1"]["action"]) is int


def test_an_invalid_aec_action_is_blamed_on_the_agent_that_sent_it():
    env = pettingzoo.make("aec", "matrix_games/IPD-v0", observation_type="numeric")
    env.reset(seed=0)
    env.step(0)  # player_0
    with pytest.raises(ValueError, match="from player_1"):
        env.step(7)


def test_an_unknown_game_lists_the_registered_ids():
    with pytest.raises(ValueError, match=r"Registered environment ids: \['matrix_games/IPD-v0'"):
        env_id("Poker-v0")


def test_a_match_streams_its_rounds():
    rounds = iter_match("prisoners_dilemma", "tit_for_tat", "random", num_rounds=10**12)
    first = next(rounds)  # nothing is played ahead: a huge match starts at once
    assert first[0].num_players == 2
