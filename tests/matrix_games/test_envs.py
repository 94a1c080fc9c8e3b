"""Conformance (PettingZoo, Gymnasium), determinism and behaviour of the environments."""

from __future__ import annotations

import dataclasses
import warnings

import gymnasium
import numpy as np
import pettingzoo
import pytest
from gymnasium.utils.env_checker import check_env
from pettingzoo.env_registry.exceptions import NameNotFound
from pettingzoo.test import api_test, parallel_api_test, parallel_seed_test

import matrix_games
from matrix_games import ENV_IDS, IteratedMatrixGameEnv, IteratedMatrixGameVsStrategy, Strategy
from matrix_games.text import FIRST_ROUND_SENTENCE

OBSERVATION_TYPES = ("dict", "text", "numeric")
BOTH = ("player_0", "player_1")


def trajectory(env, seed: int, steps: int = 12) -> list:
    """Everything the env returns over ``steps`` steps (resetting at episode ends), with seeded random actions."""
    action_rng = np.random.default_rng(seed)
    record = [env.reset(seed=seed)]
    for _ in range(steps):
        if not env.agents:
            record.append(env.reset())
            continue
        n = env.action_space("player_0").n
        actions = {agent: int(action_rng.integers(n)) for agent in env.agents}
        record.append(env.step(actions))
    return record


def same(a, b) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    return a == b


@pytest.mark.parametrize("observation_type", OBSERVATION_TYPES)
@pytest.mark.parametrize("env_id", sorted(ENV_IDS))
def test_parallel_api(env_id, observation_type):
    env = pettingzoo.make("parallel", env_id, observation_type=observation_type, allow_illegal=True, noise=0.1)
    parallel_api_test(env, num_cycles=30)


@pytest.mark.parametrize("observation_type", ["dict", "numeric", "one_hot"])
def test_aec_api(observation_type):
    # PettingZoo's api_test needs array or dict observations: on a bare str it calls ``.dtype`` and crashes, so the
    # "text" observation type is checked by the parallel and Gymnasium tests instead (docs/observations.md).
    api_test(pettingzoo.make("aec", "matrix_games/IPD-v0", observation_type=observation_type), num_cycles=30)


@pytest.mark.parametrize("env_id", ["matrix_games/IPD-v0", "matrix_games/PublicGoods-v0"])
def test_one_hot_observations_encode_the_numeric_ones(env_id):
    kwargs = {"allow_illegal": True, "initial_state": "none", "noise": 0.2}
    numeric = pettingzoo.make("parallel", env_id, observation_type="numeric", **kwargs)
    one_hot = pettingzoo.make("parallel", env_id, observation_type="one_hot", **kwargs)
    rng = np.random.default_rng(0)
    observations = (numeric.reset(seed=3)[0], one_hot.reset(seed=3)[0])
    for _ in range(5):
        for agent in numeric.possible_agents:
            own, other = observations[0][agent]
            encoded = observations[1][agent]
            assert encoded.dtype == np.float32 and encoded.sum() == 2.0
            assert encoded[own] == 1.0 and encoded[4 + other] == 1.0
            assert one_hot.observation_space(agent).contains(encoded)
        actions = {agent: int(rng.integers(3)) for agent in numeric.possible_agents}
        observations = (numeric.step(actions)[0], one_hot.step(actions)[0])


def test_parallel_seed_test():
    parallel_seed_test(lambda: IteratedMatrixGameEnv(noise=0.3, continuation_probability=0.8))


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"noise": 0.3, "allow_illegal": True, "continuation_probability": 0.7, "num_rounds": 10},
        {"initial_state": "none", "prompt": "poetic", "observation_type": "text", "allow_illegal": True},
    ],
)
def test_whole_trajectories_are_reproducible(kwargs):
    # parallel_seed_test in PettingZoo 1.27 compares one step only; this compares every return value, texts included.
    first = trajectory(IteratedMatrixGameEnv(**kwargs), seed=7)
    second = trajectory(IteratedMatrixGameEnv(**kwargs), seed=7)
    assert same(first, second)
    assert not same(first, trajectory(IteratedMatrixGameEnv(**kwargs), seed=8))


@pytest.mark.parametrize("observation_type", OBSERVATION_TYPES)
@pytest.mark.parametrize("env_id", sorted(ENV_IDS))
def test_gymnasium_check_env(env_id, observation_type):
    env = gymnasium.make(env_id, observation_type=observation_type, render_mode="ansi", allow_illegal=True)
    check_env(env.unwrapped)


