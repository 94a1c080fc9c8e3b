"""The moral rewards: golden tables (the paper's, the 2023 frameworks, weighted sums), registration, properties."""

from __future__ import annotations

import gymnasium
import pytest
from hypothesis import given
from hypothesis import strategies as st

from matrix_games.core.actions import ILLEGAL, C, D
from matrix_games.core.games import GAMES, PRISONERS_DILEMMA, MatrixGame
from matrix_games.core.rounds import play_round
from matrix_games.rewards import (
    REWARD_NAMES,
    RewardParameters,
    check_reward_name,
    frameworks,
    make_reward_fn,
    parse_reward,
    register_reward,
    reward_names,
)

ILLEGAL_REWARD = -6.0


# The frameworks themselves (legal answers); make_reward_fn is checked against them.
game_reward = frameworks.game
utilitarian_reward = frameworks.utilitarian


def deontological_reward(result, penalty=3.0):
    return frameworks.deontological(result, penalty=penalty)


def game_deontological_reward(result, penalty=3.0):
    return frameworks.game_deontological(result, penalty=penalty)


def outcome(own, other, own_previous=C, other_previous=C, game=PRISONERS_DILEMMA, player=0):
    actions = (own, other) if player == 0 else (other, own)
    previous = (own_previous, other_previous) if player == 0 else (other_previous, own_previous)
    return play_round(game, actions, previous, illegal_reward=ILLEGAL_REWARD)[player]


# (own action, opponent action, opponent's previous action) -> (game, deontological, utilitarian, game_deontological)
IPD_TABLE = {
    (C, C, C): (3, 0, 6, 3),
    (C, D, C): (0, 0, 4, 0),
    (D, C, C): (4, -3, 4, 1),
    (D, D, C): (1, -3, 2, -2),
    (C, C, D): (3, 0, 6, 3),
    (C, D, D): (0, 0, 4, 0),
    (D, C, D): (4, 0, 4, 4),
    (D, D, D): (1, 0, 2, 1),
}


@pytest.mark.parametrize(("state", "expected"), IPD_TABLE.items())
def test_ipd_golden_table(state, expected):
    own, other, other_previous = state
    result = outcome(own, other, other_previous=other_previous)
    assert (
        game_reward(result),
        deontological_reward(result, penalty=3.0),
        utilitarian_reward(result),
        game_deontological_reward(result, penalty=3.0),
    ) == expected


def test_paper_value_sets():
    results = [outcome(*state[:2], other_previous=state[2]) for state in IPD_TABLE]
    assert {utilitarian_reward(r) for r in results} == {6, 4, 2}
    assert {game_deontological_reward(r, penalty=3.0) for r in results} == {3, 0, 4, 1, -2}


def test_illegal_answer_earns_the_illegal_reward_under_every_reward():
    result = outcome(ILLEGAL, C)
    for name in REWARD_NAMES:
        assert make_reward_fn(name, illegal_reward=-6.0)(result) == -6.0
        assert make_reward_fn(name, illegal_reward=-15.0)(result) == -15.0


def test_illegal_opponent_counts_as_its_last_legal_move():
    result = outcome(D, ILLEGAL, other_previous=C)
    assert game_reward(result) == 4.0  # against the opponent's last legal C
    assert deontological_reward(result, penalty=3.0) == -3.0
    assert utilitarian_reward(result) == 4.0


def test_unknown_reward_name_suggests_the_closest():
    with pytest.raises(ValueError, match="Did you mean 'utilitarian'"):
        check_reward_name("utilitarain")
    with pytest.raises(ValueError, match="Known rewards"):
        make_reward_fn("virtue")


payoff = st.integers(min_value=-20, max_value=20)
games = st.builds(
    lambda values: MatrixGame.from_table("random", [[values[0:2], values[2:4]], [values[4:6], values[6:8]]]),
    st.lists(payoff, min_size=8, max_size=8),
) | st.sampled_from(list(GAMES.values()))
legal = st.sampled_from([C, D])
state = st.sampled_from([C, D, None])
penalties = st.floats(min_value=0.0, max_value=100.0, allow_nan=False)


@given(games, legal, legal, state, state, penalties, st.sampled_from([0, 1]))
def test_reward_identities_for_legal_answers(game, own, other, own_previous, other_previous, penalty, player):
    result = outcome(own, other, own_previous, other_previous, game=game, player=player)
    own_payoff, other_payoff = game.payoff_for(player, own, other)
    assert game_reward(result) == own_payoff
    assert utilitarian_reward(result) == own_payoff + other_payoff
    deontological = deontological_reward(result, penalty=penalty)
    betrayal = own == D and other_previous == C
    assert deontological == (-penalty if betrayal else 0.0)
    assert game_deontological_reward(result, penalty=penalty) == pytest.approx(own_payoff + deontological)


@given(games, legal, legal, state, penalties)
def test_deontological_ignores_the_opponents_current_move_and_the_payoffs(game, own, other, other_previous, penalty):
    first = outcome(own, other, other_previous=other_previous, game=game)
    second = outcome(own, 1 - other, other_previous=other_previous)
    assert deontological_reward(first, penalty=penalty) == deontological_reward(second, penalty=penalty)


@given(legal, legal, state, state)
def test_both_players_get_the_same_utilitarian_reward(own, other, own_previous, other_previous):
    for game in GAMES.values():
        mine = outcome(own, other, own_previous, other_previous, game=game, player=0)
        theirs = outcome(own, other, own_previous, other_previous, game=game, player=1)
        assert utilitarian_reward(mine) == utilitarian_reward(theirs)


