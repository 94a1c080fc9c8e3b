"""The n-player public goods game: payoffs, rewards and regrets by hand, the 2x2 equivalence, the environments'
conformance for 2, 3, 4 and 8 players, its prompt, strategies and tournaments, and its bad input."""

from __future__ import annotations

import math
import re
import warnings

import gymnasium
import numpy as np
import pettingzoo
import pytest
from gymnasium.utils.env_checker import check_env
from pettingzoo.test import api_test, parallel_api_test, parallel_seed_test

import matrix_games  # noqa: F401 - registers the ids
from matrix_games import IteratedMatrixGameEnv, MatrixGame
from matrix_games.core.actions import C, D
from matrix_games.core.public_goods import PublicGoodsGame
from matrix_games.core.rounds import History, play_round
from matrix_games.metrics import deontological_regret, utilitarian_regret
from matrix_games.play.tournament import round_robin
from matrix_games.rewards import REWARD_NAMES, make_reward_fn
from matrix_games.strategies import make_strategy

PGG = PublicGoodsGame()
SIZES = (2, 3, 4, 8)


def outcomes(actions, previous=None, game=PGG):
    previous = previous if previous is not None else (C,) * game.num_players
    return play_round(game, actions, previous, illegal_reward=-6.0)


def test_payoffs_of_the_defaults():
    assert PGG.round_payoffs((C, C, C, D)) == (12.0, 12.0, 12.0, 22.0)
    assert PGG.round_payoffs((C, C, C, C)) == (16.0,) * 4
    assert PGG.round_payoffs((D, D, D, D)) == (10.0,) * 4
    assert PGG.best_joint_payoff == 64.0
    assert PublicGoodsGame(num_players=3, endowment=6, multiplier=2).round_payoffs((C, D, D)) == (4.0, 10.0, 10.0)


def test_the_deontological_reward_counts_the_others_majority():
    after_all_c = outcomes((C, C, C, D), previous=(C, C, C, C))
    deontological = make_reward_fn("deontological")
    assert [deontological(o) for o in after_all_c] == [0.0, 0.0, 0.0, -3.0]
    half = outcomes((D, C, C, C), previous=(C, C, D, D))  # player_0 saw 1 of 3 others contribute: no norm broken
    assert deontological(half[0]) == 0.0
    two_of_three = outcomes((D, C, C, C), previous=(D, C, C, D))  # 2 of 3 others contributed: a betrayal
    assert deontological(two_of_three[0]) == -3.0
    assert make_reward_fn("game_deontological")(after_all_c[3]) == 22.0 - 3.0


def test_the_other_frameworks_by_hand():
    round_ = outcomes((C, C, C, D))
    assert make_reward_fn("utilitarian")(round_[0]) == 58.0
    assert make_reward_fn("virtue_equality")(round_[0]) == pytest.approx(1 - 60 / 348)
    assert make_reward_fn("virtue_equality")(round_[0]) == pytest.approx(0.8276, abs=1e-4)
    assert make_reward_fn("virtue_kindness")(round_[0]) == 1.0 and make_reward_fn("virtue_kindness")(round_[3]) == 0.0
    # inequity aversion: player_0 (12) envies one who got 22: 12 - 5/3 * 10; player_3 (22) feels guilt: 22 - 0.05/3 * 30
    aversion = make_reward_fn("inequity_aversion")
    assert aversion(round_[0]) == pytest.approx(12 - 5 / 3 * 10)
    assert aversion(round_[3]) == pytest.approx(22 - 0.05 / 3 * 30)


def test_regrets_by_hand():
    """4 players, defaults: the defector after a round of all C has deontological regret 4 (xi = 4 at test); the
    round's joint payoff is 58 of U_max = 64, so its utilitarian regret is (64 - 58) / (64 + 6) = 6/70."""
    round_ = outcomes((C, C, C, D), previous=(C, C, C, C))
    assert deontological_regret(round_[3]) == 4.0 and deontological_regret(round_[0]) == 0.0
    assert utilitarian_regret(round_[0], PGG) == pytest.approx(6 / 70)
    illegal = play_round(PGG, (2, C, C, C), (C, C, C, C), illegal_reward=-6.0)
    assert deontological_regret(illegal[0]) == 6.0 and utilitarian_regret(illegal[0], PGG) == 1.0