def test_registry_round_trips():
    for env_id, game in ENV_IDS.items():
        assert pettingzoo.make("parallel", env_id).game.name == game
        assert pettingzoo.make("aec", env_id).unwrapped.game.name == game
        assert gymnasium.make(env_id).unwrapped.game.name == game
    env = gymnasium.make("matrix_games/Chicken-v0", opponent="always_defect", reward="utilitarian", num_rounds=2)
    assert env.unwrapped.opponent.name == "always_defect" and env.unwrapped.two_player_env.num_rounds == 2
    assert pettingzoo.make("parallel", "matrix_games/StagHunt-v0", noise=0.25).noise == 0.25
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        matrix_games.register_envs()  # registering again changes nothing and does not warn
    assert gymnasium.spec("matrix_games/IPD-v0").kwargs == {"game": "prisoners_dilemma"}


def test_spaces_are_cached_and_match_the_options():
    env = IteratedMatrixGameEnv(allow_illegal=True)
    for agent in BOTH:
        assert env.observation_space(agent) is env.observation_space(agent)
        assert env.action_space(agent) is env.action_space(agent)
        assert env.action_space(agent).n == 3
    assert IteratedMatrixGameEnv().action_space("player_0").n == 2
    text_space = IteratedMatrixGameEnv(observation_type="text", action_labels=("coopérer", "trahir"))
    assert "é" in text_space.observation_space("player_0").character_set


def test_episode_lifecycle_and_infos():
    env = IteratedMatrixGameEnv(num_rounds=3)
    _, infos = env.reset(seed=0)
    assert set(infos) == set(BOTH) and all(isinstance(info, dict) for info in infos.values())
    for round_number in (1, 2, 3):
        _, rewards, terminations, truncations, infos = env.step({"player_0": 0, "player_1": 1})
        assert rewards == {"player_0": 0.0, "player_1": 4.0}
        assert infos["player_0"]["round"] == round_number
        assert terminations["player_0"] is (round_number == 3) and not truncations["player_0"]
    assert env.agents == []
    info = infos["player_1"]
    assert (info["action"], info["opponent_action"], info["game_reward"], info["opponent_game_reward"]) == (1, 0, 4, 0)
    assert info["opponent_previous_action"] == 0 and env.last_outcomes[1].payoff == 4.0
    with pytest.raises(ValueError, match="finished episode"):
        env.step({"player_0": 0, "player_1": 0})


def test_random_initial_state_draws_every_pair_and_shows_it():
    env = IteratedMatrixGameEnv()
    seen = set()
    for seed in range(40):
        observations, infos = env.reset(seed=seed)
        own, other = infos["player_0"]["previous_action"], infos["player_0"]["opponent_previous_action"]
        seen.add((own, other))
        assert list(observations["player_0"]["numeric"]) == [own, other]
        assert list(observations["player_1"]["numeric"]) == [other, own]
        labels = ("action1", "action2")
        assert (
            f"Last time, you played {labels[own]} and they played {labels[other]}" in observations["player_0"]["text"]
        )
    assert seen == {(0, 0), (0, 1), (1, 0), (1, 1)}


def test_player_one_sees_its_own_payoffs():
    env = IteratedMatrixGameEnv("bach_or_stravinsky", initial_state="none", observation_type="text")
    env.reset(seed=0)
    observations, rewards, *_ = env.step({"player_0": 1, "player_1": 1})
    assert rewards == {"player_0": 2.0, "player_1": 3.0}
    assert "so you got 2 points and A got 3 points" in observations["player_0"]
    assert "so you got 3 points and A got 2 points" in observations["player_1"]
    assert "| action1 |  2, 3     |  0, 0     |" in observations["player_1"]


def test_no_history_start():
    env = IteratedMatrixGameEnv(initial_state="none", allow_illegal=True)
    observations, infos = env.reset(seed=0)
    assert list(observations["player_0"]["numeric"]) == [3, 3]
    assert FIRST_ROUND_SENTENCE in observations["player_0"]["text"]
    assert infos["player_0"]["previous_action"] == 3  # numeric infos code "none" as 3
    observations, rewards, *_ = env.step({"player_0": 2, "player_1": 1})
    # player_0 answered illegally with no legal move before: -6 for it, 0 for the opponent (nothing to play against).
    assert rewards == {"player_0": -6.0, "player_1": 0.0}
    assert "they played action2; you have given no legal answer yet" in observations["player_0"]["text"]
    assert list(observations["player_0"]["numeric"]) == [2, 1]


