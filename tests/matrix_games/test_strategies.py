"""Behaviour of the baseline strategies against scripted opponents (Axelrod's ``versus_test`` shape)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from matrix_games.core.actions import C, D
from matrix_games.core.rounds import History
from matrix_games.strategies import STRATEGIES, Strategy, generosity_for_payoffs, make_strategy
from matrix_games.strategies.axelrod_adapter import import_axelrod


def play_against_script(
    strategy: Strategy,
    opponent_moves: Sequence[int],
    initial_round: tuple[int, int] | None = None,
    seed: int = 0,
) -> list[int]:
    """The strategy's moves against a fixed sequence of opponent moves, from an optional drawn (own, opp) round."""
    rng = np.random.default_rng(seed)
    history = History() if initial_round is None else History((initial_round[0],), (initial_round[1],))
    strategy.reset()
    moves = []
    for opponent_move in opponent_moves:
        move = strategy.act(history, rng)
        moves.append(int(move))
        history = history.append(move, opponent_move)
    return moves


@pytest.mark.parametrize(
    ("name", "opponent_moves", "expected"),
    [
        ("always_cooperate", [C, D, D, C], [C, C, C, C]),
        ("always_defect", [C, D, D, C], [D, D, D, D]),
        ("tit_for_tat", [C, D, D, C, C], [C, C, D, D, C]),
        ("suspicious_tit_for_tat", [C, D, D, C], [D, C, D, D]),
        ("tit_for_two_tats", [D, D, D, C, D, C], [C, C, D, D, C, C]),
        ("two_tits_for_tat", [D, C, C, C, D, C, C], [C, D, D, C, C, D, D]),
        ("grim_trigger", [C, C, D, C, C], [C, C, C, D, D]),
        ("win_stay_lose_shift", [C, D, C, D, D, C], [C, C, D, D, C, D]),
        ("alternator", [D, D, C, C, D], [C, D, C, D, C]),
        ("generous_tit_for_tat", [C, C, C], [C, C, C]),
    ],
)
def test_replies_to_scripted_opponent_from_an_empty_history(name, opponent_moves, expected):
    assert play_against_script(make_strategy(name), opponent_moves) == expected


@pytest.mark.parametrize(
    ("name", "initial_round", "opponent_moves", "expected"),
    [
        ("tit_for_tat", (C, D), [C, C], [D, C]),  # copies the drawn round, as the paper's TFT does
        ("suspicious_tit_for_tat", (D, C), [D, C], [C, D]),
        ("grim_trigger", (C, D), [C, C, C], [D, D, D]),
        ("tit_for_two_tats", (C, D), [D, C], [C, D]),
        ("two_tits_for_tat", (C, D), [C, C, C], [D, D, C]),
        ("win_stay_lose_shift", (D, D), [C, C], [C, C]),
        ("win_stay_lose_shift", (C, D), [C, C], [D, D]),
        ("alternator", (C, C), [C, C, C], [D, C, D]),
        ("always_cooperate", (D, D), [D], [C]),
    ],
)
def test_a_drawn_initial_round_counts_as_history(name, initial_round, opponent_moves, expected):
    assert play_against_script(make_strategy(name), opponent_moves, initial_round=initial_round) == expected


def test_generous_tit_for_tat_limits_are_tit_for_tat_and_always_cooperate():
    script = [C, D, D, C, D, C]
    assert play_against_script(make_strategy("generous_tit_for_tat", generosity=0), script) == play_against_script(
        make_strategy("tit_for_tat"), script
    )
    assert play_against_script(make_strategy("generous_tit_for_tat", generosity=1), script) == [C] * 6


def test_generous_tit_for_tat_forgives_at_its_rate():
    moves = play_against_script(make_strategy("generous_tit_for_tat"), [D] * 3001, seed=3)
    assert moves[0] == C
    assert abs(np.mean(np.array(moves[1:]) == C) - 1 / 3) < 0.03