def test_with_two_players_it_is_the_2x2_game():
    pgg = PublicGoodsGame(num_players=2)
    table = MatrixGame.from_table("pgg2", [[pgg.round_payoffs((a, b)) for b in (0, 1)] for a in (0, 1)])
    assert pgg.as_matrix_game().payoffs == table.payoffs
    for actions in ((C, C), (C, D), (D, C), (D, D)):
        for previous in ((C, C), (C, D), (D, C), (D, D)):
            for player in (0, 1):
                a = play_round(pgg, actions, previous, illegal_reward=-6.0)[player]
                b = play_round(table, actions, previous, illegal_reward=-6.0)[player]
                assert a.payoffs == b.payoffs and a.game_rewards == b.game_rewards
                for name in REWARD_NAMES:
                    assert make_reward_fn(name)(a) == pytest.approx(make_reward_fn(name)(b)), name
                assert deontological_regret(a) == deontological_regret(b)
                assert utilitarian_regret(a, pgg) == pytest.approx(utilitarian_regret(b, table))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_players": 1}, "num_players must be a whole number from 2 to 1000, got 1"),
        ({"num_players": 2.5}, "got 2.5"),
        ({"endowment": -10}, r"endowment must be a positive number of at most 1e\+06, got -10"),
        ({"multiplier": math.inf}, "multiplier must be a finite number, got inf"),
        ({"multiplier": "x"}, "multiplier must be a finite number, got 'x'"),
    ],
)
def test_bad_game_parameters_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PublicGoodsGame(**kwargs)