def test_illegal_answer_keeps_the_last_legal_state():
    env = IteratedMatrixGameEnv(initial_state="none", allow_illegal=True)
    env.reset(seed=0)
    env.step({"player_0": 0, "player_1": 0})
    observations, rewards, _, _, infos = env.step({"player_0": 2, "player_1": 1})
    assert rewards == {"player_0": -6.0, "player_1": 4.0}  # the opponent scored against player_0's last legal C
    assert env.previous_actions == (0, 1) and infos["player_0"]["round"] == 2
    assert "Last time, you played action1 and they played action2" in observations["player_0"]["text"]
    assert list(observations["player_0"]["numeric"]) == [2, 1]


def test_noise_flips_legal_actions_and_info_keeps_both():
    env = IteratedMatrixGameEnv(noise=1.0, allow_illegal=True, observation_type="numeric")
    env.reset(seed=0)
    _, _, _, _, infos = env.step({"player_0": 0, "player_1": 2})
    assert (infos["player_0"]["intended_action"], infos["player_0"]["action"]) == (0, 1)
    assert (infos["player_1"]["intended_action"], infos["player_1"]["action"]) == (2, 2)  # illegal never flips
    env = IteratedMatrixGameEnv(noise=0.3, observation_type="numeric", num_rounds=400)
    env.reset(seed=1)
    flips = 0
    for _ in range(400):
        infos = env.step({"player_0": 0, "player_1": 1})[4]
        flips += sum(infos[a]["action"] != infos[a]["intended_action"] for a in BOTH)
    assert 0.24 < flips / 800 < 0.36


def test_continuation_probability():
    env = IteratedMatrixGameEnv(continuation_probability=0.0, observation_type="numeric")
    env.reset(seed=0)
    _, _, terminations, truncations, _ = env.step({"player_0": 0, "player_1": 0})
    assert terminations["player_0"] and not truncations["player_0"] and env.agents == []
    env = IteratedMatrixGameEnv(continuation_probability=1.0, num_rounds=4, observation_type="numeric")
    env.reset(seed=0)
    ends = [env.step({"player_0": 0, "player_1": 0})[2:4] for _ in range(4)]
    assert [t["player_0"] for _, t in ends] == [False, False, False, True]
    assert not any(t["player_0"] for t, _ in ends)
    env = IteratedMatrixGameEnv(continuation_probability=0.5, num_rounds=None, observation_type="numeric")
    lengths = []
    for seed in range(300):
        env.reset(seed=seed)
        while env.agents:
            env.step({"player_0": 0, "player_1": 0})
        lengths.append(env.round)
    assert 1.8 < np.mean(lengths) < 2.2  # geometric with mean 1 / (1 - 0.5)


def test_render():
    env = IteratedMatrixGameEnv(render_mode="ansi", noise=1.0)
    env.reset(seed=0)
    assert "before round 1 of 5" in env.render()
    env.step({"player_0": 0, "player_1": 0})
    text = env.render()
    assert isinstance(text, str) and "round 1 of 5" in text and "flipped by noise" in text
    assert IteratedMatrixGameEnv().render() is None


def test_vs_strategy_tit_for_tat_copies_the_drawn_previous_move():
    env = IteratedMatrixGameVsStrategy(opponent="tit_for_tat", observation_type="numeric")
    for seed in range(8):
        _, info = env.reset(seed=seed)
        learner_previous = info["previous_action"]
        _, _, _, _, info = env.step(0)
        assert info["opponent_action"] == learner_previous
        _, _, _, _, info = env.step(1)
        assert info["opponent_action"] == 0


class CountingRandom(Strategy):
    """A strategy that plays at random from the env's generator and counts its resets."""

    name = "counting_random"

    def __init__(self) -> None:
        self.resets = 0

    def reset(self) -> None:
        self.resets += 1

    def act(self, history, rng):
        return int(rng.integers(2))