@given(st.sampled_from(REWARD_NAMES[:4]), legal, legal, state, penalties)
def test_make_reward_fn_matches_the_functions(name, own, other, other_previous, penalty):
    result = outcome(own, other, other_previous=other_previous)
    direct = {
        "game": game_reward(result),
        "deontological": deontological_reward(result, penalty=penalty),
        "utilitarian": utilitarian_reward(result),
        "game_deontological": game_deontological_reward(result, penalty=penalty),
    }[name]
    assert make_reward_fn(name, parameters={"deontological_penalty": penalty})(result) == direct


# ---------------------------------------------------------------- the 2023 frameworks and weighted sums


def test_virtue_equality_golden_values():
    equality = make_reward_fn("virtue_equality")
    assert equality(outcome(C, D)) == 0.0  # (0, 4)
    assert equality(outcome(C, C)) == 1.0  # (3, 3)
    assert equality(outcome(D, D)) == 1.0
    zero = play_round(
        MatrixGame.from_table("zeros", [[(0, 0), (0, 0)], [(0, 0), (0, 0)]]), (0, 1), (0, 0), illegal_reward=-6
    )
    assert equality(zero[0]) == 1.0  # every payoff 0


def test_virtue_kindness_and_inequity_aversion_golden_values():
    assert make_reward_fn("virtue_kindness")(outcome(C, D)) == 1.0
    assert make_reward_fn("virtue_kindness")(outcome(D, C)) == 0.0
    assert make_reward_fn("virtue_kindness", parameters=RewardParameters(kindness=2.5))(outcome(C, C)) == 2.5
    aversion = make_reward_fn("inequity_aversion")
    assert aversion(outcome(C, D)) == pytest.approx(0 - 5 * 4)  # envy of the 4 the other got
    assert aversion(outcome(D, C)) == pytest.approx(4 - 0.05 * 4)  # guilt about the 0
    assert aversion(outcome(C, C)) == 3.0


@given(legal, legal, state, penalties)
def test_game_plus_deontological_is_the_papers_game_deontological(own, other, other_previous, penalty):
    result = outcome(own, other, other_previous=other_previous)
    summed = make_reward_fn("game+deontological", parameters={"deontological_penalty": penalty})(result)
    assert summed == pytest.approx(
        make_reward_fn("game_deontological", parameters={"deontological_penalty": penalty})(result)
    )


def test_weighted_sums_are_read_and_computed():
    assert parse_reward("0.5*game+utilitarian") == ((0.5, "game"), (1.0, "utilitarian"))
    assert parse_reward("game - 0.1*virtue_kindness") == ((1.0, "game"), (-0.1, "virtue_kindness"))
    result = outcome(D, C, other_previous=C)  # payoffs (4, 0), a betrayal
    assert make_reward_fn("0.5*game+utilitarian")(result) == 0.5 * 4 + 4
    assert make_reward_fn("2*deontological+1e-1*game")(result) == pytest.approx(-6 + 0.4)
    assert make_reward_fn("0.5*game+utilitarian", illegal_reward=-9)(outcome(ILLEGAL, C)) == -9


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("game+deontologicl", "Unknown reward 'deontologicl' in 'game\\+deontologicl'. Did you mean 'deontological'"),
        ("game++utilitarian", "Cannot read reward"),
        ("0.5*", "Cannot read reward"),
        ("", "A reward is a name"),
    ],
)
def test_bad_reward_names_are_named(name, message):
    with pytest.raises(ValueError, match=message):
        make_reward_fn(name)


def test_a_registered_reward_is_usable_by_name_and_in_sums():
    register_reward("own_payoff_doubled", lambda o: 2 * o.payoff, replace=True)
    assert "own_payoff_doubled" in reward_names() and "own_payoff_doubled" not in REWARD_NAMES
    result = outcome(D, C, other_previous=D)
    assert make_reward_fn("own_payoff_doubled")(result) == 8.0
    assert make_reward_fn("own_payoff_doubled+game")(result) == 12.0
    assert make_reward_fn("own_payoff_doubled")(outcome(ILLEGAL, C)) == ILLEGAL_REWARD
    with pytest.raises(ValueError, match="built-in"):
        register_reward("game", lambda o: 0.0)
    with pytest.raises(ValueError, match="registered already"):
        register_reward("own_payoff_doubled", lambda o: 0.0)


def test_reward_parameters_reach_the_wrappers():
    env = gymnasium.make(
        "matrix_games/PublicGoods-v0",
        num_players=3,
        opponent="always_cooperate",
        reward="virtue_kindness+inequity_aversion",
        reward_parameters={"kindness": 2.5, "inequity_alpha": 1.0},
    )
    env.reset(seed=0)
    _, reward, *_ = env.step(1)  # D among two contributors: 10 + 1.6 * 20 / 3 against their 1.6 * 20 / 3
    own, others = 10 + 32 / 3, 32 / 3
    assert reward == pytest.approx(0.0 + own - 0.05 / 2 * 2 * (own - others))
    with pytest.raises(ValueError, match=r"Unknown reward parameter 'kindnes'\. Did you mean 'kindness'"):
        gymnasium.make("matrix_games/IPD-v0", reward_parameters={"kindnes": 2.0})
