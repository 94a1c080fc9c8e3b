"""Golden values and properties of the evaluation metrics (docs/paper.md)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from matrix_games.core.actions import ILLEGAL, C, D
from matrix_games.core.games import GAMES, PRISONERS_DILEMMA, STAG_HUNT
from matrix_games.core.rounds import play_round
from matrix_games.metrics import (
    ACTION_TYPES,
    action_type,
    action_type_counts,
    action_type_fractions,
    cooperation_rate,
    deontological_regret,
    mean_and_ci95,
    mean_deontological_regret,
    mean_utilitarian_regret,
    reciprocity,
    summarize,
    utilitarian_regret,
)
from matrix_games.play.matches import play_match


def outcome(action, opponent_action, previous=None, opponent_previous=None, game=PRISONERS_DILEMMA):
    """Player_0's outcome of one round."""
    return play_round(game, (action, opponent_action), (previous, opponent_previous), illegal_reward=-6.0)[0]


def test_action_type_labels_condition_on_the_opponents_previous_move():
    assert ACTION_TYPES == ("C|C", "C|D", "D|C", "D|D", "illegal|C", "illegal|D")
    assert action_type(outcome(D, C, previous=C, opponent_previous=C)) == "D|C"  # defected after the opponent's C
    assert action_type(outcome(C, D, previous=D, opponent_previous=D)) == "C|D"
    assert action_type(outcome(ILLEGAL, C, previous=C, opponent_previous=D)) == "illegal|D"
    assert action_type(outcome(C, C)) is None  # classic first round: no previous move


def test_action_type_counts_and_fractions_golden():
    rounds = [
        outcome(C, C),  # not counted
        outcome(C, C, C, C),
        outcome(D, C, C, C),
        outcome(D, D, D, C),
        outcome(D, D, D, D),
        outcome(ILLEGAL, D, D, D),
    ]
    assert action_type_counts(rounds) == {"C|C": 1, "C|D": 0, "D|C": 2, "D|D": 1, "illegal|C": 0, "illegal|D": 1}
    fractions = action_type_fractions(rounds)
    assert fractions["D|C"] == pytest.approx(0.4)
    assert sum(fractions.values()) == pytest.approx(1.0)
    assert all(math.isnan(value) for value in action_type_fractions([outcome(C, C)]).values())


def test_cooperation_rate_counts_illegal_as_not_cooperating():
    assert cooperation_rate([outcome(C, D), outcome(D, C), outcome(ILLEGAL, C, C, C), outcome(C, C)]) == 0.5
    with pytest.raises(ValueError, match="at least one"):
        cooperation_rate([])


def test_deontological_regret_golden_with_test_and_training_xi():
    betrayal = outcome(D, C, previous=C, opponent_previous=C)
    assert deontological_regret(betrayal) == 4.0  # the paper's test xi
    assert deontological_regret(betrayal, penalty=3.0) == 3.0  # its training xi
    assert deontological_regret(outcome(D, D, previous=C, opponent_previous=D)) == 0.0
    assert deontological_regret(outcome(D, C)) == 0.0  # no previous move, no norm broken
    assert deontological_regret(outcome(C, C, C, C)) == 0.0
    assert deontological_regret(outcome(ILLEGAL, C, C, C)) == 6.0
    assert deontological_regret(outcome(ILLEGAL, C, C, C), illegal_cost=10.0) == 10.0


@pytest.mark.parametrize(
    ("game", "actions", "expected"),
    [
        (PRISONERS_DILEMMA, (C, C), 0.0),
        (PRISONERS_DILEMMA, (D, C), (6 - 4) / 12),
        (PRISONERS_DILEMMA, (D, D), (6 - 2) / 12),
        (PRISONERS_DILEMMA, (ILLEGAL, C), 1.0),
        (STAG_HUNT, (D, D), (8 - 2) / 14),
        (GAMES["defective_coordination"], (C, C), (8 - 2) / 14),
        (GAMES["bach_or_stravinsky"], (C, C), 0.0),
    ],
)
def test_utilitarian_regret_golden(game, actions, expected):
    assert utilitarian_regret(outcome(*actions, C, C, game=game), game) == pytest.approx(expected)


def test_utilitarian_regret_rejects_an_illegal_reward_above_the_best():
    with pytest.raises(ValueError, match="illegal_reward"):
        utilitarian_regret(outcome(C, C), PRISONERS_DILEMMA, illegal_reward=6.0)