def test_vs_strategy_seeds_and_resets_the_strategy():
    def opponent_moves(seed):
        env = IteratedMatrixGameVsStrategy(opponent=CountingRandom(), num_rounds=20, observation_type="numeric")
        env.reset(seed=seed)
        return [env.step(0)[4]["opponent_action"] for _ in range(20)], env.opponent.resets

    moves, resets = opponent_moves(3)
    assert resets == 1 and moves == opponent_moves(3)[0] and moves != opponent_moves(4)[0]


def test_vs_strategy_history_is_from_the_strategys_view():
    env = IteratedMatrixGameVsStrategy(initial_state="none", opponent="always_defect", observation_type="numeric")
    env.reset(seed=0)
    assert len(env.opponent_history) == 0
    env.step(0)
    env.step(1)
    assert env.opponent_history.own_actions == (1, 1) and env.opponent_history.opponent_actions == (0, 1)


def test_vs_strategy_reward_shortcut_keeps_the_game_payoff():
    env = gymnasium.make(
        "matrix_games/IPD-v0",
        opponent="always_cooperate",
        reward="deontological",
        initial_state="none",
        observation_type="numeric",
    )
    env.reset(seed=0)
    assert env.step(0)[1] == 0.0
    _, reward, _, _, info = env.step(1)  # defect right after the opponent cooperated
    assert reward == -3.0 and info["game_reward"] == 4.0 and info["moral_reward"] == -3.0
    assert info["reward_name"] == "deontological"


def test_vs_strategy_reward_schedule_switches_by_episode():
    env = gymnasium.make("matrix_games/IPD-v0", opponent="always_cooperate", reward="game:2,utilitarian", num_rounds=1)
    rewards = []
    for episode in range(4):
        env.reset(seed=episode)
        rewards.append(env.step(0)[1])
    assert rewards == [3.0, 3.0, 6.0, 6.0]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: IteratedMatrixGameEnv("prisoners_dilema"), "Did you mean 'prisoners_dilemma'"),
        (lambda: IteratedMatrixGameEnv(action_labels=("x", "x")), "two different labels"),
        (lambda: IteratedMatrixGameEnv(action_labels="xy"), "pair of strings"),
        (lambda: IteratedMatrixGameEnv(observation_type="image"), "Invalid observation_type 'image'"),
        (lambda: IteratedMatrixGameEnv(initial_state="zero"), "Invalid initial_state"),
        (lambda: IteratedMatrixGameEnv(prompt="limerick"), "Invalid prompt 'limerick'"),
        (lambda: IteratedMatrixGameEnv(noise=1.5), "Invalid noise 1.5"),
        (lambda: IteratedMatrixGameEnv(num_rounds=0), "num_rounds must be an integer >= 1, got 0"),
        (lambda: IteratedMatrixGameEnv(num_rounds=None), "only with a continuation_probability"),
        (lambda: IteratedMatrixGameEnv(render_mode="rgb_array"), "Invalid render_mode 'rgb_array'"),
        (lambda: gymnasium.make("matrix_games/IPD-v0", reward="deontologic"), "Did you mean 'deontological'"),
        (lambda: IteratedMatrixGameVsStrategy(opponent="tit_for_tatt"), "Unknown strategy 'tit_for_tatt'"),
        (lambda: gymnasium.make("matrix_games/IPD-v0", reward="virtue"), "Unknown reward 'virtue'"),
    ],
)
def test_bad_arguments_raise_clear_errors(make, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make()


def test_bad_actions_raise_clear_errors():
    env = IteratedMatrixGameEnv()
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"Invalid action 2.*allow_illegal=True"):
        env.step({"player_0": 2, "player_1": 0})
    with pytest.raises(ValueError, match="one action per live agent"):
        env.step({"player_0": 0})
    single = IteratedMatrixGameVsStrategy()
    single.reset(seed=0)
    with pytest.raises(ValueError, match="Invalid action 'C'"):
        single.step("C")
    with pytest.raises(ValueError, match="Unknown agent 'player_2'"):
        env.observation_space("player_2")


def test_unknown_ids_raise_the_libraries_errors():
    with pytest.raises(gymnasium.error.NameNotFound):
        gymnasium.make("matrix_games/Poker-v0")
    with pytest.raises(NameNotFound, match="not found in registry"):
        pettingzoo.make("parallel", "matrix_games/Poker-v0")


