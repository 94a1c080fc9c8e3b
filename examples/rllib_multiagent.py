"""Two PPO agents learn the iterated prisoner's dilemma with Ray RLlib, under a moral reward or the game payoff.

What it shows: a ``matrix_games`` PettingZoo environment trains on RLlib's new API stack with no adapter of ours.
The parallel env with ``observation_type="one_hot"`` (a flat ``Box(0, 1, (8,), float32)``, which RLlib's default
MLP encoder takes as it is) is wrapped in ``MoralRewardParallel`` and RLlib's ``ParallelPettingZooEnv``; PPO learns
two separate policies, ``player_0`` and ``player_1``, one RLModule each. After every iteration it prints each
policy's mean episode return (under the training reward, 5 rounds an episode) and how often each player cooperates
in a rollout written by hand: greedy (argmax) and sampled actions over ``--eval-episodes`` episodes. A run repeats
exactly for the same ``--seed`` and ``PYTHONHASHSEED`` (RLlib keeps a step's agents in sets, so the order in which
their actions are drawn follows string hashing).

RLlib pins its own gymnasium (1.2.2 for ray 2.58, the main venv has 1.4), so it runs in a separate virtualenv,
which ``make test-rllib`` creates at ``.venv-rllib``:

    make test-rllib
    .venv-rllib/bin/python examples/rllib_multiagent.py --reward utilitarian --iterations 20
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pettingzoo
import torch
from ray.rllib.algorithms.ppo import PPOConfig
from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec
from ray.rllib.core.rl_module.rl_module import RLModule, RLModuleSpec
from ray.rllib.env.wrappers.pettingzoo_env import ParallelPettingZooEnv
from ray.tune.registry import register_env

import matrix_games  # noqa: F401  (registers the environment ids)
from matrix_games.envs.wrappers import MoralRewardParallel

ENV_NAME = "matrix_games_ipd"
PLAYERS = ("player_0", "player_1")
REWARDS = ("game", "deontological", "utilitarian", "game_deontological")


def make_env(reward: str) -> MoralRewardParallel:
    """The 5-round IPD as a PettingZoo parallel env with flat one-hot observations, paying ``reward`` to both."""
    env = pettingzoo.make("parallel", "matrix_games/IPD-v0", observation_type="one_hot")
    return MoralRewardParallel(env, reward)


def build_config(reward: str = "utilitarian", seed: int = 0) -> PPOConfig:
    """PPO on the new API stack: one policy per player (``policy_mapping_fn`` maps each agent to its own module),
    sampling 8 envs in the driver process (``num_env_runners=0``), small batches so an iteration takes seconds."""
    register_env(ENV_NAME, lambda config: ParallelPettingZooEnv(make_env(config["reward"])))
    return (
        PPOConfig()
        .environment(ENV_NAME, env_config={"reward": reward})
        .env_runners(num_env_runners=0, num_envs_per_env_runner=8)
        # A list, not a set: the modules' (seeded) initialisation order must not depend on string hashing.
        .multi_agent(policies=list(PLAYERS), policy_mapping_fn=lambda agent_id, episode, **kwargs: agent_id)
        .rl_module(rl_module_spec=MultiRLModuleSpec(rl_module_specs={p: RLModuleSpec() for p in PLAYERS}))
        .training(train_batch_size_per_learner=1000, minibatch_size=250, num_epochs=10, lr=5e-4)
        .debugging(seed=seed)
    )


def act(module: RLModule, observation: np.ndarray, greedy: bool, generator: torch.Generator) -> int:
    """The module's action for one observation: its most likely one, or one drawn from its distribution."""
    with torch.no_grad():
        logits = module.forward_inference({"obs": torch.as_tensor(observation)[None]})["action_dist_inputs"][0]
    if greedy:
        return int(logits.argmax())
    return int(torch.multinomial(torch.softmax(logits, -1), 1, generator=generator))


def cooperation_rates(algo, *, episodes: int, greedy: bool, seed: int) -> dict[str, float]:
    """Fraction of C (action 0) each player's learned module plays over ``episodes`` fresh episodes (the reward
    plays no part in it)."""
    env, generator = make_env("game"), torch.Generator().manual_seed(seed)
    modules = {p: algo.get_module(p) for p in PLAYERS}
    cooperated: dict[str, list[bool]] = {p: [] for p in PLAYERS}
    for episode in range(episodes):
        observations, _ = env.reset(seed=seed if episode == 0 else None)
        while env.agents:
            actions = {p: act(modules[p], observations[p], greedy, generator) for p in env.agents}
            for player, action in actions.items():
                cooperated[player].append(action == 0)
            observations, *_ = env.step(actions)
    return {p: float(np.mean(c)) for p, c in cooperated.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reward", choices=REWARDS, default="utilitarian")
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--eval-episodes", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    # The modules are tiny: one thread is fastest, and more oversubscribe a busy CPU (up to 10x slower on 2 cores).
    torch.set_num_threads(1)
    start = time.perf_counter()
    algo = build_config(args.reward, args.seed).build_algo()
    print(f"reward {args.reward}, seed {args.seed}; cooperation = fraction of C over {args.eval_episodes} episodes")
    print("iter  return p0  return p1  coop greedy p0/p1  coop sampled p0/p1")
    for iteration in range(1, args.iterations + 1):
        returns = algo.train()["env_runners"]["module_episode_returns_mean"]
        greedy = cooperation_rates(algo, episodes=args.eval_episodes, greedy=True, seed=args.seed)
        sampled = cooperation_rates(algo, episodes=args.eval_episodes, greedy=False, seed=args.seed)
        print(
            f"{iteration:4d}  {returns['player_0']:9.2f}  {returns['player_1']:9.2f}  "
            f"{greedy['player_0']:8.2f} {greedy['player_1']:.2f}  {sampled['player_0']:11.2f} {sampled['player_1']:.2f}"
        )
    print(f"wall time {time.perf_counter() - start:.0f} s")
    algo.stop()


if __name__ == "__main__":
    main()