def test_generosity_formula_matches_axelrod_default_game_and_paper_game():
    assert generosity_for_payoffs(reward=3, punishment=1, sucker=0, temptation=5) == pytest.approx(1 / 3)
    assert generosity_for_payoffs(reward=3, punishment=1, sucker=0, temptation=4) == pytest.approx(2 / 3)


@pytest.mark.parametrize(("p", "expected"), [(0, D), (1, C), (0.0, D), (1.0, C)])
def test_random_extremes_are_deterministic(p, expected):
    assert play_against_script(make_strategy("random", p=p), [C] * 20) == [expected] * 20


def test_random_is_reproducible_from_its_seed_and_cooperates_at_rate_p():
    first = play_against_script(make_strategy("random"), [C] * 2000, seed=11)
    again = play_against_script(make_strategy("random"), [C] * 2000, seed=11)
    other = play_against_script(make_strategy("random"), [C] * 2000, seed=12)
    assert first == again
    assert first != other
    assert abs(np.mean(np.array(first) == C) - 0.5) < 0.04
    biased = play_against_script(make_strategy("random", p=0.9), [C] * 2000, seed=11)
    assert abs(np.mean(np.array(biased) == C) - 0.9) < 0.03


histories = st.integers(min_value=0, max_value=8).flatmap(
    lambda n: st.tuples(
        st.lists(st.sampled_from([0, 1]), min_size=n, max_size=n),
        st.lists(st.sampled_from([0, 1]), min_size=n, max_size=n),
    )
)


@given(history=histories, seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_every_strategy_plays_a_legal_action_for_any_history(history, seed):
    own, opponent = history
    for name in STRATEGIES:
        move = make_strategy(name).act(History(tuple(own), tuple(opponent)), np.random.default_rng(seed))
        assert move in (C, D)


def test_names_are_unique_and_match_the_table():
    assert len({cls.name for cls in STRATEGIES.values()}) == len(STRATEGIES)
    assert all(name == cls.name for name, cls in STRATEGIES.items())
    assert all(cls.name.islower() and " " not in cls.name for cls in STRATEGIES.values())


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_every_strategy_documents_its_axelrod_counterpart(name):
    assert "Axelrod library class" in STRATEGIES[name].__doc__


def test_issue_strategies_are_all_present():
    required = {
        "always_cooperate",
        "always_defect",
        "random",
        "tit_for_tat",
        "suspicious_tit_for_tat",
        "tit_for_two_tats",
        "two_tits_for_tat",
        "generous_tit_for_tat",
        "grim_trigger",
        "win_stay_lose_shift",
        "alternator",
    }
    assert required <= set(STRATEGIES)


@pytest.mark.parametrize(("typo", "suggestion"), [("tit_for_tatt", "tit_for_tat"), ("grim_triger", "grim_trigger")])
def test_unknown_name_suggests_the_closest_and_lists_known_names(typo, suggestion):
    with pytest.raises(ValueError, match=f"Did you mean '{suggestion}'") as error:
        make_strategy(typo)
    assert "always_defect" in str(error.value)


def test_instance_is_returned_unchanged():
    strategy = make_strategy("tit_for_tat")
    assert make_strategy(strategy) is strategy


@pytest.mark.parametrize(
    ("name", "kwargs", "error"),
    [
        ("random", {"p": 1.5}, ValueError),
        ("random", {"p": "half"}, ValueError),
        ("generous_tit_for_tat", {"generosity": -0.1}, ValueError),
        ("tit_for_tat", {"p": 0.5}, TypeError),
        (42, {}, ValueError),
    ],
)
def test_bad_arguments_raise_clear_errors(name, kwargs, error):
    with pytest.raises(error, match=str(name)):
        make_strategy(name, **kwargs)


def test_missing_axelrod_names_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "axelrod", None)  # makes `import axelrod` fail as if it were absent
    with pytest.raises(ImportError, match=r"pip install moral-matrix-games\[axelrod\]"):
        import_axelrod()
    with pytest.raises(ImportError, match="axelrod"):
        make_strategy("axelrod:Tit For Tat")


def test_importing_strategies_does_not_import_axelrod():
    import subprocess

    code = "import sys, matrix_games.strategies; print('axelrod' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
