"""Label pools: generated pools are fixed by their seed, share no label and avoid the test labels; bad pools and
test labels inside a pool are refused with messages that name the pair."""

from __future__ import annotations

import collections

import pytest

from matrix_games.core.actions import TEST_LABELS
from matrix_games.core.games import get_game
from matrix_games.core.rounds import play_round, with_own_action
from matrix_games.text.label_pools import FAMILIES, LabelPool, as_labels


@pytest.mark.parametrize("generator", sorted(FAMILIES))
def test_a_generated_pool_is_fixed_by_its_seed_shares_no_label_and_avoids_the_test_labels(generator):
    pool = LabelPool(generator=generator, size=6, seed=3)
    assert pool.members == LabelPool(generator=generator, size=6, seed=3).members
    assert pool.members != LabelPool(generator=generator, size=6, seed=4).members
    labels = [label for pair in pool.members for label in pair]
    assert len(pool.members) == 6 and len(set(labels)) == 12
    assert set(labels) <= set(FAMILIES[generator]) and not set(labels) & set(TEST_LABELS)
    full = LabelPool(generator=generator)  # as many pairs as the family allows
    assert len(full.members) == len([x for x in FAMILIES[generator] if x not in TEST_LABELS]) // 2


def test_each_game_draws_its_pair_as_a_pure_function_of_its_seed_and_every_pair_comes_up():
    pool = LabelPool(pairs=(("C", "D"), ("left", "right"), ("X", "Y")))
    draws = [pool.draw(seed) for seed in range(3000)]
    assert draws == [pool.draw(seed) for seed in range(3000)]
    counts = collections.Counter(draws)
    assert set(counts) == set(pool.members)
    assert all(abs(count - 1000) < 5 * (3000 * (1 / 3) * (2 / 3)) ** 0.5 for count in counts.values())


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (["C", "D"], ("C", "D")),
        ([["C", "D"], ["X", "Y"]], LabelPool(pairs=(("C", "D"), ("X", "Y")))),
        ("letters", LabelPool(generator="letters")),
        ({"generator": "words", "size": 4, "seed": 1}, LabelPool(generator="words", size=4, seed=1)),
    ],
)
def test_labels_may_be_a_pair_a_list_of_pairs_a_generator_name_or_a_mapping(spec, expected):
    assert as_labels(spec) == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ([["C", "D"], ["C", "D"]], r"pair 1 \('C', 'D'\) appears twice with pair 0"),
        ([["C", "D"], ["D", "X"]], r"pair 1 \('D', 'X'\) overlaps with pair 0 \('C', 'D'\).*rename 'D'"),
        ([["C", "C"]], "two different labels"),
        ("letter", r"neither a pair of labels nor a generator.*letters"),
        ({"generator": "letters", "size": 14}, r"labels.size 14 .* at most 13 pairs"),
        ({"generator": "numbers"}, r"labels.generator 'numbers'. Did you mean 'numbered'"),
        ({"generatr": "letters"}, r"Unknown label pool settings \['generatr'\]"),
        ({"pairs": [["A", "B"]], "generator": "letters"}, "not both"),
    ],
)
def test_bad_pools_are_refused_with_the_pair_and_the_fix(spec, message):
    with pytest.raises(ValueError, match=message):
        as_labels(spec)


def test_test_labels_inside_the_pool_are_refused():
    pool = LabelPool(pairs=(("C", "D"), ("action3", "X")))
    with pytest.raises(ValueError, match=r"include \['action3'\], which the training pool trained on"):
        pool.check_unseen(TEST_LABELS)
    pool.check_unseen(("E", "F"))  # unseen labels pass
    LabelPool(generator="numbered").check_unseen(TEST_LABELS)  # generators leave the test labels out


def test_an_answer_is_scored_against_the_others_actual_moves():
    game = get_game("prisoners_dilemma")
    played = play_round(game, (0, 0), (0, 1), illegal_reward=-6.0)[0]  # both cooperated: 3 each
    defected = with_own_action(game, played, 1, illegal_reward=-6.0)
    assert (defected.actions, defected.game_rewards, defected.previous_actions) == ((1, 0), (4.0, 0.0), (0, 1))
    illegal = with_own_action(game, played, 2, illegal_reward=-6.0)
    assert illegal.game_reward == -6.0 and illegal.payoffs == (3.0, 3.0)  # the state stays C: the payoff of C, C
    second = with_own_action(game, play_round(game, (0, 1), (0, 0), illegal_reward=-6.0)[1], 0, illegal_reward=-6.0)
    assert second.player == 1 and second.game_rewards == (3.0, 3.0)