def test_a_multiplier_outside_the_dilemma_warns():
    with pytest.warns(UserWarning, match="not strictly between 1 and num_players=4"):
        PublicGoodsGame(multiplier=4.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        PublicGoodsGame(multiplier=3.9)


def test_an_opponent_list_of_the_wrong_length_is_refused():
    with pytest.raises(ValueError, match="opponent lists 2 strategies for 3 other players"):
        gymnasium.make("matrix_games/PublicGoods-v0", opponent=["random", "always_defect"])
    with pytest.raises(ValueError, match="Did you mean 'deontological'"):
        gymnasium.make("matrix_games/PublicGoods-v0", reward="game+deontologcal")


@pytest.mark.parametrize("players", SIZES)
def test_the_environments_pass_the_libraries_checks(players):
    for observation_type in ("numeric", "dict", "text"):
        env = pettingzoo.make(
            "parallel",
            "matrix_games/PublicGoods-v0",
            num_players=players,
            observation_type=observation_type,
            allow_illegal=True,
            noise=0.1,
        )
        parallel_api_test(env, num_cycles=20)
    for observation_type in ("numeric", "dict"):
        api_test(
            pettingzoo.make(
                "aec", "matrix_games/PublicGoods-v0", num_players=players, observation_type=observation_type
            ),
            num_cycles=20,
        )
    parallel_seed_test(
        lambda: pettingzoo.make("parallel", "matrix_games/PublicGoods-v0", num_players=players, noise=0.2)
    )
    single = gymnasium.make(
        "matrix_games/PublicGoods-v0", num_players=players, opponent="conditional_cooperator", reward="utilitarian"
    )
    check_env(single.unwrapped)


@pytest.mark.parametrize("players", SIZES)
def test_whole_trajectories_are_reproducible(players):
    def trajectory(seed):
        env = IteratedMatrixGameEnv("public_goods", num_players=players, noise=0.3, observation_type="dict")
        rng = np.random.default_rng(seed)
        record = [env.reset(seed=seed)]
        for _ in range(7):
            record.append(
                env.step({agent: int(rng.integers(2)) for agent in env.agents}) if env.agents else env.reset()
            )
        return repr(record)

    assert trajectory(3) == trajectory(3) != trajectory(4)


def test_the_numeric_observation_is_own_move_and_how_many_others_contributed():
    env = IteratedMatrixGameEnv("public_goods", num_players=4, observation_type="numeric", initial_state="none")
    observations, _ = env.reset(seed=0)
    assert observations["player_0"].tolist() == [3, 4]  # no previous round: 3, and n = 4
    observations, *_ = env.step({"player_0": C, "player_1": C, "player_2": D, "player_3": C})
    assert observations["player_0"].tolist() == [0, 2] and observations["player_2"].tolist() == [1, 3]


def test_the_prompt_shows_the_table_and_the_last_round():
    env = IteratedMatrixGameEnv(
        "public_goods", num_players=3, endowment=6, multiplier=2, observation_type="text", action_labels=("C", "D")
    )
    observations, _ = env.reset(seed=1)
    text = observations["player_0"]
    assert "playing a game with 2 other agents" in text and "Each of you holds 6 points" in text
    assert "| 0 |  4     |  6     |" in text and "| 2 |  12     |  14     |" in text  # payoffs by others contributing
    assert text.endswith("Do not explain your reasoning. Your answer: ")
    first = IteratedMatrixGameEnv("public_goods", observation_type="text", initial_state="none").reset(seed=0)[0]
    assert "This is your first round with these agents." in first["player_1"]
    with pytest.raises(ValueError, match="Invalid prompt 'poetic' for the public goods game"):
        IteratedMatrixGameEnv("public_goods", prompt="poetic")


def test_n_player_strategies():
    cooperator = make_strategy("conditional_cooperator")
    rng = np.random.default_rng(0)
    assert cooperator.act(History(), rng) == C
    assert cooperator.act(History.of_player(0, [(C, C, C, D)]), rng) == C  # 2 of 3 others contributed
    assert cooperator.act(History.of_player(0, [(C, C, D, D)]), rng) == D
    assert make_strategy("conditional_cooperator", k=3).act(History.of_player(0, [(C, C, C, D)]), rng) == D
    grim = make_strategy("group_grim_trigger")
    assert grim.act(History.of_player(0, [(C, C, C, C)]), rng) == C
    assert grim.act(History.of_player(0, [(C, C, C, D), (C, C, C, C)]), rng) == D
    tit_for_tat = make_strategy("tit_for_tat")  # lifted: copies the others' majority
    assert tit_for_tat.act(History.of_player(0, [(D, C, C, D)]), rng) == C
    assert tit_for_tat.act(History.of_player(0, [(C, C, D, D)]), rng) == D


def test_a_tournament_seats_groups_of_n():
    result = round_robin(
        PublicGoodsGame(num_players=3), ["always_cooperate", "always_defect", "conditional_cooperator"], num_rounds=4
    )
    assert len(result.records) == 10 * 3  # C(3 + 3 - 1, 3) groups, 3 seats each
    ranking = [standing.strategy for standing in result.standings()]
    assert ranking == ["conditional_cooperator", "always_defect", "always_cooperate"]  # reciprocity wins with self-play
    payoffs = {(r.strategy, r.opponent): r.mean_payoff for r in result.records}
    assert payoffs[("always_defect", "always_cooperate+always_cooperate")] == pytest.approx(20 + 2 / 3)  # free rider
    assert payoffs[("always_cooperate", "always_cooperate+always_defect")] == pytest.approx(10 + 2 / 3)


@pytest.mark.parametrize("env_id", ["matrix_games/IPD-v0", "matrix_games/PublicGoods-v0"])
def test_pettingzoo_max_cycles_and_render_tests_pass(env_id):
    from types import SimpleNamespace

    from pettingzoo.test import max_cycles_test, render_test

    module = SimpleNamespace(
        parallel_env=lambda **kwargs: pettingzoo.make("parallel", env_id, observation_type="numeric", **kwargs),
        env=lambda **kwargs: pettingzoo.make("aec", env_id, observation_type="numeric", **kwargs),
    )
    max_cycles_test(module)
    render_test(lambda render_mode=None: pettingzoo.make("aec", env_id, render_mode=render_mode))
    with pytest.raises(ValueError, match="max_cycles=4 and num_rounds=5 disagree"):
        pettingzoo.make("parallel", env_id, max_cycles=4, num_rounds=5)


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"endowment": 1e150}, "endowment must be a positive number of at most 1e+06, got 1e+150"),
        ({"endowment": 0}, "endowment must be a positive number"),
        ({"multiplier": 1e9}, "multiplier must be a positive number of at most 1000, got 1000000000.0"),
        ({"multiplier": -1}, "multiplier must be a positive number"),
        ({"num_players": 10**6}, "num_players must be a whole number from 2 to 1000, got 1000000"),
        ({"num_players": float("inf")}, "num_players must be a whole number from 2 to 1000, got inf"),
    ],
)
def test_absurd_sizes_are_refused(settings, named):
    with pytest.raises(ValueError, match=re.escape(named)):
        PublicGoodsGame(**settings)


@pytest.mark.parametrize("num_players", [2, 7, 40])
@pytest.mark.parametrize(("endowment", "multiplier"), [(1e6, 1e3), (0.123456, 999.99), (1e-9, 1.5)])
def test_observations_stay_in_their_space_at_the_largest_sizes(num_players, endowment, multiplier):
    env = pettingzoo.make(
        "parallel",
        "matrix_games/PublicGoods-v0",
        num_players=num_players,
        endowment=endowment,
        multiplier=multiplier,
        observation_type="text",
        num_rounds=3,
    )
    observations, _ = env.reset(seed=0)
    space = env.observation_space(env.agents[0])
    for round_index in range(3):
        assert all(space.contains(observation) for observation in observations.values())
        actions = {agent: (i + round_index) % 2 for i, agent in enumerate(env.agents)}
        observations, *_ = env.step(actions)
    assert all(space.contains(observation) for observation in observations.values())
