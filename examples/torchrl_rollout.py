"""TorchRL on our environments: the PettingZoo env through ``PettingZooWrapper`` and the Gymnasium view through
``GymEnv``, checked with TorchRL's ``check_env_specs`` and rolled out into TensorDicts.

Both need numeric (or one-hot) observations: TorchRL has no spec for the prompt text. The PettingZoo env's infos are
numbers with the same keys at reset and at every step, so TorchRL turns them into tensors (``("player", "info",
"game_reward")`` and the rest); the moral reward of a round is ``MoralRewardParallel``'s. The example prints the
TensorDict's keys and shapes, the mean reward per player under a random policy, and the rollout speed.

Run: ``python examples/torchrl_rollout.py [--steps 1000] [--reward deontological]``.
"""

from __future__ import annotations

import argparse
import time
import warnings

import pettingzoo
from torchrl.envs import GymEnv
from torchrl.envs.libs.pettingzoo import PettingZooWrapper
from torchrl.envs.utils import check_env_specs

import matrix_games  # noqa: F401 - registers the environment ids
from matrix_games.envs.wrappers import MoralRewardParallel


def parallel_env(reward: str, observation_type: str = "numeric") -> PettingZooWrapper:
    env = pettingzoo.make("parallel", "matrix_games/IPD-v0", observation_type=observation_type)
    with warnings.catch_warnings():  # TorchRL warns that it was tested with another PettingZoo version
        warnings.simplefilter("ignore", UserWarning)
        return PettingZooWrapper(MoralRewardParallel(env, reward), return_state=False, use_mask=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000, help="rollout length [1000]")
    parser.add_argument("--reward", default="deontological", help="a reward name [deontological]")
    args = parser.parse_args()
    multi = parallel_env(args.reward)
    check_env_specs(multi)
    start = time.perf_counter()
    rollout = multi.rollout(args.steps, break_when_any_done=False)
    seconds = time.perf_counter() - start
    observation = rollout.get(("player", "observation"))
    print(f"PettingZooWrapper rollout: batch {tuple(rollout.batch_size)}, observation {tuple(observation.shape)}")
    print("  info tensors:", ", ".join(sorted(rollout.get(("next", "player", "info")).keys())))
    rewards = rollout.get(("next", "player", "reward")).mean(dim=0).squeeze(-1).tolist()
    print(f"mean {args.reward} reward per player under a random policy: {[round(r, 2) for r in rewards]}")
    print(f"{args.steps / seconds:,.0f} steps/s")
    single = GymEnv("matrix_games/IPD-v0", opponent="tit_for_tat", reward=args.reward, observation_type="one_hot")
    check_env_specs(single)
    steps = single.rollout(args.steps, break_when_any_done=False)
    print(
        f"GymEnv rollout: {tuple(steps.batch_size)}, observation {tuple(steps.get('observation').shape)}, mean "
        f"reward {steps.get(('next', 'reward')).mean().item():.2f}"
    )


if __name__ == "__main__":
    main()
