"""Matches and round robins: golden outcomes, seeding and errors."""

from __future__ import annotations

import pytest

from matrix_games.core.actions import C, D
from matrix_games.core.games import PRISONERS_DILEMMA, STAG_HUNT, MatrixGame
from matrix_games.play.matches import play_match
from matrix_games.play.tournament import round_robin
from matrix_games.strategies import STRATEGIES, make_strategy


def test_tit_for_tat_against_alternator_golden():
    tit_for_tat, alternator = play_match(PRISONERS_DILEMMA, "tit_for_tat", "alternator", num_rounds=5, seed=0)
    assert [o.action for o in tit_for_tat] == [C, C, D, C, D]
    assert [o.action for o in alternator] == [C, D, C, D, C]
    assert [o.game_reward for o in tit_for_tat] == [3, 0, 4, 0, 4]
    assert [o.game_reward for o in alternator] == [3, 4, 0, 4, 0]
    assert tit_for_tat[0].opponent_previous_action is None
    assert tit_for_tat[2].opponent_previous_action == D


def test_random_initial_state_is_history_for_both_players():
    for seed in range(10):
        tit_for_tat, other = play_match(
            PRISONERS_DILEMMA, "tit_for_tat", "always_cooperate", num_rounds=2, seed=seed, initial_state="random"
        )
        assert tit_for_tat[0].previous_action in (C, D)
        assert tit_for_tat[0].action == tit_for_tat[0].opponent_previous_action  # copies the drawn round
        assert other[0].opponent_previous_action == tit_for_tat[0].previous_action


def test_matches_are_reproducible_from_the_seed():
    def moves(seed):
        sides = play_match(
            STAG_HUNT, "random", "generous_tit_for_tat", num_rounds=30, seed=seed, initial_state="random"
        )
        return [(a.action, b.action) for a, b in zip(*sides, strict=True)]

    assert moves(5) == moves(5)
    assert moves(5) != moves(6)


def test_self_play_with_one_instance_does_not_share_it():
    strategy = make_strategy("tit_for_tat")
    first, second = play_match(PRISONERS_DILEMMA, strategy, strategy, num_rounds=3, seed=0)
    assert [o.action for o in first] == [o.action for o in second] == [C, C, C]


def test_round_robin_golden_standings_in_the_prisoners_dilemma():
    result = round_robin(PRISONERS_DILEMMA, ["always_cooperate", "always_defect", "tit_for_tat"], num_rounds=10)
    # Self-play included: 3 pairs + 3 self-plays, two sides each.
    assert len(result.records) == 12
    standings = {s.strategy: s for s in result.standings()}
    # tit_for_tat: vs AC 3 each; vs AD 0 then 1 x9 = 0.9; vs itself 3 (twice, both sides) -> mean of 3, 0.9, 3, 3.
    assert standings["tit_for_tat"].mean_payoff == pytest.approx((3 + 0.9 + 3 + 3) / 4)
    # always_defect: vs AC 4; vs TFT 4 then 1 x9 = 1.3; vs itself 1 (both sides).
    assert standings["always_defect"].mean_payoff == pytest.approx((4 + 1.3 + 1 + 1) / 4)
    assert standings["always_cooperate"].mean_payoff == pytest.approx((0 + 3 + 3 + 3) / 4)
    assert [s.strategy for s in result.standings()] == ["tit_for_tat", "always_cooperate", "always_defect"]
    assert standings["tit_for_tat"].deontological_regret == 0.0


def test_round_robin_without_self_play_and_with_repetitions():
    result = round_robin(
        PRISONERS_DILEMMA, ["random", "tit_for_tat"], num_rounds=4, repetitions=3, self_play=False, seed=1
    )
    assert len(result.records) == 2 * 3
    assert {r.repetition for r in result.records} == {0, 1, 2}
    again = round_robin(
        PRISONERS_DILEMMA, ["random", "tit_for_tat"], num_rounds=4, repetitions=3, self_play=False, seed=1
    )
    assert again.records == result.records


def test_round_robin_runs_every_strategy_on_a_custom_game():
    game = MatrixGame.from_table("harmony", [[(4, 4), (3, 1)], [(1, 3), (0, 0)]])
    result = round_robin(game, list(STRATEGIES), num_rounds=3, initial_state="random")
    assert {s.strategy for s in result.standings()} == set(STRATEGIES)
    table = result.format_table()
    assert table.splitlines()[0].split() == ["rank", "strategy", "payoff", "coop", "deon_regret", "util_regret"]
    assert len(table.splitlines()) == 2 + len(STRATEGIES)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"initial_state": "randm"}, "Did you mean 'random'"),
        ({"num_rounds": 0}, "num_rounds"),
        ({"repetitions": 0}, "repetitions"),
        ({"strategies": ["tit_for_tat", "tit_for_tat"]}, "distinct"),
        ({"strategies": ["tit_for_tat", "grim"]}, "Unknown strategy 'grim'"),
        ({"game": "prisoner_dilemma"}, "Did you mean 'prisoners_dilemma'"),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs, message):
    arguments = {"game": PRISONERS_DILEMMA, "strategies": ["tit_for_tat", "always_defect"]} | kwargs
    with pytest.raises(ValueError, match=message):
        round_robin(arguments.pop("game"), arguments.pop("strategies"), **arguments)
