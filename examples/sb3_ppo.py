"""Stable-Baselines3 PPO on our Gymnasium view: an MLP policy learns the Iterated Prisoner's Dilemma against a
baseline strategy under a moral reward, with no LLM.

``gymnasium.make("matrix_games/IPD-v0", opponent=..., reward=..., observation_type="numeric")`` is a plain
Gymnasium env (``MultiDiscrete([4, 4])`` observations, which SB3 one-hot encodes itself; ``"one_hot"`` gives the
same as a flat Box), so SB3's ``PPO("MlpPolicy", env)`` trains on it unchanged, here on ``--envs`` copies in SB3's
``DummyVecEnv``. The default observation (``"dict"``, with the prompt text) is for LLM agents: SB3 rejects its
``Text`` part. The example prints the cooperation rate and the rate of defecting right after the opponent cooperated
(what the deontological reward punishes) of the greedy policy before and after training, and the training speed.

Run: ``python examples/sb3_ppo.py [--reward utilitarian] [--opponent tit_for_tat] [--timesteps 20000] [--seed 0]``.
"""

from __future__ import annotations

import argparse
import time

import gymnasium
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env

import matrix_games  # noqa: F401 - registers the environment ids


def make_env(reward: str, opponent: str, observation_type: str = "numeric") -> gymnasium.Env:
    return gymnasium.make("matrix_games/IPD-v0", opponent=opponent, reward=reward, observation_type=observation_type)


def greedy_rates(model: PPO, env: gymnasium.Env, episodes: int = 200, seed: int = 10_000) -> tuple[float, float]:
    """(cooperation rate, betrayal rate) of the greedy policy over ``episodes`` 5-round episodes."""
    moves = betrayals = 0
    cooperations = 0
    for episode in range(episodes):
        observation, info = env.reset(seed=seed + episode)
        done = False
        while not done:
            action, _ = model.predict(observation, deterministic=True)
            observation, _, terminated, truncated, info = env.step(int(action))
            moves += 1
            cooperations += info["action"] == 0
            betrayals += info["action"] == 1 and info["opponent_previous_action"] == 0
            done = terminated or truncated
    return cooperations / moves, betrayals / moves


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reward", default="utilitarian", help="a reward name or sum [utilitarian]")
    parser.add_argument("--opponent", default="tit_for_tat", help="a strategy name [tit_for_tat]")
    parser.add_argument("--timesteps", type=int, default=20_000, help="PPO environment steps [20000]")
    parser.add_argument("--envs", type=int, default=8, help="envs in SB3's DummyVecEnv [8]")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    train_env = make_vec_env(lambda: make_env(args.reward, args.opponent), n_envs=args.envs, seed=args.seed)
    model = PPO("MlpPolicy", train_env, n_steps=128, batch_size=256, gamma=0.0, seed=args.seed, device="cpu")
    test_env = make_env(args.reward, args.opponent)
    before = greedy_rates(model, test_env)
    start = time.perf_counter()
    model.learn(total_timesteps=args.timesteps)
    seconds = time.perf_counter() - start
    after = greedy_rates(model, test_env)
    print(
        f"reward {args.reward} vs {args.opponent}: {args.timesteps} steps in {seconds:.1f} s "
        f"({args.timesteps / seconds:,.0f} steps/s)"
    )
    print(f"cooperation before {before[0]:.2f}, after {after[0]:.2f}")
    print(f"betrayal before {before[1]:.2f}, after {after[1]:.2f}")


if __name__ == "__main__":
    main()
