"""Our strategies play move for move as their namesakes in the Axelrod library (skipped without ``axelrod``).

``import axelrod`` takes 10-20 s, so this module is skipped when the optional extra is absent.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from matrix_games.core.actions import C, D
from matrix_games.core.games import PRISONERS_DILEMMA
from matrix_games.core.rounds import History
from matrix_games.strategies import make_strategy

axl = pytest.importorskip("axelrod")

AXELROD_COUNTERPARTS = {  # our name (and kwargs) -> an Axelrod player factory
    "always_cooperate": lambda: axl.Cooperator(),
    "always_defect": lambda: axl.Defector(),
    "tit_for_tat": lambda: axl.TitForTat(),
    "suspicious_tit_for_tat": lambda: axl.SuspiciousTitForTat(),
    "tit_for_two_tats": lambda: axl.TitFor2Tats(),
    "two_tits_for_tat": lambda: axl.TwoTitsForTat(),
    "grim_trigger": lambda: axl.Grudger(),
    "win_stay_lose_shift": lambda: axl.WinStayLoseShift(),
    "alternator": lambda: axl.Alternator(),
}
STOCHASTIC_EXTREMES = [  # (our name, kwargs, Axelrod player) where the rule draws nothing
    ("random", {"p": 0.0}, lambda: axl.Random(p=0)),
    ("random", {"p": 1.0}, lambda: axl.Random(p=1)),
    ("generous_tit_for_tat", {"generosity": 0.0}, lambda: axl.GTFT(p=0)),
    ("generous_tit_for_tat", {"generosity": 1.0}, lambda: axl.GTFT(p=1)),
]
SCRIPTS = [list(script) for script in itertools.product([C, D], repeat=5)] + [
    [C, D, D, C, C, D, C, D, D, D, C, C],
    [D, D, C, D, C, C, C, D, D, C, D, C],
]


def axelrod_moves(player, opponent_moves) -> list[int]:
    """The Axelrod player's moves in an Axelrod Match against a MockPlayer that plays ``opponent_moves``."""
    script = [axl.Action.C if move == C else axl.Action.D for move in opponent_moves]
    match = axl.Match((player, axl.MockPlayer(actions=script)), turns=len(script), seed=1)
    return [int(own.value) for own, _ in match.play()]


def our_moves(strategy, opponent_moves, initial_round=None) -> list[int]:
    rng = np.random.default_rng(0)
    history = History() if initial_round is None else History((initial_round[0],), (initial_round[1],))
    strategy.reset()
    moves = []
    for opponent_move in opponent_moves:
        move = int(strategy.act(history, rng))
        moves.append(move)
        history = history.append(move, opponent_move)
    return moves


@pytest.mark.parametrize("name", sorted(AXELROD_COUNTERPARTS))
def test_matches_axelrod_against_every_scripted_opponent(name):
    for script in SCRIPTS:
        assert our_moves(make_strategy(name), script) == axelrod_moves(AXELROD_COUNTERPARTS[name](), script), script


@pytest.mark.parametrize(("name", "kwargs", "factory"), STOCHASTIC_EXTREMES)
def test_stochastic_rules_at_their_deterministic_extremes_match_axelrod(name, kwargs, factory):
    for script in SCRIPTS:
        assert our_moves(make_strategy(name, **kwargs), script) == axelrod_moves(factory(), script), script


def test_axelrod_gtft_default_generosity_on_its_default_game_is_ours():
    player = axl.GTFT()
    player.set_match_attributes(game=axl.Game())
    assert player.p == pytest.approx(make_strategy("generous_tit_for_tat").generosity)


@pytest.mark.parametrize("name", ["Tit For Tat", "Grudger", "Win-Stay Lose-Shift", "TitFor2Tats"])
def test_adapter_plays_as_the_axelrod_player(name):
    for script in SCRIPTS:
        adapted = make_strategy(f"axelrod:{name}")
        player_class = next(cls for cls in axl.all_strategies if name in (cls.name, cls.__name__))
        expected = axelrod_moves(player_class(), script)
        assert our_moves(adapted, script) == expected, script


def test_adapter_sees_a_drawn_initial_round_as_history():
    adapted = make_strategy("axelrod:Tit For Tat")
    assert our_moves(adapted, [C, C, D], initial_round=(C, D)) == [D, C, C]
    assert our_moves(adapted, [C, C, D], initial_round=(C, D)) == our_moves(
        make_strategy("tit_for_tat"), [C, C, D], initial_round=(C, D)
    )


def test_adapter_resets_when_a_new_history_begins_without_reset():
    adapted = make_strategy("axelrod:Grudger")
    rng = np.random.default_rng(0)
    assert adapted.act(History((C, C), (C, D)), rng) == D
    assert adapted.act(History(), rng) == C  # a fresh episode, not a continuation


def test_adapter_stochastic_player_is_reproducible_from_our_rng():
    script = [D] * 300
    first = our_moves(make_strategy("axelrod:GTFT", game=PRISONERS_DILEMMA), script)
    again = our_moves(make_strategy("axelrod:GTFT", game=PRISONERS_DILEMMA), script)
    assert first == again
    assert abs(np.mean(np.array(first[1:]) == C) - 1 / 3) < 0.1


def test_axelrod_gtft_forgives_at_one_third_even_on_the_paper_game():
    paper_game = axl.Game(r=3, s=0, t=4, p=1)
    match = axl.Match((axl.GTFT(), axl.Defector()), turns=5, game=paper_game, seed=2)
    match.play()
    assert match.players[0].p == pytest.approx(1 / 3) == pytest.approx(make_strategy("generous_tit_for_tat").generosity)


def test_adapter_rejects_unknown_and_cheating_strategies():
    with pytest.raises(ValueError, match="Did you mean"):
        make_strategy("axelrod:Tit For Tatt")
    with pytest.raises(ValueError, match="inspects or manipulates"):
        make_strategy("axelrod:Darwin")