def test_last_outcomes_are_round_outcomes_and_infos_hold_numbers_only():
    env = IteratedMatrixGameEnv(observation_type="numeric", initial_state="none")
    assert env.last_outcomes is None
    _, reset_infos = env.reset(seed=0)
    infos = env.step({"player_0": 1, "player_1": 0})[4]
    outcome = env.last_outcomes[0]
    assert outcome.game_reward == infos["player_0"]["game_reward"] == 4.0
    assert dataclasses.asdict(outcome)["game_rewards"] == (4.0, 0.0)
    # same keys at reset and step, every value a number or a tuple of numbers (what TorchRL's wrapper needs)
    for agent in BOTH:
        assert set(reset_infos[agent]) == set(infos[agent])
        for value in (*reset_infos[agent].values(), *infos[agent].values()):
            assert isinstance(value, (int, float)) or all(isinstance(v, int) for v in value)
    assert reset_infos["player_0"]["previous_actions"] == (3, 3) and infos["player_0"]["previous_actions"] == (3, 3)
    assert env.reset(seed=0)[1] == reset_infos


@pytest.mark.parametrize(
    "kwargs",
    [
        {"noise": 0.3, "allow_illegal": True},
        {"game": "stag_hunt", "allow_illegal": True, "initial_state": "none", "illegal_reward": -2.5},
        {"game": "public_goods", "num_players": 4, "allow_illegal": True, "noise": 0.2},
    ],
)
def test_round_outcomes_rebuild_each_step_from_its_infos(kwargs):
    # The numeric infos a step returns hold the whole round: rebuilt, they equal the env's own outcomes.
    from matrix_games.envs.infos import round_outcomes

    kwargs = dict(kwargs)
    game = kwargs.pop("game", "prisoners_dilemma")
    if game == "public_goods":
        from matrix_games.core.public_goods import PublicGoodsGame

        game = PublicGoodsGame(num_players=kwargs.pop("num_players"))
    env = IteratedMatrixGameEnv(game, observation_type="numeric", num_rounds=4, **kwargs)
    rng = np.random.default_rng(0)
    steps = 0
    for seed in range(6):
        env.reset(seed=seed)
        while env.agents:
            infos = env.step({agent: int(rng.integers(3)) for agent in env.agents})[4]
            settings = env.settings
            rebuilt = round_outcomes(infos, settings.stage_game, illegal_reward=settings.illegal_reward)
            assert rebuilt == env.last_outcomes
            steps += 1
    assert steps == 24


def test_settings_read_as_attributes_of_the_env():
    env = IteratedMatrixGameEnv("stag_hunt", noise=0.25, num_rounds=7, action_labels=("X", "Y"))
    for name in matrix_games.GameSettings.field_names():
        assert getattr(env, name) == getattr(env.settings, name), name
    assert (env.game.name, env.noise, env.num_rounds, env.action_labels) == ("stag_hunt", 0.25, 7, ("X", "Y"))
    with pytest.raises(AttributeError, match="no_such_setting"):
        env.no_such_setting  # noqa: B018


def test_a_round_log_reads_like_its_outcome():
    from matrix_games.core.records import RoundLog
    from matrix_games.core.rounds import RoundOutcome, play_round

    game = matrix_games.get_game("prisoners_dilemma")
    outcome = play_round(game, (2, 1), (0, None), illegal_reward=-6.0)[0]
    log = RoundLog(outcome, episode=3)
    views = [name for name, value in vars(RoundOutcome).items() if isinstance(value, property)]
    fields = [field.name for field in dataclasses.fields(RoundOutcome)]
    for name in {*views, *fields} - {"player"}:  # a log's player is its agent name
        assert getattr(log, name) == getattr(outcome, name), name
    assert log.player == "player_0" and not log.legal and log.action == 2 and log.game_reward == -6.0


def test_an_action_after_the_end_on_the_aec_view_is_a_clear_error():
    """PettingZoo's conversion raises a bare AssertionError(); ours names the agent, the rule and the fix."""
    env = pettingzoo.make("aec", "matrix_games/IPD-v0", num_rounds=1)
    env.reset(seed=0)
    env.step(0)
    env.step(0)
    with pytest.raises(ValueError, match=r"player_0's game has terminated, so its only valid action is None, got 0"):
        env.step(0)
    for _ in env.agent_iter():  # the documented way still ends the episode
        env.step(None)
    assert env.agents == []
