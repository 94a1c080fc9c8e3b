"""The vectorised engine plays the same rounds as the single envs, with every reward, and checks its input."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest

import matrix_games  # noqa: F401 - registers the ids
from matrix_games.core.actions import NO_MOVE
from matrix_games.core.rounds import RoundOutcome
from matrix_games.envs.parallel_env import IteratedMatrixGameEnv
from matrix_games.envs.registration import ENV_IDS
from matrix_games.rewards import REWARD_NAMES, make_reward_fn
from matrix_games.rewards.registry import RewardParameters
from matrix_games.strategies import Strategy
from matrix_games.vector import BatchedParallelEnv, MatrixGameVectorEnv, VectorRound, vector_reward_fn

DETERMINISTIC = [
    "tit_for_tat",
    "suspicious_tit_for_tat",
    "grim_trigger",
    "tit_for_two_tats",
    "two_tits_for_tat",
    "win_stay_lose_shift",
    "alternator",
    "always_defect",
]


def learner_moves(num_games: int, num_steps: int, seed: int = 7) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2, size=(num_steps, num_games))


def single_trajectory(env_id, moves, seed, **kwargs):
    env = gymnasium.make(env_id, observation_type="numeric", **kwargs)
    observation, _ = env.reset(seed=seed)
    trajectory = [observation.tolist()]
    for move in moves:
        observation, reward, terminated, truncated, info = env.step(int(move))
        trajectory.append((observation.tolist(), reward, terminated, info["opponent_action"]))
        if terminated or truncated:
            break
    return trajectory


def vector_trajectories(env, moves):
    observations, _ = env.reset(seed=0)
    trajectories = [[row.tolist()] for row in observations]
    for step in moves:
        observations, rewards, terminated, _, infos = env.step(step)
        for game, trajectory in enumerate(trajectories):
            opponent = int(infos["opponent_action"][game])
            trajectory.append((observations[game].tolist(), float(rewards[game]), bool(terminated[game]), opponent))
    return trajectories


@pytest.mark.parametrize("opponent", DETERMINISTIC)
@pytest.mark.parametrize("reward", ["game", "deontological", "utilitarian"])
def test_same_trajectories_as_the_single_env_from_no_history(opponent, reward):
    moves = learner_moves(12, 5)
    env = MatrixGameVectorEnv(num_envs=12, opponent=opponent, reward=reward, initial_state="none")
    got = vector_trajectories(env, moves)
    for game in range(12):
        expected = single_trajectory(
            "matrix_games/IPD-v0", moves[:, game], 0, opponent=opponent, reward=reward, initial_state="none"
        )
        assert got[game] == expected, (opponent, reward, game)


@pytest.mark.parametrize("opponent", ["tit_for_tat", "conditional_cooperator", "group_grim_trigger"])
def test_same_trajectories_in_the_public_goods_game_from_every_random_start(opponent):
    """With a random initial state the games start from drawn states; each is compared with a single env whose seed
    draws the same start (the two draw with different generators)."""
    settings = {"num_players": 4, "opponent": opponent, "reward": "game+deontological"}
    env = MatrixGameVectorEnv("public_goods", num_envs=32, **settings)
    moves = learner_moves(32, 5, seed=3)
    got = vector_trajectories(env, moves)
    starts = {}
    for seed in range(300):
        single = gymnasium.make("matrix_games/PublicGoods-v0", observation_type="numeric", **settings)
        starts.setdefault(single.reset(seed=seed)[1]["previous_actions"], seed)
    checked = 0
    for game in range(32):
        first = got[game][0]
        candidates = [s for state, s in starts.items() if [state[0], sum(m == 0 for m in state[1:])] == first]
        for seed in candidates[:1]:
            single = single_trajectory("matrix_games/PublicGoods-v0", moves[:, game], seed, **settings)
            if single[1][3] == got[game][1][3]:  # the same start seen by the strategies, not only by the learner
                assert got[game] == single
                checked += 1
    assert checked >= 10


def test_per_game_seeds_make_a_game_independent_of_its_batch():
    seeds = list(range(100, 164))
    big = MatrixGameVectorEnv(num_envs=64, opponent="random", noise=0.2, continuation_probability=0.8)
    observations, _ = big.reset(seed=seeds)
    small = MatrixGameVectorEnv(num_envs=1, opponent="random", noise=0.2, continuation_probability=0.8)
    alone, _ = small.reset(seed=[seeds[17]])
    assert observations[17].tolist() == alone[0].tolist()
    for step in learner_moves(64, 30):
        a = big.step(step)
        b = small.step(step[17:18])
        for left, right in zip(a[:4], b[:4], strict=True):
            assert np.array_equal(left[17], right[0])


def test_noise_and_random_opponents_give_the_single_envs_frequencies():
    """Counts from the vector env and from the single env agree within 5 standard errors of a binomial."""
    settings = {"opponent": "random", "noise": 0.1, "num_rounds": 5}
    vector = MatrixGameVectorEnv(num_envs=2000, reward="deontological", **settings)
    vector.reset(seed=1)
    v_rounds = v_coop = v_penalty = 0
    for _ in range(5):
        _, rewards, *_, infos = vector.step(np.zeros(2000, dtype=np.int64))
        v_rounds += 2000
        v_coop += int((infos["opponent_action"] == 0).sum())
        v_penalty += int((rewards < 0).sum())
    single = gymnasium.make("matrix_games/IPD-v0", observation_type="numeric", reward="deontological", **settings)
    s_rounds = s_coop = s_penalty = 0
    for episode in range(1000):
        single.reset(seed=episode)
        for _ in range(5):
            _, reward, *_, info = single.step(0)
            s_rounds += 1
            s_coop += info["opponent_action"] == 0
            s_penalty += reward < 0
    for v, s in ((v_coop, s_coop), (v_penalty, s_penalty)):
        p_v, p_s = v / v_rounds, s / s_rounds
        pooled = (v + s) / (v_rounds + s_rounds)
        se = np.sqrt(pooled * (1 - pooled) * (1 / v_rounds + 1 / s_rounds))
        assert abs(p_v - p_s) < 5 * se, (p_v, p_s)
    assert 0.45 < v_coop / v_rounds < 0.55  # the opponent's p = 0.5 (noise flips it symmetrically)


def random_rounds(num_players: int, size: int = 300, seed: int = 0) -> VectorRound:
    """Rounds of every kind, illegal answers and missing states included, scored by the engine."""
    from matrix_games.envs.settings import GameSettings
    from matrix_games.vector.engine import VectorGame

    game = "public_goods" if num_players > 2 else "prisoners_dilemma"
    extra = {"game": GameSettings(game).game} if num_players == 2 else {}
    settings = GameSettings(allow_illegal=True, initial_state="none", **extra)
    if num_players > 2:
        from matrix_games.core.public_goods import PublicGoodsGame

        settings = settings.replace(game=PublicGoodsGame(num_players=num_players))
    engine = VectorGame(settings, size)
    engine.seed(seed)
    engine.reset()
    rng = np.random.default_rng(seed)
    engine.play(rng.integers(0, 3, size=(size, num_players)))  # leaves some states missing
    return engine.play(rng.integers(0, 3, size=(size, num_players)))


@pytest.mark.parametrize("num_players", [2, 4])
@pytest.mark.parametrize("name", [*REWARD_NAMES, "0.5*game+utilitarian-virtue_kindness"])
def test_every_reward_on_a_batch_equals_the_scalar_reward(name, num_players):
    parameters = RewardParameters(deontological_penalty=2.5, kindness=1.5, inequity_alpha=2.0, inequity_beta=0.3)
    played = random_rounds(num_players)
    got = vector_reward_fn(name, illegal_reward=-6.0, parameters=parameters)(played)
    scalar = make_reward_fn(name, illegal_reward=-6.0, parameters=parameters)
    for b in range(played.actions.shape[0]):
        previous = tuple(None if m == NO_MOVE else int(m) for m in played.previous[b])
        outcome = RoundOutcome(
            0,
            tuple(int(m) for m in played.actions[b]),
            previous,
            tuple(played.game_rewards[b].tolist()),
            tuple(played.payoffs[b].tolist()),
        )
        for player in range(num_players):
            assert got[b, player] == pytest.approx(scalar(outcome.seen_by(player))), (b, player)


def test_a_strategy_without_vector_form_falls_back_with_a_warning_and_plays_the_same():
    class CooperateAfterTwoCooperations(Strategy):
        name = "cautious"

        def act(self, history, rng):
            return 0 if history.opponent_actions[-2:] == (0, 0) else 1

    moves = learner_moves(6, 5)
    with pytest.warns(UserWarning, match="no vectorised form.*PerGameStrategy"):
        env = MatrixGameVectorEnv(num_envs=6, opponent=CooperateAfterTwoCooperations(), initial_state="none")
    got = vector_trajectories(env, moves)
    for game in range(6):
        expected = single_trajectory(
            "matrix_games/IPD-v0", moves[:, game], 0, opponent=CooperateAfterTwoCooperations(), initial_state="none"
        )
        assert got[game] == expected


def test_make_vec_builds_the_native_vector_env_for_every_id():
    for env_id in ENV_IDS:
        env = gymnasium.make_vec(env_id, num_envs=5, vectorization_mode="vector_entry_point", reward="utilitarian")
        assert isinstance(env, gymnasium.vector.VectorEnv) and isinstance(env.unwrapped, MatrixGameVectorEnv)
        observations, _ = env.reset(seed=0)
        assert observations.shape == (5, 2) and env.observation_space.contains(observations)
        observations, rewards, *_ = env.step(env.action_space.sample())
        assert rewards.shape == (5,) and env.observation_space.contains(observations)
    one_hot = gymnasium.make_vec("matrix_games/IPD-v0", num_envs=3, observation_type="one_hot")
    observations, _ = one_hot.reset(seed=0)
    assert observations.shape == (3, 8) and one_hot.observation_space.contains(observations)


def test_next_step_autoreset_as_gymnasium_defines_it():
    env = MatrixGameVectorEnv(num_envs=2, num_rounds=2, opponent="always_cooperate")
    env.reset(seed=0)
    env.step(np.array([0, 0]))
    _, rewards, terminated, *_ = env.step(np.array([0, 0]))
    assert terminated.all() and rewards.tolist() == [3.0, 3.0]
    observations, rewards, terminated, _, infos = env.step(np.array([1, 1]))  # the reset step
    assert rewards.tolist() == [0.0, 0.0] and not terminated.any() and infos["round"].tolist() == [0, 0]
    assert observations.tolist() == (env.engine.state.astype(int)).tolist()
    same = MatrixGameVectorEnv(num_envs=2, num_rounds=2, autoreset_mode="same_step")
    same.reset(seed=0)
    same.step(np.array([0, 0]))
    _, _, terminated, _, infos = same.step(np.array([1, 0]))
    assert terminated.all() and infos["_final_obs"].all() and infos["final_obs"][0].tolist() == [1, 0]


def test_batched_parallel_env_equals_the_parallel_env():
    moves = np.random.default_rng(5).integers(0, 2, size=(6, 8, 2))
    batched = BatchedParallelEnv(num_games=8, reward=["deontological", "utilitarian"], initial_state="none")
    batched.reset(seed=0)
    rewards_seen = []
    for step in moves[:5]:
        _, rewards, terminated, *_ = batched.step(step)
        rewards_seen.append(rewards)
    scalar = [make_reward_fn("deontological"), make_reward_fn("utilitarian")]
    for game in range(8):
        env = IteratedMatrixGameEnv(observation_type="numeric", initial_state="none", num_rounds=5)
        env.reset(seed=0)
        for step, rewards in zip(moves[:5], rewards_seen, strict=True):
            env.step({"player_0": int(step[game, 0]), "player_1": int(step[game, 1])})
            expected = [scalar[p](env.last_outcomes[p]) for p in (0, 1)]
            assert rewards[game].tolist() == expected
    assert terminated.all()


@pytest.mark.parametrize(
    ("actions", "message"),
    [
        (np.zeros(3, dtype=np.int64), r"shape \(3,\): expected \(4,\)"),
        (np.zeros(4), "dtype float64: expected an integer dtype; cast with actions.astype"),
        (np.zeros(4, dtype=bool), "dtype bool"),
        (
            np.array([0, 1, 2, 0]),
            "Invalid action 2 at game 2: expected an integer, 0 .C. or 1 .D.; build the env with allow_illegal=True",
        ),
        (np.array([0, -1, 0, 0]), "Invalid action -1 at game 1"),
    ],
)
def test_bad_actions_are_named(actions, message):
    env = MatrixGameVectorEnv(num_envs=4)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=message):
        env.step(actions)


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match=r"observation_type 'text' for the vectorised engine.*mode='sync'"):
        MatrixGameVectorEnv(num_envs=2, observation_type="text")
    with pytest.raises(ValueError, match="num_envs must be a positive whole number of games, got 0"):
        MatrixGameVectorEnv(num_envs=0)
    with pytest.raises(ValueError, match="reward schedule"):
        MatrixGameVectorEnv(num_envs=2, reward="game:10,deontological:10")
    with pytest.raises(ValueError, match=r"Unknown reward 'utilitarain'.*Did you mean 'utilitarian'"):
        MatrixGameVectorEnv(num_envs=2, reward="utilitarain")
    with pytest.raises(ValueError, match="2 seeds for 3 games"):
        MatrixGameVectorEnv(num_envs=3).reset(seed=[1, 2])