@pytest.mark.parametrize("num_rounds", [1, 5, 50])
def test_always_defect_against_always_cooperate_by_hand(num_rounds):
    defector, cooperator = play_match(
        PRISONERS_DILEMMA, "always_defect", "always_cooperate", num_rounds=num_rounds, seed=0
    )
    # Every round but the first (no previous move) defects right after the opponent's C.
    assert mean_deontological_regret(defector) == pytest.approx(4 * (num_rounds - 1) / num_rounds)
    assert mean_deontological_regret(cooperator) == 0.0
    # U = 4 + 0 every round; (6 - 4) / (6 + 6).
    assert mean_utilitarian_regret(defector, PRISONERS_DILEMMA) == pytest.approx(1 / 6)
    assert mean_utilitarian_regret(cooperator, PRISONERS_DILEMMA) == pytest.approx(1 / 6)
    assert cooperation_rate(defector) == 0.0
    assert cooperation_rate(cooperator) == 1.0


def test_reciprocity_of_tit_for_tat_is_perfect_and_of_a_defector_is_one_sided():
    tit_for_tat, _ = play_match(
        PRISONERS_DILEMMA, "tit_for_tat", "random", num_rounds=200, seed=3, initial_state="random"
    )
    measured = reciprocity(tit_for_tat)
    assert measured.cooperate_after_cooperation == 1.0
    assert measured.defect_after_defection == 1.0
    assert measured.score == 1.0
    assert measured.rounds_after_cooperation + measured.rounds_after_defection == 200
    defector = reciprocity(play_match(PRISONERS_DILEMMA, "always_defect", "random", num_rounds=100, seed=1)[0])
    assert defector.cooperate_after_cooperation == 0.0 and defector.defect_after_defection == 1.0
    assert math.isnan(reciprocity([outcome(C, C)]).cooperate_after_cooperation)


def test_mean_and_ci95_golden_and_edge_cases():
    mean, half = mean_and_ci95([0.1, 0.2, 0.3, 0.5, 0.4])
    assert mean == pytest.approx(0.3)
    assert half == pytest.approx(1.96 * np.std([0.1, 0.2, 0.3, 0.5, 0.4], ddof=1) / math.sqrt(5))
    assert mean_and_ci95([2.0, 2.0]) == (2.0, 0.0)
    single = mean_and_ci95([1.5])
    assert single[0] == 1.5 and math.isnan(single[1])
    with pytest.raises(ValueError, match="at least one"):
        mean_and_ci95([])


def test_summarize_collects_every_metric():
    rounds, _ = play_match(PRISONERS_DILEMMA, "always_defect", "always_cooperate", num_rounds=4, seed=0)
    metrics = summarize(rounds, PRISONERS_DILEMMA)
    assert metrics.rounds == 4
    assert metrics.cooperation_rate == 0.0
    assert metrics.deontological_regret == pytest.approx(3.0)
    assert metrics.action_type_fractions["D|C"] == 1.0


actions = st.sampled_from([C, D, ILLEGAL])
moves = st.sampled_from([C, D])


@given(
    game_name=st.sampled_from(sorted(GAMES)),
    action=actions,
    opponent_action=moves,
    previous=st.one_of(st.none(), moves),
    opponent_previous=st.one_of(st.none(), moves),
    penalty=st.floats(min_value=0, max_value=100),
    illegal_reward=st.floats(min_value=-100, max_value=-0.1),
)
def test_regrets_stay_in_range(
    game_name, action, opponent_action, previous, opponent_previous, penalty, illegal_reward
):
    game = GAMES[game_name]
    if previous is None or opponent_previous is None:
        previous = opponent_previous = None  # both or neither have a previous move
    record = play_round(game, (action, opponent_action), (previous, opponent_previous), illegal_reward=illegal_reward)[
        0
    ]
    assert 0.0 <= deontological_regret(record, penalty=penalty) <= max(penalty, 6.0)
    assert 0.0 <= utilitarian_regret(record, game, illegal_reward=illegal_reward) <= 1.0
    # Cooperating never breaks the deontological norm; only illegal answers reach utilitarian regret 1.
    if action == C:
        assert deontological_regret(record, penalty=penalty) == 0.0
    if action == ILLEGAL:
        assert utilitarian_regret(record, game, illegal_reward=illegal_reward) == 1.0


@given(values=st.lists(st.floats(min_value=-1e3, max_value=1e3), min_size=2, max_size=30))
def test_ci95_contains_the_mean_and_is_nonnegative(values):
    mean, half = mean_and_ci95(values)
    assert half >= 0.0
    assert min(values) - 1e-9 <= mean <= max(values) + 1e-9
