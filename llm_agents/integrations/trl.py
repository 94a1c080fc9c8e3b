"""TRL's ``GRPOTrainer`` on our environments: a dataset of game states and a reward function that plays them.

Each dataset row is one state of an iterated game: the prompt a player reads (``gymnasium.make(ID,
observation_type="text", ...)`` reset with the row's ``env_seed``, as a chat message) and that seed. TRL samples
``num_generations`` answers to each prompt (its group); ``GameReward`` rebuilds the same state from the seed, parses
each answer into an action with our labels (an answer that is neither label is illegal: ``illegal_reward``), plays
the round against the strategy and returns the round's reward (any reward name, with its parameters). So a TRL run
is our round-level setting (the paper's PPO also scores each round on its own), with TRL's generation, batching,
logging and checkpoints.

What TRL's trainer cannot do that ``llm-agents train`` does (docs/training.md): two learners, an adaptive KL
coefficient or PPO with a value head, reward schedules, whole episodes against a learning opponent, our run folder
(``rounds.jsonl``, exact resume, reports). TRL's environment hooks (``rollout_func``, ``environment_factory``) are
experimental; this bridge needs neither. Tested with trl 1.16 (the ``trl`` extra pins ``trl>=1.16,<1.17``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium

import matrix_games  # noqa: F401 - registers the ids
from llm_agents.agent.chat import build_messages
from llm_agents.agent.generation import label_token_count
from llm_agents.agent.parsing import ParseMode, parse_action
from matrix_games.actions import ILLEGAL
from matrix_games.registration import NAMESPACE, env_id


def make_env(game: str, opponent: str, reward: str, labels: tuple[str, str], **settings: Any) -> gymnasium.Env:
    """The single-agent view the dataset and the reward share: text observations, illegal answers allowed."""
    return gymnasium.make(
        f"{NAMESPACE}/{env_id(game)}",
        opponent=opponent,
        reward=reward,
        observation_type="text",
        action_labels=tuple(labels),
        allow_illegal=True,
        **settings,
    )


def state_dataset(
    game: str = "IPD-v0",
    *,
    opponent: str = "tit_for_tat",
    labels: tuple[str, str] = ("C", "D"),
    num_states: int = 64,
    seed: int = 0,
    **settings: Any,
):
    """A ``datasets.Dataset`` of ``num_states`` game states: ``prompt`` (one user message) and ``env_seed``."""
    import datasets

    env = make_env(game, opponent, "game", labels, **settings)
    rows = {"prompt": [], "env_seed": []}
    for index in range(num_states):
        env_seed = seed * 1_000_003 + index
        text, _ = env.reset(seed=env_seed)
        rows["prompt"].append(build_messages(text))  # the messages our own agent sends (llm_agents.agent.chat)
        rows["env_seed"].append(env_seed)
    return datasets.Dataset.from_dict(rows)


def answer_length(tokenizer: Any, labels: tuple[str, str] = ("C", "D")) -> int:
    """The completion length to give TRL (``max_completion_length``): what our agent samples, the most tokens a
    label takes. A longer completion makes a label followed by anything an illegal answer under strict parsing."""
    return label_token_count(tokenizer, labels)


class GameReward:
    """A TRL reward function: the reward of playing each completion in the state of its row's ``env_seed``.

    Example:
        >>> reward = GameReward("IPD-v0", opponent="always_cooperate", reward="utilitarian")
        >>> reward(prompts=[None, None], completions=["C", "nonsense"], env_seed=[0, 0])
        [6.0, -6.0]
    """

    def __init__(
        self,
        game: str = "IPD-v0",
        *,
        opponent: str = "tit_for_tat",
        reward: str = "game",
        labels: tuple[str, str] = ("C", "D"),
        parse_mode: ParseMode = "strict",
        **settings: Any,
    ) -> None:
        self.env = make_env(game, opponent, reward, labels, **settings)
        self.labels, self.parse_mode = tuple(labels), parse_mode
        self.__name__ = f"{reward}_vs_{opponent}"  # TRL logs each reward function under its name

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], env_seed: Sequence[int], **_: Any):
        rewards = []
        for completion, seed in zip(completions, env_seed, strict=True):
            text = completion[-1]["content"] if isinstance(completion, list) else str(completion)
            action = parse_action(text, self.labels, self.parse_mode)  # type: ignore[arg-type]
            self.env.reset(seed=int(seed))
            rewards.append(float(self.env.step(ILLEGAL if action is None else action)[1]))
        return rewards
