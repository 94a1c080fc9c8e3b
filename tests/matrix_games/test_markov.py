"""Markov chains of iterated games (matrix_games.play.markov): hand-computed cases to 1e-12, the long run against
simulation, the prompt variants' probabilities, and tabled policies as strategies, vector players and Axelrod players.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matrix_games.core.actions import ILLEGAL, C, D
from matrix_games.core.games import PRISONERS_DILEMMA as PD
from matrix_games.core.public_goods import PublicGoodsGame
from matrix_games.envs.observations import text_variants
from matrix_games.envs.parallel_env import IteratedMatrixGameEnv
from matrix_games.envs.settings import GameSettings
from matrix_games.metrics import deontological_regret, utilitarian_regret
from matrix_games.play.markov import (
    TablePlayer,
    build_chain,
    representative_states,
    state_name,
    state_names,
    strategy_player,
)
from matrix_games.strategies import TabledStrategy

TFT_TABLE = {"CC": (1.0, 0.0, 0.0), "CD": (0.0, 1.0, 0.0), "DC": (1.0, 0.0, 0.0), "DD": (0.0, 1.0, 0.0)}


def expectation(chain, metric, rounds=5):
    return sum(weight * metric(outcome) for outcome, weight in chain.weighted_rounds(0, rounds=rounds))


def test_tit_for_tat_against_itself_from_a_random_first_round():
    """From CC and DD it stays; from CD and DC it alternates (so player 0 cooperates 2 or 3 times in 5)."""
    chain = build_chain(PD, [strategy_player("tit_for_tat"), strategy_player("tit_for_tat")])
    assert expectation(chain, lambda o: o.action == C) == pytest.approx((1 + 0 + 2 / 5 + 3 / 5) / 4, abs=1e-12)
    # payoffs: CC 3 a round, DD 1, alternating from CD 4,0,4,0,4 and from DC 0,4,0,4,0
    assert expectation(chain, lambda o: o.game_reward) == pytest.approx((3 + 1 + 12 / 5 + 8 / 5) / 4, abs=1e-12)
    assert expectation(chain, deontological_regret) == 0.0  # never D right after a C
    regret = (0 + 4 / 12 + 2 / 12 + 2 / 12) / 4  # (6 - U) / (6 + 6)
    assert expectation(chain, lambda o: utilitarian_regret(o, PD)) == pytest.approx(regret, abs=1e-12)
    long_run = chain.state_distribution(chain.long_run())
    assert long_run == pytest.approx({"CC": 0.25, "CD": 0.25, "DC": 0.25, "DD": 0.25}, abs=1e-12)
    assert sorted(len(s) for s in chain.stationary_distributions()) == [1, 1, 2]  # CC, DD, and the CD-DC cycle


@pytest.mark.parametrize("p", [0.0, 0.3, 1.0])
def test_always_cooperate_against_random(p):
    chain = build_chain(PD, [strategy_player("always_cooperate"), strategy_player("random", p=p)])
    assert expectation(chain, lambda o: o.action == C) == 1.0
    assert expectation(chain, lambda o: o.game_reward) == pytest.approx(3 * p, abs=1e-12)
    assert expectation(chain, lambda o: utilitarian_regret(o, PD)) == pytest.approx((1 - p) * 2 / 12, abs=1e-12)


def test_a_policy_with_illegal_answers_keeps_its_last_legal_move():
    """Illegal after its own C, C after its own D: from its own C it is illegal every round (its state stays C);
    from its own D it plays C once, then is illegal. Tit-for-tat sees the kept C."""
    table = {"CC": (0, 0, 1), "CD": (0, 0, 1), "DC": (1, 0, 0), "DD": (1, 0, 0)}
    chain = build_chain(PD, [TablePlayer(table), strategy_player("tit_for_tat")])
    assert expectation(chain, lambda o: o.action == C) == pytest.approx((0 + 1 / 5) / 2, abs=1e-12)
    assert expectation(chain, lambda o: o.action == ILLEGAL) == pytest.approx((1 + 4 / 5) / 2, abs=1e-12)
    # own reward: -6 when illegal; its one C (after its own D) meets tit-for-tat's copy of that D: 0
    assert expectation(chain, lambda o: o.game_reward) == pytest.approx((-30 + -24) / 2 / 5, abs=1e-12)
    # what tit-for-tat gets: it plays C against the kept C (3) except right after the D (round 1: it plays D
    # against our C: 4)
    from_d = (4 + 3 * 4) / 5
    from_c = 3.0
    opponent = sum(w * o.opponent_payoff for o, w in chain.weighted_rounds(0, rounds=5))
    assert opponent == pytest.approx((from_c + from_d) / 2, abs=1e-12)


def test_win_stay_lose_shift_against_generous_tit_for_tat():
    """The transition matrix written by hand (states: player 0's and player 1's previous move)."""
    g = 0.3
    chain = build_chain(
        PD, [strategy_player("win_stay_lose_shift"), strategy_player("generous_tit_for_tat", generosity=g)]
    )
    # WSLS: C iff the two moves were equal; GTFT: C after player 0's C, else C with probability g
    by_hand = np.array(
        [
            [1, 0, 0, 0],  # CC -> CC
            [0, 0, 1, 0],  # CD -> DC
            [0, 0, g, 1 - g],  # DC -> D then C with g
            [g, 1 - g, 0, 0],  # DD -> C then C with g
        ]
    )
    order = [chain.states.index(((a, b), (None, None))) for a, b in ((0, 0), (0, 1), (1, 0), (1, 1))]
    assert np.abs(chain.transition[np.ix_(order, order)] - by_hand).max() < 1e-15
    distribution, cooperation = np.full(4, 0.25), 0.0
    for _ in range(5):
        next_moves = by_hand  # player 0 plays C from CC and DD
        cooperation += distribution[0] + distribution[3]
        distribution = distribution @ next_moves
    assert expectation(chain, lambda o: o.action == C) == pytest.approx(cooperation / 5, abs=1e-12)


def test_three_player_public_goods_with_a_conditional_table():
    """Player 0 contributes when at least one other did last round; the others contribute with probability p."""
    game, p = PublicGoodsGame(num_players=3), 0.3
    table = {name: ((1, 0, 0) if not name.endswith("0") else (0, 1, 0)) for name in state_names(3)}
    chain = build_chain(game, [TablePlayer(table), strategy_player("random", p=p), strategy_player("random", p=p)])
    first = 3 / 4  # the drawn first round: at least one of two uniform others contributed
    later = 1 - (1 - p) ** 2
    contributes = (first + 4 * later) / 5
    assert expectation(chain, lambda o: o.action == C) == pytest.approx(contributes, abs=1e-12)
    # its payoff: 1.6 * 10 * contributors / 3, plus the 10 it keeps; its move is independent of the others' current
    payoff = 16 / 3 * (contributes + 2 * p) + 10 * (1 - contributes)
    assert expectation(chain, lambda o: o.game_reward) == pytest.approx(payoff, abs=1e-12)


def test_geometric_lengths_weigh_later_rounds_less():
    """Always-D against tit-for-tat: only the first round can be D|C. With continuation 0.5 the first round is
    half of all rounds in expectation (1 + 0.5 + 0.25 + ... = 2)."""
    chain = build_chain(PD, [strategy_player("always_defect"), strategy_player("tit_for_tat")])
    rounds = chain.weighted_rounds(0, rounds=None, continuation=0.5)
    first_round_sucker = sum(w for o, w in rounds if o.opponent_action == C)
    assert first_round_sucker == pytest.approx(0.5 * 0.5, abs=1e-12)  # round 1 is half the rounds; TFT's C half of it
    assert chain.expected_rounds_per_episode(rounds=None, continuation=0.5) == pytest.approx(2.0, abs=1e-12)
    capped = chain.expected_rounds_per_episode(rounds=3, continuation=0.5)
    assert capped == pytest.approx(1 + 0.5 + 0.25, abs=1e-12)


def test_tables_against_each_other_read_their_own_views():
    chain = build_chain(PD, [TablePlayer(TFT_TABLE), TablePlayer(TFT_TABLE)])
    reference = build_chain(PD, [strategy_player("tit_for_tat"), strategy_player("tit_for_tat")])
    assert np.allclose(chain.transition, reference.transition)


def random_table(rng: np.random.Generator) -> dict[str, tuple[float, float, float]]:
    return {name: tuple(rng.dirichlet([1.0, 1.0, 0.5])) for name in ("CC", "CD", "DC", "DD")}


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 2**16))
def test_simulated_long_run_frequencies_converge_to_the_stationary_distribution(seed):
    """Two random tables (every probability positive: one closed class) played in the environment for 40,000
    rounds: the states' frequencies are within 0.02 of the chain's stationary distribution."""
    rng = np.random.default_rng(seed)
    tables = [random_table(rng), random_table(rng)]
    chain = build_chain(PD, [TablePlayer(tables[0]), TablePlayer(tables[1])])
    (stationary,) = chain.stationary_distributions()
    expected = chain.state_distribution(chain.long_run())
    assert np.allclose(sorted(stationary), sorted(expected.values()), atol=1e-12)
    env = IteratedMatrixGameEnv(PD, observation_type="numeric", allow_illegal=True, num_rounds=40_000)
    env.reset(seed=seed)
    counts: Counter[str] = Counter()
    while env.agents:
        state = env.previous_actions
        counts[state_name(state, 0)] += 1
        actions = {}
        for player, agent in enumerate(env.possible_agents):
            moves = tables[player][state_name(state, player)]
            actions[agent] = int(rng.choice(3, p=np.array(moves) / sum(moves)))
        env.step(actions)
    total = sum(counts.values())
    for name, probability in expected.items():
        assert abs(counts[name] / total - probability) < 0.02, (name, counts[name] / total, probability)


def test_every_prompt_variant_has_its_sampled_frequency():
    """The environment draws the two label orders independently: 4 variants of 1/4 each (frequencies of 8,000
    resets agree to 3 standard errors); the poetic prompt shows one order only: 2 variants of 1/2."""
    settings_ = GameSettings(observation_type="text", initial_state="random")
    env = IteratedMatrixGameEnv(settings_)
    counts: Counter[str] = Counter()
    for seed in range(8000):
        observations, _ = env.reset(seed=seed)
        if env.previous_actions == (0, 1):
            counts[observations["player_0"]] += 1
    variants = dict(text_variants(settings_, 0, (0, 1)))
    assert set(counts) == set(variants)
    total = sum(counts.values())
    for text, weight in variants.items():
        assert abs(counts[text] / total - weight) < 3 * np.sqrt(weight * (1 - weight) / total)
    poetic = text_variants(settings_.replace(prompt="poetic"), 0, (0, 1))
    assert sorted(weight for _, weight in poetic) == [0.5, 0.5]


def test_representative_states_cover_every_state_name():
    assert list(representative_states(2)) == ["CC", "CD", "DC", "DD"]
    assert set(representative_states(2, "none")) == {"CC", "CD", "DC", "DD", "C-", "D-", "-C", "-D", "none"}
    assert list(representative_states(3)) == ["C0", "C1", "C2", "D0", "D1", "D2"]
    for name, state in representative_states(4).items():
        assert state_name(state, 0) == name


def test_a_tabled_policy_plays_as_a_strategy_in_every_engine():
    """Illegal answers are played as the repeated last legal move: 0.6 C + 0.3 illegal after its own C is 0.9."""
    table = {"CC": (0.6, 0.1, 0.3), "CD": (0.2, 0.8, 0.0), "DC": (0.5, 0.2, 0.3), "DD": (0.0, 1.0, 0.0)}
    strategy = TabledStrategy(table)
    first, four_vector = strategy.memory_one()
    assert first == pytest.approx((0.9 + 0.2 + 0.5 + 0.0) / 4) and four_vector == pytest.approx((0.9, 0.2, 0.5, 0.0))
    exact = build_chain(PD, [strategy_player(strategy), strategy_player("random", p=0.5)])
    from matrix_games.vector.strategies import MemoryOne, vector_strategy

    assert isinstance(vector_strategy(strategy, 0), MemoryOne)
    assert exact.transition.shape == (4, 4)


def test_a_tabled_tit_for_tat_scores_as_axelrods_in_a_seeded_tournament():
    axl = pytest.importorskip("axelrod")
    from matrix_games.strategies.axelrod_adapter import axelrod_player

    ours = axelrod_player(TabledStrategy(TFT_TABLE, first=1.0, label="Tabled TFT"))
    field = [axl.Cooperator(), axl.Defector(), axl.Random(), axl.WinStayLoseShift(), axl.GTFT()]
    with_ours = axl.Tournament([ours, *[p.clone() for p in field]], turns=30, repetitions=4, seed=7).play(
        progress_bar=False
    )
    with_theirs = axl.Tournament([axl.TitForTat(), *[p.clone() for p in field]], turns=30, repetitions=4, seed=7).play(
        progress_bar=False
    )
    assert with_ours.scores == with_theirs.scores
    assert ours.clone().strategy  # tournaments clone players


def test_a_strategy_without_an_exact_form_is_refused():
    from matrix_games.strategies import make_strategy

    class Moody(type(make_strategy("tit_for_tat"))):
        def act(self, history, rng):
            return D

    with pytest.raises(ValueError, match="has no exact form"):
        strategy_player(Moody())
